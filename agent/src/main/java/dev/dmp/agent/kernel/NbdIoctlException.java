package dev.dmp.agent.kernel;

import dev.dmp.agent.os.Errno;
import java.io.IOException;

/** An nbd ioctl (or the open or socketpair around it) failed with {@link #errno()}. */
public class NbdIoctlException extends IOException {
    private final int errno;

    public NbdIoctlException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
