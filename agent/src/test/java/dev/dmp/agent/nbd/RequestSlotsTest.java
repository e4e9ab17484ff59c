package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;
import static dev.dmp.agent.protocol.Wire.concat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.dmp.agent.backend.MemoryBackend;
import dev.dmp.agent.protocol.NbdRequest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every request takes one of a connection's 64 slots, and the loop's end waits until all are back: a
 * slot taken before something that throws (the payload's allocation, its read, the hand-off to a
 * worker) and never given back made that wait last forever. Each test makes one of them throw and
 * checks that the loop ends with the failure instead, within a bound far above what it needs.
 */
class RequestSlotsTest {
    private static final Duration BOUND = Duration.ofSeconds(10);

    private final ExecutorService workers = Executors.newCachedThreadPool();
    private final Export export = new Export("m", new MemoryBackend(1 << 20), false, () -> RequestObserver.NONE);

    @AfterEach
    void stop() {
        workers.shutdownNow();
    }

    @Test
    void aPayloadBufferThatCannotBeAllocatedGivesItsSlotBack() {
        BufferPool noDirectMemory = new BufferPool(0, size -> {
            throw new OutOfMemoryError("Cannot reserve " + size + " bytes of direct buffer memory");
        });
        ByteChannel ch = new ScriptedChannel(concat(request(NBD_CMD_WRITE, 1, 0, 4096), new byte[4096]));
        TransmissionLoop loop = new TransmissionLoop(ch, export, workers, noDirectMemory);

        OutOfMemoryError e = assertTimeoutPreemptively(BOUND, () -> assertThrows(OutOfMemoryError.class, loop::run));
        assertEquals("Cannot reserve 4096 bytes of direct buffer memory", e.getMessage());
    }

    @Test
    void aPayloadReadThatFailsGivesItsSlotBack() {
        // The header and 100 bytes of the payload arrive, then the channel fails with an unchecked error.
        ScriptedChannel script = new ScriptedChannel(concat(request(NBD_CMD_WRITE, 2, 0, 4096), new byte[100]));
        ByteChannel ch = new ByteChannel() {
            @Override
            public int read(ByteBuffer dst) {
                int n = script.read(dst);
                if (n < 0) {
                    throw new IllegalStateException("the channel broke mid-payload");
                }
                return n;
            }

            @Override
            public int write(ByteBuffer src) {
                return script.write(src);
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {}
        };
        TransmissionLoop loop = new TransmissionLoop(ch, export, workers, new BufferPool(1 << 20));

        IllegalStateException e =
                assertTimeoutPreemptively(BOUND, () -> assertThrows(IllegalStateException.class, loop::run));
        assertEquals("the channel broke mid-payload", e.getMessage());
    }

    @Test
    void aHandOffTheWorkersRefuseGivesItsSlotBack() {
        ExecutorService stopped = Executors.newSingleThreadExecutor();
        stopped.shutdown();
        // Over INLINE_MAX, so it is handed to a worker even with nothing else in flight.
        ScriptedChannel ch = new ScriptedChannel(request(NBD_CMD_READ, 3, 0, TransmissionLoop.INLINE_MAX + 4096));
        TransmissionLoop loop = new TransmissionLoop(ch, export, stopped, new BufferPool(1 << 20));

        assertTimeoutPreemptively(BOUND, () -> assertThrows(RejectedExecutionException.class, loop::run));
        assertEquals(0, ch.written().length, "no reply: the request never reached the backend");
    }

    /** The loop goes on after a request it refused: the refusal gave its slot back too. */
    @Test
    void sixtyFiveRefusedWritesInARowAreAllAnswered() throws Exception {
        ByteArrayOutputStream script = new ByteArrayOutputStream();
        int refused = TransmissionLoop.MAX_IN_FLIGHT + 1;
        for (int i = 0; i < refused; i++) {
            // Past the end of the 1 MiB volume: NBD_ENOSPC, after the payload was read.
            script.writeBytes(concat(request(NBD_CMD_WRITE, i, 1 << 20, 512), new byte[512]));
        }
        ScriptedChannel ch = new ScriptedChannel(script.toByteArray());
        TransmissionLoop loop = new TransmissionLoop(ch, export, workers, new BufferPool(1 << 20));

        assertTimeoutPreemptively(BOUND, loop::run);
        assertEquals(refused * 16, ch.written().length, "one 16-byte simple reply each");
        ByteBuffer replies = ByteBuffer.wrap(ch.written());
        for (int i = 0; i < refused; i++) {
            assertEquals(NBD_SIMPLE_REPLY_MAGIC, replies.getInt());
            assertEquals(NBD_ENOSPC, replies.getInt());
            assertEquals(i, replies.getLong());
        }
    }

    private static byte[] request(int type, long cookie, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(NbdRequest.SIZE);
        new NbdRequest(0, type, cookie, offset, length).encode(b);
        return b.array();
    }
}
