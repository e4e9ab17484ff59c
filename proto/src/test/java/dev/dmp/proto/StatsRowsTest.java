package dev.dmp.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Timestamp;
import dev.dmp.proto.v1.OpStats;
import dev.dmp.proto.v1.StatsRow;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The old read / write / total view, derived from the detailed counters (was CountsTest). */
class StatsRowsTest {

    private static OpStats op(long requests, long bytes, long avg) {
        return OpStats.newBuilder()
                .setRequests(requests)
                .setBytes(bytes)
                .setAvgSize(avg)
                .build();
    }

    @Test
    void rowOfTheIssueExample() {
        // 3 writes of 4096 and 2 reads of 8192
        CounterSet c = CounterSet.empty();
        for (int i = 0; i < 3; i++) {
            c.record(CounterSet.WRITE, 4096, 0, 1000);
        }
        for (int i = 0; i < 2; i++) {
            c.record(CounterSet.READ, 8192, 0, 1000);
        }
        StatsRow row = StatsRows.row("node-a", "dmp1", c).build();
        assertEquals(
                StatsRow.newBuilder()
                        .setHost("node-a")
                        .setVolume("dmp1")
                        .setRead(op(2, 16384, 8192))
                        .setWrite(op(3, 12288, 4096))
                        .setTotal(op(5, 28672, 5734))
                        .addAllOps(c.toProto())
                        .build(),
                row);
    }

    @Test
    void emptyRowAveragesZero() {
        StatsRow row = StatsRows.row("", "", CounterSet.empty()).build();
        assertEquals(op(0, 0, 0), row.getRead());
        assertEquals(op(0, 0, 0), row.getWrite());
        assertEquals(op(0, 0, 0), row.getTotal());
        assertEquals(List.of(), row.getOpsList());
    }

    @Test
    void errorsAndOtherOperationsStayOutOfTheOldView() {
        CounterSet c = CounterSet.empty();
        c.record(CounterSet.READ, 512, 0, 1000);
        c.record(CounterSet.READ, 4096, 22, 1000); // refused: no request, no bytes in the old view
        c.record(CounterSet.WRITE, 1024, 5, 1000);
        c.record(CounterSet.FLUSH, 0, 0, 1000);
        c.record(CounterSet.TRIM, 1 << 20, 0, 1000);
        StatsRow row = StatsRows.row("h", "v", c).build();
        assertEquals(op(1, 512, 512), row.getRead());
        assertEquals(op(0, 0, 0), row.getWrite());
        assertEquals(op(1, 512, 512), row.getTotal());
        assertEquals(4, row.getOpsCount(), "READ, WRITE, FLUSH and TRIM keep their detailed counters");
        assertEquals(1, row.getOps(1).getErrors());
    }

    @Test
    void sumsAddEveryCounter() {
        // (1 read, 2 writes) + (2 reads, 3 writes), 10 bytes each
        CounterSet a = CounterSet.empty();
        a.record(CounterSet.READ, 10, 0, 1);
        a.record(CounterSet.WRITE, 10, 0, 1);
        a.record(CounterSet.WRITE, 10, 0, 1);
        CounterSet b = CounterSet.empty();
        b.record(CounterSet.READ, 10, 0, 1);
        b.record(CounterSet.READ, 10, 0, 1);
        b.record(CounterSet.WRITE, 10, 0, 1);
        b.record(CounterSet.WRITE, 10, 0, 1);
        b.record(CounterSet.WRITE, 10, 0, 1);
        a.add(b);
        StatsRow row = StatsRows.row("", "", a).build();
        assertEquals(op(3, 30, 10), row.getRead());
        assertEquals(op(5, 50, 10), row.getWrite());
        assertEquals(op(8, 80, 10), row.getTotal());
    }

    @Test
    void timestampKeepsNanoseconds() {
        assertEquals(
                Timestamp.newBuilder()
                        .setSeconds(1795684800)
                        .setNanos(123456789)
                        .build(),
                StatsRows.timestamp(Instant.parse("2026-11-26T09:20:00.123456789Z")));
    }
}
