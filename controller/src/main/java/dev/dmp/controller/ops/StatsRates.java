package dev.dmp.controller.ops;

import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.StatsRate;
import dev.dmp.proto.v1.StatsRow;
import java.util.HashMap;
import java.util.Map;

/** Rates per second between two answers to the same stats request, row by row (WatchStats). */
public final class StatsRates {
    private StatsRates() {}

    /** {@code now} with one rate per row, measured against {@code before} over {@code seconds}. */
    public static QueryStatsResponse between(QueryStatsResponse before, QueryStatsResponse now, double seconds) {
        Map<String, StatsRow> previous = new HashMap<>();
        before.getRowsList().forEach(r -> previous.put(key(r), r));
        QueryStatsResponse.Builder out = now.toBuilder().clearRates();
        for (StatsRow row : now.getRowsList()) {
            StatsRate.Builder rate = StatsRate.newBuilder()
                    .setHost(row.getHost())
                    .setVolume(row.getVolume())
                    .setIntervalSeconds(seconds);
            StatsRow old = previous.get(key(row));
            // A new row or one that went down (a reset) has no meaningful rate this time: zero.
            if (old != null
                    && seconds > 0
                    && row.getTotal().getRequests() >= old.getTotal().getRequests()
                    && row.getRead().getBytes() >= old.getRead().getBytes()
                    && row.getWrite().getBytes() >= old.getWrite().getBytes()) {
                rate.setReadRequestsPerSecond(
                                (row.getRead().getRequests() - old.getRead().getRequests()) / seconds)
                        .setReadBytesPerSecond(
                                (row.getRead().getBytes() - old.getRead().getBytes()) / seconds)
                        .setWriteRequestsPerSecond(
                                (row.getWrite().getRequests() - old.getWrite().getRequests()) / seconds)
                        .setWriteBytesPerSecond(
                                (row.getWrite().getBytes() - old.getWrite().getBytes()) / seconds);
            }
            out.addRates(rate);
        }
        return out.build();
    }

    /**
     * True when the two answers hold the same rows but for {@code last_seen}: agents' heartbeats move
     * it every second, which is no news for a watcher (going stale still is).
     */
    public static boolean sameCounts(QueryStatsResponse a, QueryStatsResponse b) {
        if (a.getRowsCount() != b.getRowsCount()) {
            return false;
        }
        for (int i = 0; i < a.getRowsCount(); i++) {
            if (!a.getRows(i).toBuilder()
                    .clearLastSeen()
                    .build()
                    .equals(b.getRows(i).toBuilder().clearLastSeen().build())) {
                return false;
            }
        }
        return true;
    }

    /** True when any rate is not zero. */
    public static boolean moving(QueryStatsResponse response) {
        return response.getRatesList().stream()
                .anyMatch(r -> r.getReadRequestsPerSecond() != 0 || r.getWriteRequestsPerSecond() != 0);
    }

    private static String key(StatsRow row) {
        return row.getHost() + "/" + row.getVolume();
    }
}
