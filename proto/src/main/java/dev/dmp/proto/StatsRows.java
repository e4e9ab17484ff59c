package dev.dmp.proto;

import dev.dmp.proto.v1.OpStats;
import dev.dmp.proto.v1.StatsRow;

/** QueryStats rows (the old read / write / total view) from read and write counts; both apps answer with them. */
public final class StatsRows {
    private StatsRows() {
    }

    public static StatsRow.Builder row(String host, String volume, long readRequests, long readBytes,
            long writeRequests, long writeBytes) {
        return StatsRow.newBuilder()
                .setHost(host)
                .setVolume(volume)
                .setRead(op(readRequests, readBytes))
                .setWrite(op(writeRequests, writeBytes))
                .setTotal(op(readRequests + writeRequests, readBytes + writeBytes));
    }

    private static OpStats op(long requests, long bytes) {
        return OpStats.newBuilder()
                .setRequests(requests)
                .setBytes(bytes)
                .setAvgSize(OldView.averageSize(bytes, requests))
                .build();
    }
}
