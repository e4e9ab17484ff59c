package dev.dmp.agent.backend;

import dev.dmp.agent.protocol.NbdProtocol;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A regular file or a block device, opened once and accessed with positional I/O so that concurrent
 * requests never share a file position. The size is fixed when the file is opened (a block device's
 * is read from the kernel). FLUSH is {@code fdatasync}; FUA is {@code fdatasync} before the reply.
 * TRIM punches a hole and WRITE_ZEROES uses {@code fallocate} where the file system or device can,
 * else writes zeroes. Reads go through the channel (and {@code sendfile}); writes and syncs through
 * {@link NativeFile}, whose errno tells a full disk (NBD_ENOSPC) from a failed one.
 */
public final class FileBackend implements Backend {
    private final Path path;
    private final FileChannel channel;
    private final NativeFile nativeFile;
    private final long size;
    private final boolean readOnly;
    /** 0 for a regular file; a block device's logical block size. */
    private final int deviceBlockSize;

    private FileBackend(
            Path path, FileChannel channel, NativeFile nativeFile, long size, boolean readOnly, int deviceBlockSize) {
        this.path = path;
        this.channel = channel;
        this.nativeFile = nativeFile;
        this.size = size;
        this.readOnly = readOnly;
        this.deviceBlockSize = deviceBlockSize;
    }

