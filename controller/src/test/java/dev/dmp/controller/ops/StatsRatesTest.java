package dev.dmp.controller.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.StatsRows;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.StatsRate;
import org.junit.jupiter.api.Test;

class StatsRatesTest {

    private static QueryStatsResponse rows(long readReqs, long readBytes, long writeReqs, long writeBytes) {
        return QueryStatsResponse.newBuilder()
                .addRows(StatsRows.row("node-a", "dmp1", readReqs, readBytes, writeReqs, writeBytes))
                .build();
    }

    @Test
    void ratesAreTheGrowthDividedByTheInterval() {
        // 3 reads of 4096 and 1 write of 1 MiB more, over 2 seconds.
        QueryStatsResponse r = StatsRates.between(rows(2, 8192, 0, 0), rows(5, 20480, 1, 1048576), 2.0);
        StatsRate rate = r.getRates(0);
        assertEquals("node-a", rate.getHost());
        assertEquals("dmp1", rate.getVolume());
        assertEquals(1.5, rate.getReadRequestsPerSecond());
        assertEquals(6144.0, rate.getReadBytesPerSecond());
        assertEquals(0.5, rate.getWriteRequestsPerSecond());
        assertEquals(524288.0, rate.getWriteBytesPerSecond());
        assertEquals(2.0, rate.getIntervalSeconds());
        assertTrue(StatsRates.moving(r));
    }

    @Test
    void aNewerLastSeenAloneIsNoChangeForAWatcherButStaleIs() {
        QueryStatsResponse before = rows(2, 8192, 1, 4096);
        QueryStatsResponse heartbeat = before.toBuilder()
                .setRows(
                        0,
                        before.getRows(0).toBuilder()
                                .setLastSeen(com.google.protobuf.Timestamp.newBuilder()
                                        .setSeconds(1_796_000_000)))
                .build();
        assertTrue(StatsRates.sameCounts(before, heartbeat));
        assertFalse(StatsRates.sameCounts(before, rows(2, 8192, 2, 8192)), "one more write");
        assertFalse(StatsRates.sameCounts(
                before,
                before.toBuilder()
                        .setRows(0, before.getRows(0).toBuilder().setStale(true))
                        .build()));
        assertFalse(StatsRates.sameCounts(before, QueryStatsResponse.getDefaultInstance()), "a row went");
    }

    @Test
    void aResetOrANewRowGivesZeroRates() {
        QueryStatsResponse afterReset = StatsRates.between(rows(10, 40960, 0, 0), rows(1, 4096, 0, 0), 1.0);
        assertEquals(0.0, afterReset.getRates(0).getReadRequestsPerSecond());
        assertFalse(StatsRates.moving(afterReset));
        QueryStatsResponse fresh =
                StatsRates.between(QueryStatsResponse.getDefaultInstance(), rows(1, 4096, 0, 0), 1.0);
        assertEquals(1, fresh.getRatesCount());
        assertEquals(0.0, fresh.getRates(0).getReadBytesPerSecond());
    }

    @Test
    void noGrowthMeansStopped() {
        QueryStatsResponse r = StatsRates.between(rows(5, 20480, 1, 512), rows(5, 20480, 1, 512), 1.0);
        assertFalse(StatsRates.moving(r));
    }
}
