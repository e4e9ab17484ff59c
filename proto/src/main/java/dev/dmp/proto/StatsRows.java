package dev.dmp.proto;

import com.google.protobuf.Timestamp;
import dev.dmp.proto.v1.OpStats;
import dev.dmp.proto.v1.StatsRow;
import java.time.Instant;

/**
 * QueryStats rows: the old read / write / total view derived from the detailed counters, which the
 * row carries too. Both apps answer with them.
 */
public final class StatsRows {
    private StatsRows() {}

    public static StatsRow.Builder row(
            String host, String volume, long readRequests, long readBytes, long writeRequests, long writeBytes) {
        return StatsRow.newBuilder()
                .setHost(host)
                .setVolume(volume)
                .setRead(op(readRequests, readBytes))
                .setWrite(op(writeRequests, writeBytes))
                .setTotal(op(readRequests + writeRequests, readBytes + writeBytes));
    }

    /** A row of the old view with the detailed counters it is derived from. */
    public static StatsRow.Builder row(String host, String volume, CounterSet c) {
        return row(
                        host,
                        volume,
                        c.requests(CounterSet.READ),
                        c.bytes(CounterSet.READ),
                        c.requests(CounterSet.WRITE),
                        c.bytes(CounterSet.WRITE))
                .addAllOps(c.toProto());
    }

    public static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder()
                .setSeconds(t.getEpochSecond())
                .setNanos(t.getNano())
                .build();
    }

    private static OpStats op(long requests, long bytes) {
        return OpStats.newBuilder()
                .setRequests(requests)
                .setBytes(bytes)
                .setAvgSize(OldView.averageSize(bytes, requests))
                .build();
    }
}
