package dev.dmp.agent.link;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.AgentMessageIn;
import dev.dmp.proto.v1.AttachmentState;
import dev.dmp.proto.v1.Volume;
import org.junit.jupiter.api.Test;

/** The message that tells the controller of a volume changed on the agent's own. */
class ControllerLinkTest {
    @Test
    void aVolumeChangeIsAVolumeChangedMessageTheControllersMirrorReadsAsSent() throws Exception {
        Volume failed = Volume.newBuilder().setHost("node-a").setName("dmp3").setSizeBytes(67108864)
                .setAttachment("failed: /dev/nbd2: the kernel closed the connection; the device was released")
                .setAttachmentState(AttachmentState.ATTACHMENT_STATE_FAILED).build();

        AgentMessage message = ControllerLink.volumeChangedMessage(failed);

        assertEquals(AgentMessage.BodyCase.VOLUME_CHANGED, message.getBodyCase());
        assertEquals(failed, message.getVolumeChanged());
        // the controller reads AgentMessage through agent_link_in.proto: the same field, the same volume
        AgentMessageIn in = AgentMessageIn.parseFrom(message.toByteArray());
        assertEquals(AgentMessageIn.BodyCase.VOLUME_CHANGED, in.getBodyCase());
        assertEquals(failed, in.getVolumeChanged());
    }
}
