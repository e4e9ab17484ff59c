package dev.dmp.controller.fleet;

import java.time.Instant;
import java.util.TreeMap;

/** What the ledger knows of one host: its agent's delta numbering, when it was last heard from, its volumes. */
final class HostEntry {
    /** The store's epoch of this process's claim of the host (0 with a store of one process). */
    long epoch;

    String runId = "";
    long appliedSeq;
    /** Written without the ledger's lock by {@link FleetLedger#seen}, which every message from the agent calls. */
    volatile Instant lastSeen = Instant.EPOCH;

    String agentVersion = "";
    boolean online;
    final TreeMap<String, VolumeEntry> volumes = new TreeMap<>();
}
