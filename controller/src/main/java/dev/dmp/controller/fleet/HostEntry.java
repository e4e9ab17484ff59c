package dev.dmp.controller.fleet;

import java.time.Instant;
import java.util.TreeMap;

/** What the ledger knows of one host: its agent's delta numbering, when it was last heard from, its volumes. */
final class HostEntry {
    /** The store's epoch of this process's claim of the host (0 with a store of one process). */
    long epoch;

    /**
     * With a shared store: the replica that holds the host's stream, when it is not this process (a
     * <em>mirrored</em> host, read from the store, never written here); null when this process holds it.
     */
    String owner;
    /** A mirrored host's version as last read from the store ({@link #UNREAD}: read it again). */
    long version;
    /** This process's stream of the host ended: once its offline state is written, the host is mirrored. */
    boolean released;

    static final long UNREAD = Long.MIN_VALUE;

    boolean mirrored() {
        return owner != null;
    }

    String runId = "";
    long appliedSeq;
    /** Written without the ledger's lock by {@link FleetLedger#seen}, which every message from the agent calls. */
    volatile Instant lastSeen = Instant.EPOCH;

    String agentVersion = "";
    boolean online;
    final TreeMap<String, VolumeEntry> volumes = new TreeMap<>();
    /**
     * Whether a volume left the host since its last write, or what the store holds of it is not known
     * (a new entry): its next write then deletes the rows of the volumes it no longer has.
     */
    boolean volumesGone = true;

    /** The next write writes every volume and deletes the rows of any other: the store's rows are not known. */
    void rewriteAll() {
        volumesGone = true;
        volumes.values().forEach(v -> v.changed = true);
    }
}
