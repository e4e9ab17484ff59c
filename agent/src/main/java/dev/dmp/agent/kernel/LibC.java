package dev.dmp.agent.kernel;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.annotations.Variadic;

/**
 * The few libc calls the kernel attachment needs: {@code open}, {@code close}, {@code socketpair},
 * {@code ioctl} (variadic: two fixed arguments, then the argument the request takes) and byte-level
 * {@code read}, {@code write}, {@code shutdown} on a socket the JDK did not create, and {@code poll} to see
 * the kernel drop its end, {@code socket}, {@code sendto}, {@code recv} for the generic netlink socket
 * ({@link NbdGenl}). Every call saves
 * errno, read with {@link #errno()}. Twelve functions, not jnr-posix's whole POSIX: jnr-ffi generates
 * the binding's bytecode at first use, and for jnr-posix's hundreds of functions that took minutes of
 * the agent's start under software emulation (tests/vm).
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

    /** libc, loaded once. */
    static LibC get() {
        return Holder.LIBC;
    }

    /** errno of this thread's last call through {@link #get()}. */
    static int errno() {
        return jnr.ffi.Runtime.getRuntime(Holder.LIBC).getLastError();
    }

    /** Lazy, so that an agent that never attaches a device never loads native code. */
    final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");

        private Holder() {
        }
    }
}
