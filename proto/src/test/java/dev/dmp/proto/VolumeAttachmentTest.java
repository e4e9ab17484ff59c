package dev.dmp.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.proto.v1.AttachmentState;
import dev.dmp.proto.v1.Volume;
import org.junit.jupiter.api.Test;

class VolumeAttachmentTest {
    private static AttachmentState of(AttachmentState state, String words) {
        return VolumeAttachment.state(Volume.newBuilder()
                .setAttachmentState(state)
                .setAttachment(words)
                .build());
    }

    @Test
    void theEnumIsTheStateWhateverTheWordsSay() {
        assertEquals(
                AttachmentState.ATTACHMENT_STATE_FAILED, of(AttachmentState.ATTACHMENT_STATE_FAILED, "failed: gone"));
        assertEquals(
                AttachmentState.ATTACHMENT_STATE_ATTACHED,
                of(AttachmentState.ATTACHMENT_STATE_ATTACHED, "failed, in words a later version may choose"));
        assertEquals(AttachmentState.ATTACHMENT_STATE_NONE, of(AttachmentState.ATTACHMENT_STATE_NONE, ""));
    }

    /** A volume as an agent before attachment_state sent it, kept so in the controller's ledger. */
    @Test
    void anOlderAgentsWordsAreItsState() {
        AttachmentState none = AttachmentState.ATTACHMENT_STATE_NONE;
        assertEquals(
                AttachmentState.ATTACHMENT_STATE_FAILED, of(none, "failed: /dev/nbd3: gone; the device was released"));
        assertEquals(AttachmentState.ATTACHMENT_STATE_ATTACHED, of(none, "attached via netlink"));
        assertEquals(AttachmentState.ATTACHMENT_STATE_ATTACHED, of(none, "attached"));
        assertEquals(AttachmentState.ATTACHMENT_STATE_DETACHED, of(none, "detached"));
        assertEquals(AttachmentState.ATTACHMENT_STATE_ATTACHING, of(none, "attaching"));
        assertEquals(none, of(none, "something else"));
    }
}
