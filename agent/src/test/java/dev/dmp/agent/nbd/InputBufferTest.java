package dev.dmp.agent.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.protocol.Channels;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class InputBufferTest {
    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    /** A channel that hands out at most {@code chunk} bytes per read, and counts the reads. */
    private static final class Chunked implements java.nio.channels.ReadableByteChannel {
        private final ScriptedChannel peer;
        private final int chunk;
        int reads;

        Chunked(byte[] sent, int chunk) {
            this.peer = new ScriptedChannel(sent);
            this.chunk = chunk;
        }

        @Override
        public int read(ByteBuffer dst) {
            reads++;
            int limit = dst.limit();
            dst.limit(Math.min(limit, dst.position() + chunk));
            try {
                return peer.read(dst);
            } finally {
                dst.limit(limit);
            }
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }

    @Test
    void smallFramesComeFromOneRead() throws Exception {
        byte[] sent = bytes(10 * 28);
        Chunked ch = new Chunked(sent, 1 << 20);
        InputBuffer in = new InputBuffer(ch, 4096, () -> 0);
        for (int i = 0; i < 10; i++) {
            ByteBuffer frame = ByteBuffer.allocate(28);
            assertTrue(Channels.readFullyOrEof(in, frame));
            assertArrayEquals(Arrays.copyOfRange(sent, i * 28, i * 28 + 28), frame.array());
        }
        assertEquals(1, ch.reads, "ten frames sent together are taken in with one read");
        assertFalse(Channels.readFullyOrEof(in, ByteBuffer.allocate(28)), "EOF between frames");
    }

    @Test
    void framesSplitAcrossReadsAndALargePayloadPastTheBuffer() throws Exception {
        byte[] sent = bytes(28 + 10000 + 28);
        InputBuffer in = new InputBuffer(new Chunked(sent, 333), 1024, () -> 0);
        ByteBuffer header = ByteBuffer.allocate(28);
        ByteBuffer payload = ByteBuffer.allocateDirect(10000);
        ByteBuffer next = ByteBuffer.allocate(28);
        assertTrue(Channels.readFullyOrEof(in, header));
        Channels.readFully(in, payload);
        assertTrue(Channels.readFullyOrEof(in, next));
        byte[] got = new byte[10000];
        payload.flip().get(got);
        assertArrayEquals(Arrays.copyOfRange(sent, 0, 28), header.array());
        assertArrayEquals(Arrays.copyOfRange(sent, 28, 10028), got);
        assertArrayEquals(Arrays.copyOfRange(sent, 10028, 10056), next.array());
        assertEquals(0, in.buffered());
    }

    @Test
    void aTruncatedFrameIsAnError() {
        InputBuffer in = new InputBuffer(new Chunked(bytes(40), 16), 1024, () -> 0);
        assertThrows(EOFException.class, () -> {
            Channels.readFullyOrEof(in, ByteBuffer.allocate(28));
            Channels.readFullyOrEof(in, ByteBuffer.allocate(28));
        });
    }

    @Test
    void framesOfOneReadShareTheirReceiptTimeAndTheNextReadHasALaterOne() throws Exception {
        // Two reads of 56 bytes each: two frames per read(2).
        InputBuffer in = new InputBuffer(new Chunked(bytes(4 * 28), 56), 1024, System::nanoTime);
        long before = System.nanoTime();
        long[] stamps = new long[4];
        for (int i = 0; i < 4; i++) {
            if (i == 2) {
                // The clock moves on before the second read(2), so its stamp must be later.
                while (System.nanoTime() <= stamps[1]) {
                    Thread.onSpinWait();
                }
            }
            assertTrue(Channels.readFullyOrEof(in, ByteBuffer.allocate(28)));
            stamps[i] = in.filledNanos();
        }
        assertTrue(stamps[0] >= before, "stamped after the read, not before it");
        assertEquals(stamps[0], stamps[1], "two frames from one read(2)");
        assertEquals(stamps[2], stamps[3], "two frames from the next read(2)");
        assertTrue(stamps[2] > stamps[0], "the second read(2) is later");
        InputBuffer unstamped = new InputBuffer(new Chunked(bytes(28), 28), 1024, () -> 0);
        assertTrue(Channels.readFullyOrEof(unstamped, ByteBuffer.allocate(28)));
        assertEquals(0, unstamped.filledNanos(), "a clock that is never read (RequestObserver.NONE's) stamps 0");
    }
}
