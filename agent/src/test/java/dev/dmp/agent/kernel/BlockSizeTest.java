package dev.dmp.agent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BlockSizeTest {

    @Test
    void largestPowerOfTwoUpTo4096ThatDividesTheSize() {
        assertEquals(512, BlockSize.forSize(1_000_000_000L)); // 10^9 = 2^9 * 1953125
        assertEquals(4096, BlockSize.forSize(64L << 20));
        assertEquals(4096, BlockSize.forSize(4096));
        assertEquals(2048, BlockSize.forSize(2048 * 3));
        assertEquals(1024, BlockSize.forSize(1024 * 5));
        assertEquals(512, BlockSize.forSize(512));
    }

    @Test
    void sizesNotAMultipleOf512CannotBeAttached() {
        assertEquals(0, BlockSize.forSize(0));
        assertEquals(0, BlockSize.forSize(-4096));
        assertEquals(0, BlockSize.forSize(511));
        assertEquals(0, BlockSize.forSize(1_000_000_001L));
    }
}
