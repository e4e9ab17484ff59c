package dev.dmp.agent.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * A file in the agent's state dir that is replaced whole, the crash-safe way: the new content is
 * written to {@code NAME.tmp}, fsync'd, renamed over {@code NAME}, and the directory fsync'd. After a
 * crash (or a power cut) the file is either the old content or the new one, never a torn mix, and a
 * write that returned is on disk. What the bytes mean is the caller's business.
 */
public final class DurableFile {
    private final Path dir;
    private final Path file;
    private final Path temporary;

    public DurableFile(Path dir, String name) {
        this.dir = dir;
        this.file = dir.resolve(name);
        this.temporary = dir.resolve(name + ".tmp");
    }

    public Path path() {
        return file;
    }

    /** The file's bytes, or empty when there is no file (a first start). */
    public Optional<byte[]> read() throws IOException {
        return Files.exists(file) ? Optional.of(Files.readAllBytes(file)) : Optional.empty();
    }

    /** Replaces the file with {@code bytes}; returns once both the file and its directory entry are on disk. */
    public synchronized void write(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        try (FileChannel out = FileChannel.open(
                temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            out.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        // The rename is a change of the directory: without this a crash could bring the old name back.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * Moves a file that does not parse to {@code NAME.corrupt-MILLIS}, kept as it was for a post-mortem,
     * so that the next write starts afresh; returns where it went.
     */
    public Path moveAside() throws IOException {
        Path aside = dir.resolve(file.getFileName() + ".corrupt-" + System.currentTimeMillis());
        Files.move(file, aside);
        return aside;
    }
}
