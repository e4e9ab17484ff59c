package dev.dmp.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The old sysfs text is read by people and scripts: compare it whole. */
class OldViewTest {

    @Test
    void issueExample() {
        // 3 writes of 4096 and 2 reads of 8192: total 28672 bytes / 5 requests = 5734.4, rounded down
        StringBuilder out = new StringBuilder();
        OldView.appendBlock(out, "dmp1", 2, 16384, 3, 12288);
        assertEquals("""
                dmp1:
                read:
                  reqs: 2
                  avg size: 8192
                write:
                  reqs: 3
                  avg size: 4096
                total:
                  reqs: 5
                  avg size: 5734
                """, out.toString());
    }

    @Test
    void noRequestsAverageZeroAndBlocksFollowEachOther() {
        StringBuilder out = new StringBuilder();
        OldView.appendBlock(out, "node-a/dmp1", 0, 0, 0, 0);
        OldView.appendBlock(out, "node-a/dmp2", 1, 4096, 0, 0);
        assertEquals("""
                node-a/dmp1:
                read:
                  reqs: 0
                  avg size: 0
                write:
                  reqs: 0
                  avg size: 0
                total:
                  reqs: 0
                  avg size: 0
                node-a/dmp2:
                read:
                  reqs: 1
                  avg size: 4096
                write:
                  reqs: 0
                  avg size: 0
                total:
                  reqs: 1
                  avg size: 4096
                """, out.toString());
    }

    @Test
    void averagesRoundDown() {
        assertEquals(0, OldView.averageSize(0, 0));
        assertEquals(0, OldView.averageSize(123, 0));
        assertEquals(1, OldView.averageSize(5, 3));
        assertEquals(3, OldView.averageSize(11, 3));
        assertEquals(4096, OldView.averageSize(4096, 1));
    }

    @Test
    void countsPastLongMaxStayUnsigned() {
        // uint64 on the wire: 2^64 - 2 bytes in 2 requests is 2^63 - 1 each
        assertEquals(Long.MAX_VALUE, OldView.averageSize(-2L, 2));
    }
}
