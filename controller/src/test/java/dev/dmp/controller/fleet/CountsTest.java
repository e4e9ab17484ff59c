package dev.dmp.controller.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.proto.v1.OpStats;
import dev.dmp.proto.v1.StatsRow;
import org.junit.jupiter.api.Test;

class CountsTest {

    private static OpStats op(long requests, long bytes, long avg) {
        return OpStats.newBuilder().setRequests(requests).setBytes(bytes).setAvgSize(avg).build();
    }

    @Test
    void rowOfTheIssueExample() {
        // 3 writes of 4096 and 2 reads of 8192
        StatsRow row = new Counts(2, 16384, 3, 12288).toRow("node-a", "dmp1").build();
        assertEquals(StatsRow.newBuilder().setHost("node-a").setVolume("dmp1")
                .setRead(op(2, 16384, 8192))
                .setWrite(op(3, 12288, 4096))
                .setTotal(op(5, 28672, 5734))
                .build(), row);
    }

    @Test
    void emptyRowAveragesZero() {
        StatsRow row = Counts.ZERO.toRow("", "").build();
        assertEquals(op(0, 0, 0), row.getRead());
        assertEquals(op(0, 0, 0), row.getWrite());
        assertEquals(op(0, 0, 0), row.getTotal());
    }

    @Test
    void plusAddsEveryCounter() {
        assertEquals(new Counts(3, 30, 5, 50), new Counts(1, 10, 2, 20).plus(new Counts(2, 20, 3, 30)));
    }
}
