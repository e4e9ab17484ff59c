package dev.dmp.agent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The agent's end sees the kernel's end hang up (poll), and not merely data waiting to be read. */
class SocketPairChannelTest {
    @Test
    void aHangUpOfThePeerIsSeenAndDataAloneIsNot() throws Exception {
        int[] pair = SocketPairChannel.pair();
        SocketPairChannel agent = new SocketPairChannel(pair[1]);
        SocketPairChannel kernel = new SocketPairChannel(pair[0]);
        try {
            assertFalse(agent.awaitHangUp(50), "nothing happened: no hang-up within 50 ms");
            kernel.write(ByteBuffer.wrap(new byte[28]));
            assertFalse(agent.awaitHangUp(50), "a request waiting to be read is not a hang-up");

            kernel.shutdown(); // what nbd_mark_nsock_dead does to the kernel's end

            long started = System.nanoTime();
            assertTrue(agent.awaitHangUp(5_000));
            assertTrue(System.nanoTime() - started < 1_000_000_000L, "seen at once, not at the timeout");
            ByteBuffer queued = ByteBuffer.allocate(64);
            assertEquals(28, agent.read(queued), "what was queued before the hang-up can still be read");
            assertEquals(-1, agent.read(queued.clear()));
        } finally {
            agent.close();
            kernel.close();
        }
        assertTrue(agent.awaitHangUp(50), "a closed end counts as hung up");
    }
}
