package dev.dmp.controller.fleet;

import dev.dmp.proto.StatsRows;
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
        return StatsRows.row(host, volume, readRequests, readBytes, writeRequests, writeBytes);
    }
}
