package dev.dmp.agent.os;

import java.nio.ByteBuffer;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.annotations.Variadic;

/**
 * The agent's one libc binding, with jnr-ffi: the calls the JDK does not offer on a descriptor it did
 * not create, or offers without an errno. For the kernel attachment: {@code open}, {@code close},
 * {@code socketpair}, {@code ioctl} (variadic: two fixed arguments, then the argument the request
 * takes), byte-level {@code read}, {@code write}, {@code shutdown} and {@code poll} on the socketpair,
 * and {@code socket}, {@code sendto}, {@code recv} for the generic netlink socket. For the file
 * backend: {@code pwrite} and {@code fdatasync}, whose errno tells a full disk from a broken one
 * (the JDK's FileChannel reports only strerror's text), {@code fallocate} and {@code posix_fadvise}.
 * Every call but {@code posix_fadvise} saves errno, read with {@link #errno()}.
 *
 * <p>These functions, not jnr-posix's whole POSIX: jnr-ffi generates the binding's bytecode at first
 * use, and for jnr-posix's hundreds of functions that took minutes of the agent's start under software
 * emulation (tests/vm). One interface, not one per package, so that it is generated once.
 */
public interface LibC {
    int SHUT_RDWR = 2;

    @SaveError
    int open(String path, int flags, int mode);

    @SaveError
    int close(int fd);

    @SaveError
    int socketpair(int domain, int type, int protocol, @Out int[] sv);

    @SaveError
    @Variadic(fixedCount = 2)
    int ioctl(int fd, long request, long arg);

    @SaveError
    long read(int fd, @Out byte[] buf, long count);

    @SaveError
    long write(int fd, @In byte[] buf, long count);

    @SaveError
    int shutdown(int fd, int how);

    /** poll(2) event: the peer shut its end down (or closed it). POLLHUP, POLLERR and POLLNVAL come unasked. */
    int POLLRDHUP = 0x2000;

    /**
     * {@code poll} of one descriptor: {@code pollfd} is a {@code struct pollfd} as two ints, [0] the
     * descriptor, [1] {@code events} in its low 16 bits (the struct's two shorts, {@code events} then
     * {@code revents}, on a little-endian machine).
     */
    @SaveError
    int poll(@In @Out int[] pollfd, long nfds, int timeoutMs);

    @SaveError
    int socket(int domain, int type, int protocol);

    @SaveError
    long sendto(int fd, @In byte[] buf, long len, int flags, @In byte[] addr, int addrLen);

    @SaveError
    long recv(int fd, @Out byte[] buf, long len, int flags);

    /** {@code buf} from its position, {@code count} bytes (at most its remaining); a direct buffer is not copied. */
    @SaveError
    long pwrite(int fd, @In ByteBuffer buf, long count, long offset);

    @SaveError
    int fdatasync(int fd);

    @SaveError
    int fallocate(int fd, int mode, long offset, long length);

    /**
     * whence: {@link #SEEK_DATA} or {@link #SEEK_HOLE} (the file's allocation, one extent per call), or
     * {@link #SEEK_END} (the file's size).
     */
    @SaveError
    long lseek(int fd, long offset, int whence);

    int SEEK_END = 2;
    int SEEK_DATA = 3;
    int SEEK_HOLE = 4;

    /** Returns the error number itself rather than setting errno. */
    int posix_fadvise(int fd, long offset, long length, int advice);

    /** libc, loaded once. Throws a {@link LinkageError} (or a RuntimeException) where it cannot be bound. */
    static LibC get() {
        return Holder.LIBC;
    }

    /** errno of this thread's last call through {@link #get()}. */
    static int errno() {
        return jnr.ffi.Runtime.getRuntime(Holder.LIBC).getLastError();
    }

    /** Lazy, so that an agent that never attaches a device nor opens a file backend never loads native code. */
    final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");

        private Holder() {}
    }
}
