package dev.dmp.agent.kernel;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.annotations.Variadic;

/**
 * The few libc calls the kernel attachment needs that jnr-posix does not bind: {@code ioctl} (variadic:
 * two fixed arguments, then the argument the request takes) and byte-level {@code read}, {@code write},
 * {@code shutdown} on a socket the JDK did not create. Every call saves errno, read with {@link #errno()}.
 */
public interface LibC {
    int SHUT_RDWR = 2;

    @SaveError
    @Variadic(fixedCount = 2)
    int ioctl(int fd, long request, long arg);

    @SaveError
    long read(int fd, @Out byte[] buf, long count);

    @SaveError
    long write(int fd, @In byte[] buf, long count);

    @SaveError
    int shutdown(int fd, int how);

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
