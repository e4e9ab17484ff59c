package dev.dmp.agent.backend;

import static dev.dmp.agent.backend.ExtentsTest.held;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The memory backend's extents are its page map: a page of {@value MemoryBackend#PAGE} bytes is data
 * once any byte of it is written, and a hole that reads as zeroes until then or once zeroed whole.
 */
class MemoryBackendExtentsTest {
    private static final int PAGE = MemoryBackend.PAGE;
    private static final int HOLE = 3; // NBD_STATE_HOLE | NBD_STATE_ZERO
    private static final int DATA = 0;

    private final MemoryBackend memory = new MemoryBackend(8L * PAGE);

    private List<String> extents(long offset, long length) {
        Extents e = new Extents(offset, length, 100);
        memory.extents(e);
        return held(e);
    }

    private static String e(long length, int flags) {
        return length + "/" + flags;
    }

    @Test
    void nothingWrittenIsOneHole() {
        assertEquals(List.of(e(8L * PAGE, HOLE)), extents(0, 8L * PAGE));
    }

    @Test
    void aWriteMakesItsWholePagesData() {
        // 100 bytes in page 1, and 2 bytes across the boundary of pages 4 and 5
        memory.write(PAGE + 10, ByteBuffer.allocate(100), false);
        memory.write(5L * PAGE - 1, ByteBuffer.allocate(2), false);
        assertEquals(
                List.of(e(PAGE, HOLE), e(PAGE, DATA), e(2L * PAGE, HOLE), e(2L * PAGE, DATA), e(2L * PAGE, HOLE)),
                extents(0, 8L * PAGE));
    }

    @Test
    void aRangeThatStartsAndEndsWithinPages() {
        memory.write(PAGE, ByteBuffer.allocate(PAGE), false);
        // [PAGE / 2, 2 PAGE + 100): half of page 0, page 1, 100 bytes of page 2
        assertEquals(List.of(e(PAGE / 2, HOLE), e(PAGE, DATA), e(100, HOLE)), extents(PAGE / 2, PAGE + PAGE / 2 + 100));
    }

    @Test
    void zeroingAWholePageMakesItAHoleAgainAndAPartOfOneDoesNot() {
        memory.write(0, ByteBuffer.allocate(3 * PAGE), false);
        memory.zero(PAGE, PAGE, true, false, false);
        memory.trim(2L * PAGE, 4096, false);
        assertEquals(List.of(e(PAGE, DATA), e(PAGE, HOLE), e(PAGE, DATA), e(5L * PAGE, HOLE)), extents(0, 8L * PAGE));
    }

    @Test
    void oneExtentIsTheWholeRunOfLikePages() {
        // REQ_ONE asks for one extent: three written pages in a row are one, not the first page alone.
        memory.write(2L * PAGE, ByteBuffer.allocate(3 * PAGE), false);
        Extents one = new Extents(2L * PAGE, 6L * PAGE, 1);
        memory.extents(one);
        assertEquals(List.of(e(3L * PAGE, DATA)), held(one));
    }
}
