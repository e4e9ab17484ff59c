package dev.dmp.agent.backend;

import dev.dmp.agent.os.Errno;
import dev.dmp.agent.os.LibC;
import dev.dmp.agent.protocol.NbdProtocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jboss.logging.Logger;

/**
 * A second descriptor on a backend file, for what {@link java.nio.channels.FileChannel} lacks:
 * {@code fallocate(2)} (punch a hole, zero a range), {@code posix_fadvise(2)}, and writes and syncs
 * whose failure carries its errno ({@code pwrite(2)}, {@code fdatasync(2)}): FileChannel throws a plain
 * IOException with strerror's text, so a full disk could only be told by matching words. They act on
 * the inode, so a descriptor of our own serves as well as the channel's hidden one. Linux only; where
 * libc cannot be bound, {@link #open} answers null and the file backend uses the channel alone.
 *
 * <p>Closing waits for the calls in progress: a descriptor number closed under a running call could be
 * reused by the next open of another file, and the write would land there. The channel has the same
 * guard built in.
 */
final class NativeFile implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NativeFile.class);

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int POSIX_FADV_WILLNEED = 3;

    private static final LibC LIBC = bind();

    private final Path path;
    private final int fd;
    /** Calls hold the read lock, {@link #close} the write lock. */
    private final ReadWriteLock use = new ReentrantReadWriteLock();
    /** The last data run found, so that queries inside it need no system call. */
    private final DataRun dataRun = new DataRun();

    private boolean closed;

    private NativeFile(Path path, int fd) {
        this.path = path;
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

    /** A descriptor on {@code path} (read-only or read-write), or null when native calls are unavailable. */
    static NativeFile open(Path path, boolean readOnly) throws IOException {
        if (LIBC == null) {
            return null;
        }
        int fd = LIBC.open(path.toString(), (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("open " + path + ": " + Errno.name(LibC.errno()));
        }
        return new NativeFile(path, fd);
    }

    /**
     * The exception for a call that failed with {@code errno}. No space (ENOSPC), a full quota (EDQUOT)
     * and a write past the largest file the file system allows (EFBIG) are all "this write does not
     * fit": NBD_ENOSPC, as nbdkit maps them, so the client can tell a full disk from a broken one (EIO).
     */
    static IOException failure(Path path, String call, int errno) {
        String message = "file backend: " + path + ": " + call + " failed: " + Errno.name(errno);
        return switch (errno) {
            case Errno.ENOSPC, Errno.EDQUOT, Errno.EFBIG -> new BackendException(NbdProtocol.NBD_ENOSPC, message);
            default -> new IOException(message);
        };
    }

    /** Writes all of {@code src} (from its position) at {@code offset}, like FileChannel.write but with errno. */
    void write(ByteBuffer src, long offset) throws IOException {
        // jnr-ffi passes a direct buffer's memory, or a heap buffer's array; a read-only heap buffer
        // shows neither, so its bytes are copied (the NBD loop's buffers are direct: no copy there).
        ByteBuffer bytes = src.isDirect() || src.hasArray()
                ? src
                : ByteBuffer.allocate(src.remaining()).put(src.duplicate()).flip();
        use.readLock().lock();
        try {
            ensureOpen();
            long position = offset;
            while (bytes.hasRemaining()) {
                long n = LIBC.pwrite(fd, bytes, bytes.remaining(), position);
                if (n < 0) {
                    int errno = LibC.errno();
                    if (errno == Errno.EINTR) {
                        continue;
                    }
                    throw failure(path, "pwrite(offset=" + position + ", length=" + bytes.remaining() + ")", errno);
                }
                bytes.position(bytes.position() + (int) n);
                position += n;
            }
            src.position(src.limit());
        } finally {
            use.readLock().unlock();
        }
    }

    /** {@code fdatasync}: what FileChannel.force(false) does, with errno (a thin device may be full only now). */
    void sync() throws IOException {
        use.readLock().lock();
        try {
            ensureOpen();
            if (LIBC.fdatasync(fd) < 0) {
                throw failure(path, "fdatasync", LibC.errno());
            }
        } finally {
            use.readLock().unlock();
        }
    }

    /**
     * {@code fallocate(fd, mode, offset, length)}. Returns false, having changed nothing, when the file
     * system or device does not support this mode (or its alignment) so the caller can fall back.
     */
    boolean fallocate(int mode, long offset, long length) throws IOException {
        use.readLock().lock();
        try {
            ensureOpen();
            int result = LIBC.fallocate(fd, mode, offset, length);
            int errno = LibC.errno();
            dataRun.forget(); // punched or not, the file may have holes where it had data
            if (result == 0) {
                return true;
            }
            return switch (errno) {
                case Errno.EOPNOTSUPP, Errno.ENOSYS, Errno.ENODEV, Errno.EINVAL -> false;
                default ->
                    throw failure(
                            path,
                            "fallocate(mode=0x" + Integer.toHexString(mode) + ", offset=" + offset + ", length="
                                    + length + ")",
                            errno);
            };
        } finally {
            use.readLock().unlock();
        }
    }

    /**
     * The file's allocation over {@code extents}' range, from {@code lseek(SEEK_DATA / SEEK_HOLE)}: two
     * calls per data extent, one per hole, whatever their size. A hole reads as zeroes. A file system
     * without the two whences (EINVAL) is all data.
     */
    void extents(Extents extents) throws IOException {
        use.readLock().lock();
        try {
            ensureOpen();
            long generation = dataRun.generation();
            while (extents.wantsMore()) {
                long position = extents.next();
                long known = dataRun.endOf(position);
                if (known > 0) {
                    if (!extents.add(known - position, 0)) {
                        return;
                    }
                    continue;
                }
                long data = LIBC.lseek(fd, position, LibC.SEEK_DATA);
                if (data < 0) {
                    int errno = LibC.errno();
                    if (errno == Errno.ENXIO) {
                        // No data from here to the end of the file: a hole up to it. Past it (a file that
                        // shrank under its volume) nothing can be read, so it is not called zeroes: data,
                        // and a READ there fails as it would without structured replies.
                        long end = LIBC.lseek(fd, 0, LibC.SEEK_END);
                        if (end > position
                                && !extents.add(
                                        end - position, NbdProtocol.NBD_STATE_HOLE | NbdProtocol.NBD_STATE_ZERO)) {
                            return;
                        }
                        extents.add(extents.remaining(), 0);
                        return;
                    }
                    if (errno == Errno.EINVAL) {
                        extents.add(extents.remaining(), 0);
                        return;
                    }
                    throw failure(path, "lseek(SEEK_DATA, " + position + ")", errno);
                }
                if (data > position) {
                    if (!extents.add(data - position, NbdProtocol.NBD_STATE_HOLE | NbdProtocol.NBD_STATE_ZERO)) {
                        return;
                    }
                    continue;
                }
                long hole = LIBC.lseek(fd, position, LibC.SEEK_HOLE);
                if (hole < 0) {
                    throw failure(path, "lseek(SEEK_HOLE, " + position + ")", LibC.errno());
                }
                if (hole > position) {
                    dataRun.remember(position, hole, generation);
                }
                // Past the file's end (a file that shrank) there is an implicit hole: the rest is data
                // only up to it.
                if (!extents.add(Math.max(hole - position, 1), 0)) {
                    return;
                }
            }
        } finally {
            use.readLock().unlock();
        }
    }

    /** Asks the kernel to start reading the range into the page cache; a hint, so failures are ignored. */
    void willNeed(long offset, long length) {
        use.readLock().lock();
        try {
            if (!closed) {
                LIBC.posix_fadvise(fd, offset, length, POSIX_FADV_WILLNEED);
            }
        } finally {
            use.readLock().unlock();
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    /** Closes the descriptor once the calls in progress have returned; later calls fail as a closed channel's. */
    @Override
    public void close() {
        use.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                LIBC.close(fd);
            }
        } finally {
            use.writeLock().unlock();
        }
    }
}
