package dev.dmp.agent.backend;

import dev.dmp.agent.nbd.NbdProtocol;
import dev.dmp.agent.os.Errno;
import dev.dmp.agent.os.LibC;
import java.io.IOException;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * A second descriptor on a backend file, for the calls {@link java.nio.channels.FileChannel} lacks:
 * {@code fallocate(2)} (punch a hole, zero a range) and {@code posix_fadvise(2)}. Both act on the
 * inode, so a descriptor of our own serves as well as the channel's hidden one. Linux only; where libc
 * cannot be bound, {@link #open} answers null and the file backend falls back to plain writes.
 */
final class NativeFile implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NativeFile.class);

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int POSIX_FADV_WILLNEED = 3;

    private static final LibC LIBC = bind();

    private final int fd;

    private NativeFile(int fd) {
        this.fd = fd;
    }

    private static LibC bind() {
        try {
            return LibC.get();
        } catch (RuntimeException | LinkageError e) {
            LOG.infof("libc cannot be bound (%s): file backends will zero by writing zeroes and ignore TRIM", e);
            return null;
        }
    }

    /** A read-write descriptor on {@code path}, or null when native calls are unavailable. */
    static NativeFile open(Path path) throws IOException {
        if (LIBC == null) {
            return null;
        }
        int fd = LIBC.open(path.toString(), O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("open " + path + ": " + Errno.name(LibC.errno()));
        }
        return new NativeFile(fd);
    }

    /**
     * {@code fallocate(fd, mode, offset, length)}. Returns false, having changed nothing, when the file
     * system or device does not support this mode (or its alignment) so the caller can fall back.
     */
    boolean fallocate(int mode, long offset, long length) throws IOException {
        if (LIBC.fallocate(fd, mode, offset, length) == 0) {
            return true;
        }
        int errno = LibC.errno();
        return switch (errno) {
            case Errno.EOPNOTSUPP, Errno.ENOSYS, Errno.ENODEV, Errno.EINVAL -> false;
            case Errno.ENOSPC -> throw new BackendException(NbdProtocol.NBD_ENOSPC, "fallocate: no space left on device");
            default -> throw new IOException("fallocate(mode=0x" + Integer.toHexString(mode) + ", offset=" + offset
                    + ", length=" + length + "): " + Errno.name(errno));
        };
    }

    /** Asks the kernel to start reading the range into the page cache; a hint, so failures are ignored. */
    void willNeed(long offset, long length) {
        LIBC.posix_fadvise(fd, offset, length, POSIX_FADV_WILLNEED);
    }

    @Override
    public void close() {
        LIBC.close(fd);
    }
}
