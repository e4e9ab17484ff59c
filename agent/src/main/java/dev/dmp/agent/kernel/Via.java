package dev.dmp.agent.kernel;

import dev.dmp.proto.v1.AttachedVia;

/**
 * The kernel interface that attached a device ({@link KernelInterface} chooses): its word is how the
 * logs and ListVolumes ("attached via netlink") name it, its record how the attachment records do.
 */
public enum Via {
    NETLINK("netlink", AttachedVia.ATTACHED_VIA_NETLINK),
    IOCTL("ioctl", AttachedVia.ATTACHED_VIA_IOCTL);

    private final String word;
    private final AttachedVia record;

    Via(String word, AttachedVia record) {
        this.word = word;
        this.record = record;
    }

    /** As state.proto's attachment records have it. */
    AttachedVia record() {
        return record;
    }

    @Override
    public String toString() {
        return word;
    }
}