    /**
     * Opens an existing regular file or block device, for reading only when {@code readOnly}.
     *
     * @throws IllegalArgumentException when the path is missing, not a regular file or block device, or empty
     */
    public static FileBackend open(Path path, boolean readOnly) throws IOException {
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("file backend: " + path + " does not exist");
        }
        boolean regular = Files.isRegularFile(path);
        boolean blockDevice = !regular && isBlockDevice(path);
        if (!regular && !blockDevice) {
            throw new IllegalArgumentException(
                    "file backend: " + path + " is neither a regular file nor a block device");
        }
        OpenOption[] options = readOnly
                ? new OpenOption[] {StandardOpenOption.READ}
                : new OpenOption[] {StandardOpenOption.READ, StandardOpenOption.WRITE};
        FileChannel channel = FileChannel.open(path, options);
        NativeFile nativeFile = null;
        try {
            long size = regular ? channel.size() : deviceSize(path);
            if (size <= 0) {
                throw new IllegalArgumentException(
                        "file backend: " + path + " is empty; a volume needs at least one byte");
            }
            nativeFile = NativeFile.open(path, readOnly);
            return new FileBackend(path, channel, nativeFile, size, readOnly, regular ? 0 : logicalBlockSize(path));
        } catch (IOException | RuntimeException e) {
            channel.close();
            if (nativeFile != null) {
                nativeFile.close();
            }
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

    /**
     * A block device's logical block size, from sysfs (a partition's is its disk's): the smallest I/O
     * it takes, so the smallest request a volume on it can pass on. 512 when sysfs does not say.
     */
    private static int logicalBlockSize(Path path) throws IOException {
        Path dev = sysfsDevice(path);
        for (Path p :
                new Path[] {dev.resolve("queue/logical_block_size"), dev.resolve("../queue/logical_block_size")}) {
            try {
                int n = Integer.parseInt(Files.readString(p).trim());
                if (n > 0 && Integer.bitCount(n) == 1 && n <= 65536) {
                    return n;
                }
            } catch (IOException | NumberFormatException e) {
                // try the next place
            }
        }
        return 512;
    }

    /** /sys/dev/block/MAJOR:MINOR of a block device (glibc's makedev encoding of st_rdev). */
    private static Path sysfsDevice(Path path) throws IOException {
        long rdev = ((Number) Files.getAttribute(path, "unix:rdev")).longValue();
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        return Path.of("/sys/dev/block/" + major + ":" + minor);
    }

    private static long deviceSize(Path path) throws IOException {
        // fstat's st_size is 0 for a block device; the kernel publishes its size in 512-byte sectors.
        return Long.parseLong(
                        Files.readString(sysfsDevice(path).resolve("size")).trim())
                * 512;
    }

    @Override
    public long size() {
        return size;
    }

    /**
     * A regular file's holes, by {@code lseek(SEEK_DATA / SEEK_HOLE)}; a block device is all data (it
     * cannot tell, short of reading).
     */
    @Override
    public void extents(Extents extents) throws IOException {
        if (deviceBlockSize == 0 && nativeFile != null) {
            nativeFile.extents(extents);
        } else {
            Backend.super.extents(extents);
        }
    }

    @Override
    public int minimumBlockSize() {
        return deviceBlockSize == 0 ? 1 : deviceBlockSize;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
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
    public boolean canTransferTo() {
        return true;
    }

    /** A regular file's length now (fstat): it may have shrunk since it was opened. A device does not. */
    @Override
    public long transferable(long offset, long length) {
        if (deviceBlockSize != 0) {
            return length;
        }
        try {
            return Math.max(0, Math.min(length, channel.size() - offset));
        } catch (IOException e) {
            return 0; // the file cannot even be measured: the transfer will fail, with the error chunk's framing
        }
    }

    /** sendfile(2): the kernel moves the pages from the page cache into the socket, no copy of ours. */
    @Override
    public void transferTo(long offset, long length, WritableByteChannel target) throws IOException {
        long position = offset;
        long end = offset + length;
        try {
            while (position < end) {
                long n = channel.transferTo(position, end - position, target);
                if (n <= 0) {
                    // A blocking socket takes at least a byte; nothing moved means the file ended early.
                    throw new EOFException("file backend: " + path + " ended at " + position + " (was it truncated?)");
                }
                position += n;
            }
        } catch (IOException | RuntimeException e) {
            throw new TransferException(position - offset, e);
        }
    }

    /**
     * Through the native descriptor where there is one, so that a full disk (ENOSPC, EDQUOT, EFBIG) is
     * told by its errno and answered NBD_ENOSPC ({@link NativeFile#failure}); through the channel where
     * libc cannot be bound (any failure is then an IOException, NBD_EIO).
     */
    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        if (nativeFile != null) {
            nativeFile.write(src, offset);
        } else {
            long position = offset;
            while (src.hasRemaining()) {
                position += channel.write(src, position);
            }
        }
        if (fua) {
            flush();
        }
    }

    /** {@code fdatasync}, with its errno where the native descriptor is there (as {@link #write}). */
    @Override
    public void flush() throws IOException {
        if (nativeFile != null) {
            nativeFile.sync();
        } else {
            channel.force(false);
        }
    }

    /** Punches a hole where the file system or device can; otherwise the hint is ignored. */
    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        if (nativeFile != null) {
            nativeFile.fallocate(NativeFile.FALLOC_FL_PUNCH_HOLE | NativeFile.FALLOC_FL_KEEP_SIZE, offset, length);
        }
        if (fua) {
            flush();
        }
    }

    /**
     * A hole when allowed (it reads back as zeroes), else {@code FALLOC_FL_ZERO_RANGE}, which keeps the
     * range allocated; if neither is supported, zeroes are written, unless the client asked for fast
     * zeroing only.
     */
    @Override
    public void zero(long offset, long length, boolean mayTrim, boolean fast, boolean fua) throws IOException {
        boolean done = nativeFile != null
                && ((mayTrim
                                && nativeFile.fallocate(
                                        NativeFile.FALLOC_FL_PUNCH_HOLE | NativeFile.FALLOC_FL_KEEP_SIZE,
                                        offset,
                                        length))
                        || nativeFile.fallocate(
                                NativeFile.FALLOC_FL_ZERO_RANGE | NativeFile.FALLOC_FL_KEEP_SIZE, offset, length));
        if (!done) {
            if (fast) {
                throw new BackendException(NbdProtocol.NBD_ENOTSUP, "file backend: " + path + " cannot zero fast here");
            }
            Zeroes.write(this, offset, length, false);
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public void cache(long offset, long length) {
        if (nativeFile != null) {
            nativeFile.willNeed(offset, length);
        }
    }

    @Override
    public String describe() {
        return "file:" + path;
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            if (nativeFile != null) {
                nativeFile.close();
            }
        }
    }
}
