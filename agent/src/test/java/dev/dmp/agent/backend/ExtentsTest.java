package dev.dmp.agent.backend;

import static dev.dmp.agent.protocol.NbdProtocol.NBD_STATE_HOLE;
import static dev.dmp.agent.protocol.NbdProtocol.NBD_STATE_ZERO;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bounded answer a backend fills in: what a client's BLOCK_STATUS or a sparse READ gets is exactly
 * this list, so its merging and its two bounds (the range, the count) are what the client sees.
 */
class ExtentsTest {
    private static final int HOLE = NBD_STATE_HOLE | NBD_STATE_ZERO;
    private static final int DATA = 0;

    /** The extents held, as "length/flags" pairs, for one-line comparisons. */
    static List<String> held(Extents e) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < e.count(); i++) {
            out.add(e.length(i) + "/" + e.flags(i));
        }
        return out;
    }

    @Test
    void adjacentExtentsWithTheSameFlagsAreOne() {
        Extents e = new Extents(100, 1000, 4);
        assertTrue(e.add(300, HOLE));
        assertTrue(e.add(200, HOLE)); // same flags: lengthens the first
        assertTrue(e.add(100, DATA));
        assertTrue(e.add(50, DATA));
        assertEquals(List.of("500/3", "150/0"), held(e));
        assertEquals(650, e.covered());
    }

    @Test
    void anExtentPastTheRangeIsCutAtItsEnd() {
        Extents e = new Extents(100, 1000, 4);
        assertTrue(e.add(400, DATA));
        // a backend may know a longer run than was asked (a hole to the end of the file): only the range counts
        assertFalse(e.add(1 << 20, HOLE));
        assertEquals(List.of("400/0", "600/3"), held(e));
        assertEquals(1000, e.covered());
        assertEquals(0, e.remaining());
        assertEquals(1100, e.next());
        assertFalse(e.wantsMore());
    }

    @Test
    void nextAndRemainingFollowWhatIsCovered() {
        Extents e = new Extents(4096, 10_000, 8);
        assertEquals(4096, e.offset());
        assertEquals(4096, e.next());
        assertEquals(10_000, e.remaining());
        assertEquals(0, e.count());
        assertTrue(e.wantsMore());
        e.add(1000, DATA);
        assertEquals(5096, e.next());
        assertEquals(9000, e.remaining());
        e.add(1000, DATA); // merged: next moves, the count does not
        assertEquals(6096, e.next());
        assertEquals(8000, e.remaining());
        assertEquals(1, e.count());
        assertEquals(4096, e.offset(), "the range's start stays where it was");
    }

    @Test
    void atMostMaxExtentsAreHeld() {
        Extents e = new Extents(0, 1000, 2);
        assertTrue(e.add(100, DATA));
        assertTrue(e.add(100, HOLE), "two held, but a like extent could still lengthen the last");
        assertTrue(e.add(50, HOLE), "it does");
        assertFalse(e.add(100, DATA), "a third unlike extent ends the answer");
        assertFalse(e.wantsMore());
        assertEquals(750, e.remaining(), "the range is not covered: the client asks again from next()");
        assertEquals(250, e.next());
        // a backend that adds anyway changes nothing, even with the flags of the last extent
        assertFalse(e.add(100, HOLE));
        assertFalse(e.add(100, DATA));
        assertEquals(List.of("100/0", "150/3"), held(e));
        assertEquals(250, e.covered());
    }

    /**
     * With {@code max} extents held, a like extent (the flags of the last) still lengthens the last one,
     * but an unlike one ends the answer: refused, and nothing is added after it, whatever its flags.
     */
    @Test
    void atTheCountBoundOnlyTheLastExtentGrows() {
        Extents e = new Extents(0, 1 << 20, 2);
        assertTrue(e.add(4096, DATA));
        assertTrue(e.add(4096, HOLE));
        assertEquals(2, e.count());
        assertTrue(e.add(8192, HOLE), "two held: a like extent lengthens the last");
        assertEquals(2, e.count());
        assertEquals(12288, e.length(1));
        assertEquals(16384, e.covered());
        assertTrue(e.wantsMore());

        assertFalse(e.add(4096, DATA), "an unlike extent past the bound is refused");
        assertFalse(e.wantsMore());
        assertEquals(2, e.count());
        assertEquals(16384, e.covered());
        assertEquals(16384, e.next());
        assertEquals((1 << 20) - 16384, e.remaining());

        // refused from now on, even an extent like the last one
        assertFalse(e.add(4096, HOLE));
        assertFalse(e.add(4096, DATA));
        assertFalse(e.wantsMore());
        assertEquals(List.of("4096/0", "12288/3"), held(e));
        assertEquals(16384, e.covered());
    }

    @Test
    void oneExtentForReqOne() {
        Extents e = new Extents(0, 1 << 20, 1);
        assertTrue(e.add(4096, HOLE));
        assertTrue(e.add(4096, HOLE), "a run of like extents is one extent");
        assertFalse(e.add(4096, DATA));
        assertEquals(List.of("8192/3"), held(e));
    }

    @Test
    void emptyOrNegativeExtentsAreIgnored() {
        Extents e = new Extents(0, 1000, 4);
        assertTrue(e.add(0, DATA));
        assertTrue(e.add(-5, HOLE));
        assertEquals(0, e.count());
        assertEquals(0, e.covered());
    }

    @Test
    void growsPastItsFirstEightExtents() {
        Extents e = new Extents(0, 100 * 512, 1000);
        for (int i = 0; i < 20; i++) {
            e.add(512 + i, i % 2 == 0 ? DATA : HOLE);
        }
        assertEquals(20, e.count());
        for (int i = 0; i < 20; i++) {
            assertEquals(512 + i, e.length(i), "extent " + i);
            assertEquals(i % 2 == 0 ? DATA : HOLE, e.flags(i), "extent " + i);
        }
    }

    @Test
    void aRangeOfNothingOrACountOfNothingIsRefused() {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> new Extents(0, 0, 4));
        assertEquals("extents of 0 bytes, at most 4", zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Extents(0, -1, 4));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> new Extents(0, 512, 0));
        assertEquals("extents of 512 bytes, at most 0", none.getMessage());
    }
}
