package dev.dmp.agent.kernel;

import dev.dmp.agent.os.Errno;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Which kernel interface attaches devices: generic netlink where the kernel has the family "nbd" (the
 * device outlives the agent and can be taken back), else the ioctls (the device ends with the agent);
 * always the ioctls with {@code dmp.agent.kernel-interface=ioctl}. Decided once, at the first use
 * (CTRL_CMD_GETFAMILY), and logged once.
 */
final class KernelInterface {
    private static final Logger LOG = Logger.getLogger(KernelInterface.class);

    private final boolean ioctlOnly;
    /** The agent's timeouts, for the log line that names the choice. */
    private final KernelTimeouts timeouts;
    /** Null until decided; empty when the kernel has no netlink interface (ioctls then). Guarded by this. */
    private Optional<NbdGenl> genl;

    KernelInterface(boolean ioctlOnly, KernelTimeouts timeouts) {
        this.ioctlOnly = ioctlOnly;
        this.timeouts = timeouts;
    }

    /** The netlink interface if the kernel has one and it may be used; empty: attach with the ioctls. */
    synchronized Optional<NbdGenl> netlink() {
        if (genl == null && ioctlOnly) {
            LOG.infof("dmp.agent.kernel-interface=ioctl: devices are attached with ioctls and end with the agent");
            genl = Optional.empty();
        } else if (genl == null) {
            try {
                genl = NbdGenl.open();
            } catch (NbdIoctlException e) {
                LOG.warnf(
                        "the kernel's nbd netlink interface cannot be used (%s): attaching with ioctls",
                        e.getMessage());
                genl = Optional.empty();
            }
            LOG.infof(
                    genl.isPresent()
                            ? "the kernel has the nbd netlink interface: devices are attached through it "
                                    + "(request timeout %d s, dead-connection timeout %d s) and survive an agent restart"
                            : "the kernel has no nbd netlink interface (family \"nbd\"): devices are attached with ioctls "
                                    + "(request timeout %d s; dead-connection timeout %d s unused) and end with the agent",
                    timeouts.requestSeconds(),
                    timeouts.deadConnSeconds());
        }
        return genl;
    }

    /** The netlink interface, for a device only it can have made (take-back, a previous run's devices). */
    NbdGenl requireNetlink() throws NbdIoctlException {
        return netlink().orElseThrow(() -> new NbdIoctlException("the nbd netlink interface", Errno.ENOENT));
    }
}
