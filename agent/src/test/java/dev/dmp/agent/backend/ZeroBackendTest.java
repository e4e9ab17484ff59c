package dev.dmp.agent.backend;

import static dev.dmp.agent.backend.ExtentsTest.held;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** dm-zero: whatever was written, every range is one hole that reads as zeroes, and says so. */
class ZeroBackendTest {
    @Test
    void everyRangeIsOneHoleThatReadsAsZeroes() {
        try (ZeroBackend zero = new ZeroBackend(1L << 40)) {
            zero.write(4096, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
            Extents e = new Extents(12345, (1L << 40) - 12345, 100);
            zero.extents(e);
            assertEquals(List.of(((1L << 40) - 12345) + "/3"), held(e)); // NBD_STATE_HOLE | NBD_STATE_ZERO
            ByteBuffer back = ByteBuffer.allocate(3);
            zero.read(4096, back);
            assertArrayEquals(new byte[3], back.array());
        }
    }

    @Test
    void oneExtentEvenWhenOnlyOneIsWanted() {
        try (ZeroBackend zero = new ZeroBackend(1 << 20)) {
            Extents e = new Extents(0, 1 << 20, 1);
            zero.extents(e);
            assertEquals(List.of((1 << 20) + "/3"), held(e));
        }
    }
}
