package dev.dmp.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What a write changes of a host in a store of rows (PostgreSQL): its own row, the volumes whose
 * columns changed since its last write, and, when some volume left the host since then (or what the
 * store holds of it is not known), every volume it has, so that the rows of the others are deleted.
 *
 * @param names every volume the host has, when the store must delete the rows of any other; empty
 *     when no volume left the host since its last write
 * @param volumes the volumes to write, each whole
 */
public record HostRows(
        String runId,
        long appliedSeq,
        String agentVersion,
        Instant lastSeen,
        Optional<List<String>> names,
        List<VolumeRow> volumes) {

    /**
     * One volume's columns (db/ledger/V1__ledger.sql): the encoded {@code dmp.v1.Volume}, and its
     * counters as encoded {@code dmp.v1.CounterRecord}s.
     */
    public record VolumeRow(
            String name,
            byte[] volume,
            long generation,
            byte[] lifetime,
            byte[] sinceReset,
            byte[] beforeReset,
            long inFlight) {}
}
