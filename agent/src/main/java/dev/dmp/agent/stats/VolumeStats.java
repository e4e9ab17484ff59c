package dev.dmp.agent.stats;

import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of one volume. They only go up: a reset does not clear them but moves the baseline the
 * old view is measured from and starts a new generation, so that the controller (and any other
 * consumer of the running totals) can tell a reset from lost data.
 *
 * <p>Recording is called on the I/O path by many connections at once; {@link LongAdder} keeps that free
 * of locks and contention. Baseline and generation change only under {@link StatsJournal}'s lock.
 */
public final class VolumeStats {
    private final LongAdder readRequests = new LongAdder();
    private final LongAdder readBytes = new LongAdder();
    private final LongAdder writeRequests = new LongAdder();
    private final LongAdder writeBytes = new LongAdder();

    private volatile StatsSnapshot baseline = StatsSnapshot.ZERO;
    private volatile long generation;

    public void recordRead(long bytes) {
        readRequests.increment();
        readBytes.add(bytes);
    }

    public void recordWrite(long bytes) {
        writeRequests.increment();
        writeBytes.add(bytes);
    }

    /** Everything counted since the volume was created. */
    public StatsSnapshot cumulative() {
        return new StatsSnapshot(readRequests.sum(), readBytes.sum(), writeRequests.sum(), writeBytes.sum());
    }

    /** What the old view shows: everything counted since the last reset. */
    public StatsSnapshot sinceReset() {
        return cumulative().minus(baseline);
    }

    public long generation() {
        return generation;
    }

    /** Starts a new generation whose counts begin at {@code newBaseline}; returns the new generation. */
    long reset(StatsSnapshot newBaseline) {
        baseline = newBaseline;
        return ++generation;
    }
}
