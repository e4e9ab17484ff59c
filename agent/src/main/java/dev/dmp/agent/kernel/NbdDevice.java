package dev.dmp.agent.kernel;

import dev.dmp.agent.os.Errno;
import dev.dmp.agent.os.LibC;

/**
 * An open {@code /dev/nbdN} and the ioctls of the kernel's classic (ioctl) nbd interface, under their C
 * names from {@code <linux/nbd.h>}: {@code _IO(0xab, n)}. Closing it drops the configuration reference
 * this open file holds, which lets the kernel reset the device once nobody else has it open.
 */
public final class NbdDevice implements AutoCloseable {
    static final long NBD_SET_SOCK = 0xab00;
    static final long NBD_SET_BLKSIZE = 0xab01;
    static final long NBD_DO_IT = 0xab03;
    static final long NBD_CLEAR_SOCK = 0xab04;
    static final long NBD_CLEAR_QUE = 0xab05;
    static final long NBD_SET_SIZE_BLOCKS = 0xab07;
    static final long NBD_DISCONNECT = 0xab08;
    static final long NBD_SET_TIMEOUT = 0xab09;
    static final long NBD_SET_FLAGS = 0xab0a;

    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_EXCL = 0200;
    private static final int O_CLOEXEC = 02000000;

    private final String path;
    private final int fd;

    private NbdDevice(String path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** Opens the device read-write. */
    public static NbdDevice open(String path) throws NbdIoctlException {
        int fd = LibC.get().open(path, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) {
            throw new NbdIoctlException("open " + path, LibC.errno());
        }
        return new NbdDevice(path, fd);
    }

    /**
     * True when something holds the device exclusively (a mounted file system, a device-mapper or md
     * holder): an exclusive open then fails with EBUSY. A plain open by a program is not detected.
     */
    public static boolean claimed(String path) throws NbdIoctlException {
        int fd = LibC.get().open(path, O_RDONLY | O_EXCL | O_CLOEXEC, 0);
        if (fd >= 0) {
            LibC.get().close(fd);
            return false;
        }
        int errno = LibC.errno();
        if (errno == Errno.EBUSY) {
            return true;
        }
        throw new NbdIoctlException("open " + path + " O_EXCL", errno);
    }

    public String path() {
        return path;
    }

    public void setBlockSize(int bytes) throws NbdIoctlException {
        ioctl("NBD_SET_BLKSIZE", NBD_SET_BLKSIZE, bytes);
    }

    public void setSizeBlocks(long blocks) throws NbdIoctlException {
        ioctl("NBD_SET_SIZE_BLOCKS", NBD_SET_SIZE_BLOCKS, blocks);
    }

    /** The transmission flags, as an NBD server sends them in the handshake. */
    public void setFlags(int flags) throws NbdIoctlException {
        ioctl("NBD_SET_FLAGS", NBD_SET_FLAGS, flags);
    }

    public void setTimeout(long seconds) throws NbdIoctlException {
        ioctl("NBD_SET_TIMEOUT", NBD_SET_TIMEOUT, seconds);
    }

    /** Hands the kernel its end of the connection; the kernel keeps its own reference to the socket. */
    public void setSock(int socketFd) throws NbdIoctlException {
        ioctl("NBD_SET_SOCK", NBD_SET_SOCK, socketFd);
    }

    /** Starts the device and blocks until its connection ends; run it on a dedicated platform thread. */
    public void doIt() throws NbdIoctlException {
        ioctl("NBD_DO_IT", NBD_DO_IT, 0);
    }

    /** Asks the kernel to send NBD_CMD_DISC; NBD_DO_IT returns once the server closes its end. */
    public void disconnect() throws NbdIoctlException {
        ioctl("NBD_DISCONNECT", NBD_DISCONNECT, 0);
    }

    /** Shuts the kernel's socket down and forgets it; the device becomes free for the next attach. */
    public void clearSock() throws NbdIoctlException {
        ioctl("NBD_CLEAR_SOCK", NBD_CLEAR_SOCK, 0);
    }

    /** Fails whatever requests are still queued (a no-op on recent kernels, which do it themselves). */
    public void clearQueue() throws NbdIoctlException {
        ioctl("NBD_CLEAR_QUE", NBD_CLEAR_QUE, 0);
    }

    private void ioctl(String name, long request, long arg) throws NbdIoctlException {
        if (LibC.get().ioctl(fd, request, arg) < 0) {
            throw new NbdIoctlException(name + " on " + path, LibC.errno());
        }
    }

    @Override
    public void close() {
        LibC.get().close(fd);
    }
}
