package dev.dmp.agent.kernel;

import org.jboss.logging.Logger;

/**
 * What the two ways of attaching a device share: the volume, the device number and block size, the
 * state ListVolumes shows (and its words), and how a detach ends (ask the kernel, wait, then cut the
 * connection).
 */
abstract class DeviceAttachment implements Attachment {
    private static final Logger LOG = Logger.getLogger(DeviceAttachment.class);
    /** How long a detach waits for the device's thread, once after asking and once after cutting. */
    static final long DETACH_MS = 10_000;

    final String volume;
    final int number;
    final int blockSize;
    private volatile AttachmentState state;
    /** Why it failed, from "/dev/nbdN: ..."; written before {@link #state} becomes FAILED. */
    private volatile String failure;

    DeviceAttachment(String volume, int number, int blockSize, AttachmentState state) {
        this.volume = volume;
        this.number = number;
        this.blockSize = blockSize;
        this.state = state;
    }

    final void nowAttached() {
        state = AttachmentState.ATTACHED;
    }

    final void nowDetached() {
        state = AttachmentState.DETACHED;
    }

    /** The device was given up and released without anyone asking; {@code why} says what happened. */
    final void nowFailed(String why) {
        failure = why;
        state = AttachmentState.FAILED;
    }

    /**
     * Waits for {@code thread}, which ends with the device, after the kernel was asked to disconnect
     * ({@code asked} names how); if it has not ended, cuts the connection and waits again. Returns
     * false if it is still alive (reported, never hidden).
     */
    final boolean awaitEnd(Thread thread, String asked, Runnable cutConnection) {
        Threads.join(thread, DETACH_MS);
        if (thread.isAlive()) {
            LOG.warnf("%s: the connection did not end %d ms after %s; closing it", path(), DETACH_MS, asked);
            cutConnection.run();
            Threads.join(thread, DETACH_MS);
        }
        return !thread.isAlive();
    }

    @Override
    public final String volume() {
        return volume;
    }

    @Override
    public final int number() {
        return number;
    }

    @Override
    public final int blockSize() {
        return blockSize;
    }

    @Override
    public final AttachmentState state() {
        return state;
    }

    @Override
    public final String stateText() {
        return switch (state) {
            case ATTACHING -> "attaching";
            case ATTACHED -> "attached via " + via();
            case DETACHED -> "detached";
            case FAILED -> "failed: " + failure;
        };
    }
}
