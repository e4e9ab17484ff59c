package dev.dmp.controller.fleet;

import dev.dmp.proto.OldView;
import dev.dmp.proto.v1.OpStats;
import dev.dmp.proto.v1.StatsRow;

/** Read and write counts of a volume, a host or the fleet; immutable. */
public record Counts(long readRequests, long readBytes, long writeRequests, long writeBytes) {
    public static final Counts ZERO = new Counts(0, 0, 0, 0);

    public Counts plus(Counts o) {
        return new Counts(readRequests + o.readRequests, readBytes + o.readBytes,
                writeRequests + o.writeRequests, writeBytes + o.writeBytes);
    }

    /** The old read / write / total view of these counts, as a row. */
    public StatsRow.Builder toRow(String host, String volume) {
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
