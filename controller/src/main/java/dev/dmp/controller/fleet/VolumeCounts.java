package dev.dmp.controller.fleet;

import dev.dmp.proto.CounterSet;
import java.time.Instant;

/**
 * One volume's numbers as the ledger holds them, copied out for a query: counts since the last reset
 * (the old view), counts across resets (for Prometheus), and how fresh they are.
 */
public record VolumeCounts(
        String host,
        String volume,
        long generation,
        CounterSet sinceReset,
        CounterSet lifetime,
        long inFlight,
        boolean stale,
        Instant lastSeen) {}
