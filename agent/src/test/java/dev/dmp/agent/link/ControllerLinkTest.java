package dev.dmp.agent.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.AgentMessageIn;
import dev.dmp.proto.v1.AttachmentState;
import dev.dmp.proto.v1.Volume;
import org.junit.jupiter.api.Test;

/** The message that tells the controller of a volume changed on the agent's own; the redial backoff. */
class ControllerLinkTest {
    @Test
    void theBackoffIsJitteredOverItsSecondHalf() {
        // 10,000 draws of a 5000 ms backoff: every one in [2500, 5000], and spread (not one value).
        java.util.LongSummaryStatistics waits = java.util.stream.LongStream.range(0, 10_000)
                .map(i -> ControllerLink.jittered(ControllerLink.MAX_BACKOFF_MS))
                .summaryStatistics();
        assertTrue(waits.getMin() >= 2500 && waits.getMax() <= 5000, waits.toString());
        assertTrue(waits.getMax() - waits.getMin() > 2000, "spread over the interval: " + waits);
        assertTrue(Math.abs(waits.getAverage() - 3750) < 100, "uniform, mean 3750 ms: " + waits);
    }

    @Test
    void aVolumeChangeIsAVolumeChangedMessageTheControllersMirrorReadsAsSent() throws Exception {
        Volume failed = Volume.newBuilder()
                .setHost("node-a")
                .setName("dmp3")
                .setSizeBytes(67108864)
                .setAttachment("failed: /dev/nbd2: the kernel closed the connection; the device was released")
                .setAttachmentState(AttachmentState.ATTACHMENT_STATE_FAILED)
                .build();

        AgentMessage message = ControllerLink.volumeChangedMessage(failed);

        assertEquals(AgentMessage.BodyCase.VOLUME_CHANGED, message.getBodyCase());
        assertEquals(failed, message.getVolumeChanged());
        // the controller reads AgentMessage through agent_link_in.proto: the same field, the same volume
        AgentMessageIn in = AgentMessageIn.parseFrom(message.toByteArray());
        assertEquals(AgentMessageIn.BodyCase.VOLUME_CHANGED, in.getBodyCase());
        assertEquals(failed, in.getVolumeChanged());
    }
}
