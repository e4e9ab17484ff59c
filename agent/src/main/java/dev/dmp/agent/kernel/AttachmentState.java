package dev.dmp.agent.kernel;

/**
 * Where an attachment is in its life: {@link #ATTACHING} until the kernel runs the device, then
 * {@link #ATTACHED}, and at the end {@link #DETACHED} (asked for) or {@link #FAILED} (not asked for:
 * the device was given up and released). On the wire: volume.proto {@code AttachmentState}.
 */
public enum AttachmentState {
    ATTACHING(dev.dmp.proto.v1.AttachmentState.ATTACHMENT_STATE_ATTACHING),
    ATTACHED(dev.dmp.proto.v1.AttachmentState.ATTACHMENT_STATE_ATTACHED),
    DETACHED(dev.dmp.proto.v1.AttachmentState.ATTACHMENT_STATE_DETACHED),
    FAILED(dev.dmp.proto.v1.AttachmentState.ATTACHMENT_STATE_FAILED);

    private final dev.dmp.proto.v1.AttachmentState wire;

    AttachmentState(dev.dmp.proto.v1.AttachmentState wire) {
        this.wire = wire;
    }

    /** The state as the API sends it. */
    public dev.dmp.proto.v1.AttachmentState wire() {
        return wire;
    }

    /** True while the device is there (being attached or attached): ListVolumes then names it. */
    public boolean hasDevice() {
        return this == ATTACHING || this == ATTACHED;
    }
}
