package dev.dmp.agent.kernel;

/**
 * A volume bound to {@code /dev/nbdN} ("NBD loopback"): the kernel holds one end of a socketpair and
 * the agent's own transmission loop serves the other, so every request the kernel sends goes through
 * the volume's chain and is counted. Made through the kernel's netlink interface where it has one
 * ({@link NetlinkAttachment}: survives an agent restart), else through the ioctls
 * ({@link IoctlAttachment}). See docs/kernel.md.
 */
public interface Attachment {
    String volume();

    int number();

    default String path() {
        return "/dev/nbd" + number();
    }

    /** The device's logical block size in bytes. */
    int blockSize();

    AttachmentState state();

    /**
     * The state in words, for people (ListVolumes' {@code attachment}, the logs): "attaching",
     * "attached via netlink", "attached via ioctl", "detached", or "failed: " and why.
     */
    String stateText();

    /** True while the device is attached (by either interface). */
    default boolean attached() {
        return state() == AttachmentState.ATTACHED;
    }

    /** The task id the kernel shows in /sys/block/nbdN/pid (the task that started the device), 0 before start. */
    long taskId();

    /** The kernel interface the device was attached with. */
    Via via();

    /**
     * Stops the device and releases it (the kernel frees it once nobody has it open). Returns false if
     * the agent could not see it end (reported, never hidden).
     */
    boolean detach();
}
