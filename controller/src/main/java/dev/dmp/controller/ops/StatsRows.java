package dev.dmp.controller.ops;

import com.google.protobuf.Timestamp;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OldView;
import dev.dmp.proto.v1.OpStats;
import dev.dmp.proto.v1.StatsRow;
import java.time.Instant;

/** Builds StatsRow messages: the old read / write / total view derived from the detailed counters. */
public final class StatsRows {
    private StatsRows() {
    }

    public static StatsRow.Builder row(String host, String volume, CounterSet c) {
        long rr = c.requests(CounterSet.READ), rb = c.bytes(CounterSet.READ);
        long wr = c.requests(CounterSet.WRITE), wb = c.bytes(CounterSet.WRITE);
        return StatsRow.newBuilder()
                .setHost(host)
                .setVolume(volume)
                .setRead(op(rr, rb))
                .setWrite(op(wr, wb))
                .setTotal(op(rr + wr, rb + wb))
                .addAllOps(c.toProto());
    }

    public static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    private static OpStats op(long requests, long bytes) {
        return OpStats.newBuilder()
                .setRequests(requests)
                .setBytes(bytes)
                .setAvgSize(OldView.averageSize(bytes, requests))
                .build();
    }
}
