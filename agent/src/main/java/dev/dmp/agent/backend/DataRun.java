package dev.dmp.agent.backend;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The last run of data a file's {@code lseek(SEEK_DATA / SEEK_HOLE)} found, kept so that the queries
 * that follow inside it are answered without asking the kernel again. On tmpfs each SEEK_HOLE walks
 * every page up to the next hole (8.5 ms from the start of a dense GiB, measured), so a sequential copy
 * that asked per READ or per BLOCK_STATUS spent its time there. qemu keeps the same kind of memory
 * ("block-status cache" of data regions) for the same reason.
 *
 * <p>Only data is remembered, and data is never a wrong answer: a range reported as data where the
 * file now has a hole reads back as its zeroes. Writes only turn holes into data, so they leave the run
 * true; a punched hole or zeroed range makes this file {@link #forget} it, and a query that began before
 * such a change does not store what it found (its generation is old).
 */
final class DataRun {
    private record Run(long from, long to, long generation) {}

    private final AtomicReference<Run> run = new AtomicReference<>(new Run(0, 0, 0));

    /** What a query notes when it begins, to pass to {@link #remember}. */
    long generation() {
        return run.get().generation();
    }

    /** Where the remembered run that holds {@code position} ends, or -1 when none does. */
    long endOf(long position) {
        Run r = run.get();
        return position >= r.from() && position < r.to() ? r.to() : -1;
    }

    /** Remembers [from, to) as data, unless something was forgotten since {@code generation}. */
    void remember(long from, long to, long generation) {
        Run r = run.get();
        if (r.generation() == generation) {
            run.compareAndSet(r, new Run(from, to, generation));
        }
    }

    /** The file may have new holes: nothing remembered holds any more. */
    void forget() {
        run.updateAndGet(r -> new Run(0, 0, r.generation() + 1));
    }
}
