package dev.dmp.agent.kernel;

import dev.dmp.agent.os.Errno;
import dev.dmp.agent.os.LibC;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;

/**
 * The agent's end of the socketpair whose other end the kernel holds, as a blocking {@link ByteChannel}
 * for the transmission loop. The JDK cannot wrap a raw descriptor, so reads and writes go through libc
 * with a bounce array per direction (one reader thread; writers are serialised by the loop's reply lock).
 * {@link #shutdown()} wakes a reader blocked in read(2), which a plain close(2) does not.
 */
final class SocketPairChannel implements ByteChannel {
    private static final int CHUNK = 1 << 20;
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;

    private final int fd;
    private final byte[] readBuf = new byte[CHUNK];
    private final byte[] writeBuf = new byte[CHUNK];
    private volatile boolean open = true;

    SocketPairChannel(int fd) {
        this.fd = fd;
    }

    /** {@code socketpair(AF_UNIX, SOCK_STREAM)}: [0] for the kernel, [1] for the agent. */
    static int[] pair() throws NbdIoctlException {
        int[] pair = {-1, -1};
        if (LibC.get().socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
            throw new NbdIoctlException("socketpair", LibC.errno());
        }
        return pair;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        int want = Math.min(dst.remaining(), CHUNK);
        long n;
        do {
            n = LibC.get().read(fd, readBuf, want);
        } while (n < 0 && LibC.errno() == Errno.EINTR);
        if (n < 0) {
            throw new IOException("read from the kernel's nbd socket: " + Errno.name(LibC.errno()));
        }
        if (n == 0) {
            return want == 0 ? 0 : -1;
        }
        dst.put(readBuf, 0, (int) n);
        return (int) n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        int len = Math.min(src.remaining(), CHUNK);
        src.get(src.position(), writeBuf, 0, len);
        long n;
        do {
            n = LibC.get().write(fd, writeBuf, len);
        } while (n < 0 && LibC.errno() == Errno.EINTR);
        if (n < 0) {
            throw new IOException("write to the kernel's nbd socket: " + Errno.name(LibC.errno()));
        }
        src.position(src.position() + (int) n);
        return (int) n;
    }

    /**
     * Waits up to {@code timeoutMs} for the kernel to shut its end down (it does when a request went
     * unanswered for its timeout, or on a disconnect); true once it has. Data still queued for us does
     * not count: only the hang-up.
     */
    boolean awaitHangUp(int timeoutMs) {
        if (!open) {
            return true;
        }
        int[] pollfd = {fd, LibC.POLLRDHUP};
        // Only POLLRDHUP is asked for, so anything reported is a hang-up or an error (POLLHUP, POLLERR,
        // POLLNVAL once the loop closed the descriptor): the connection is over either way.
        return LibC.get().poll(pollfd, 1, timeoutMs) > 0;
    }

    /**
     * Ends the connection both ways: a blocked reader sees end of file, the kernel sees its peer gone.
     * Nothing once closed: the descriptor's number may belong to another file by then.
     */
    void shutdown() {
        if (open) {
            LibC.get().shutdown(fd, LibC.SHUT_RDWR);
        }
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        if (open) {
            shutdown();
            open = false;
            LibC.get().close(fd);
        }
    }
}
