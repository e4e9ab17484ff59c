package dev.dmp.agent.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MemoryBackendTest {
    private static final int PAGE = MemoryBackend.PAGE;

    private static byte[] read(Backend b, long offset, int length) throws Exception {
        ByteBuffer dst = ByteBuffer.allocate(length);
        b.read(offset, dst);
        assertEquals(length, dst.position());
        return dst.array();
    }

    @Test
    void unwrittenReadsZeroAndHoldsNothing() throws Exception {
        MemoryBackend m = new MemoryBackend(1L << 40);
        assertArrayEquals(new byte[10000], read(m, (1L << 40) - 10000, 10000));
        assertEquals(0, m.allocatedBytes());
    }

    @Test
    void writeAcrossPagesReadsBack() throws Exception {
        MemoryBackend m = new MemoryBackend(4L * PAGE);
        byte[] data = new byte[PAGE + 100];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        m.write(PAGE - 50, ByteBuffer.wrap(data), false);
        assertArrayEquals(data, read(m, PAGE - 50, data.length));
        assertEquals(3L * PAGE, m.allocatedBytes());
    }

    @Test
    void zeroDropsWholePagesAndClearsPartialOnes() throws Exception {
        MemoryBackend m = new MemoryBackend(4L * PAGE);
        byte[] ones = new byte[3 * PAGE];
        Arrays.fill(ones, (byte) 1);
        m.write(0, ByteBuffer.wrap(ones), false);
        m.zero(PAGE / 2, 2L * PAGE, false, true, false);
        assertEquals(2L * PAGE, m.allocatedBytes()); // page 1 dropped, pages 0 and 2 partly cleared
        byte[] expected = ones.clone();
        Arrays.fill(expected, PAGE / 2, PAGE / 2 + 2 * PAGE, (byte) 0);
        assertArrayEquals(expected, read(m, 0, 3 * PAGE));
    }
}
