package dev.dmp.proto;

import dev.dmp.proto.v1.AttachmentState;
import dev.dmp.proto.v1.Volume;

/**
 * A volume's kernel attachment state as programs read it: {@code Volume.attachment_state}. Agents
 * before that field sent only the words ({@code Volume.attachment}), and the controller's ledger keeps
 * their volumes as sent until the agent announces them again; for those, and only for those (state
 * NONE with words), the state is read from the words, here and nowhere else. That reading can go once
 * no agent or ledger record older than the field is left.
 */
public final class VolumeAttachment {
    private VolumeAttachment() {}

    public static AttachmentState state(Volume volume) {
        AttachmentState state = volume.getAttachmentState();
        String words = volume.getAttachment();
        if (state != AttachmentState.ATTACHMENT_STATE_NONE || words.isEmpty()) {
            return state;
        }
        if (words.startsWith("failed")) {
            return AttachmentState.ATTACHMENT_STATE_FAILED;
        }
        if (words.startsWith("attached")) {
            return AttachmentState.ATTACHMENT_STATE_ATTACHED;
        }
        return switch (words) {
            case "attaching" -> AttachmentState.ATTACHMENT_STATE_ATTACHING;
            case "detached" -> AttachmentState.ATTACHMENT_STATE_DETACHED;
            default -> AttachmentState.ATTACHMENT_STATE_NONE;
        };
    }
}
