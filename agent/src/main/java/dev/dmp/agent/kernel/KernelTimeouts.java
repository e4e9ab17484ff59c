package dev.dmp.agent.kernel;

/**
 * The kernel's two timeouts for an attached device, in seconds. {@code requestSeconds}
 * (NBD_ATTR_TIMEOUT / NBD_SET_TIMEOUT): a request unanswered that long makes the kernel drop the
 * connection; through netlink the request is then queued again, not failed. {@code deadConnSeconds}
 * (NBD_ATTR_DEAD_CONN_TIMEOUT, netlink only): how long the kernel holds I/O while the device has no live
 * connection (the agent restarts), before it fails it. See docs/kernel.md, "Timeouts".
 */
public record KernelTimeouts(long requestSeconds, long deadConnSeconds) {
    public KernelTimeouts {
        if (requestSeconds < 1) {
            throw new IllegalArgumentException(
                    "dmp.agent.kernel-timeout: " + requestSeconds + " is not a number of seconds (1 or more)");
        }
        if (deadConnSeconds < 0) {
            throw new IllegalArgumentException("dmp.agent.kernel-dead-conn-timeout: " + deadConnSeconds
                    + " is not a number of seconds (0 or more; 0 fails I/O at once while the agent is away)");
        }
    }
}
