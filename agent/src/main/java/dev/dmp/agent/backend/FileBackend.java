package dev.dmp.agent.backend;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A regular file or a block device, opened once and accessed with positional I/O so that concurrent
 * requests never share a file position. The size is fixed when the file is opened.
 */
public final class FileBackend implements Backend {
    private final Path path;
    private final FileChannel channel;
    private final long size;

    private FileBackend(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    /**
     * Opens an existing regular file or block device for reading and writing.
     *
     * @throws IllegalArgumentException when the path is missing, not a regular file or block device, or empty
     */
    public static FileBackend open(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("file backend: " + path + " does not exist");
        }
        boolean regular = Files.isRegularFile(path);
        boolean blockDevice = !regular && isBlockDevice(path);
        if (!regular && !blockDevice) {
            throw new IllegalArgumentException("file backend: " + path + " is neither a regular file nor a block device");
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long size = regular ? channel.size() : deviceSize(path);
            if (size <= 0) {
                throw new IllegalArgumentException("file backend: " + path + " is empty; a volume needs at least one byte");
            }
            return new FileBackend(path, channel, size);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static boolean isBlockDevice(Path path) {
        try {
            Object mode = Files.getAttribute(path, "unix:mode");
            return mode instanceof Integer m && (m & 0170000) == 0060000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static long deviceSize(Path path) throws IOException {
        // fstat's st_size is 0 for a block device; the kernel publishes its size in 512-byte sectors
        // under /sys/dev/block/MAJOR:MINOR/size (glibc's makedev encoding of st_rdev).
        long rdev = ((Number) Files.getAttribute(path, "unix:rdev")).longValue();
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        Path sectors = Path.of("/sys/dev/block/" + major + ":" + minor + "/size");
        return Long.parseLong(Files.readString(sectors).trim()) * 512;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long position = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                throw new EOFException("file backend: " + path + " ended at " + position + " (was it truncated?)");
            }
            position += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        long position = offset;
        while (src.hasRemaining()) {
            position += channel.write(src, position);
        }
        if (fua) {
            channel.force(false);
        }
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public String describe() {
        return "file:" + path;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
