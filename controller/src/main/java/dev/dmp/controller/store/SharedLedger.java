package dev.dmp.controller.store;

import dev.dmp.proto.v1.HostRecord;
import java.util.Collection;
import java.util.List;

/**
 * What a replica needs of a ledger shared with other replicas, beyond its own hosts' claims and writes
 * (docs/replication.md, "Replicas"): to say it is alive and where it is, to see which hosts the others
 * changed, and to read those hosts' committed records. Only PostgreSQL shares its ledger.
 */
public interface SharedLedger {
    /** How long a replica's heartbeat counts as fresh: a few of its one-second beats. */
    int FRESH_SECONDS = 5;

    /** This replica's id ({@code dmp.controller.replica-id}). */
    String replicaId();

    /**
     * Writes this replica's heartbeat with its address, and returns the replicas whose heartbeat is
     * fresh (this one included), sorted by id.
     *
     * @throws LedgerUnavailableException when the database does not answer
     */
    List<Replica> heartbeat(String address);

    /**
     * Every host's version and owner, and whether it is online as any reader should see it: its owner
     * wrote it online and the owner's heartbeat is fresh (a replica killed with {@code kill -9} leaves
     * its hosts marked online).
     */
    List<HostVersion> hostVersions();

    /** The committed records of these hosts, each with its version, read in one snapshot. */
    List<VersionedRecord> load(Collection<String> hostIds);

    /** A live replica and where the others reach it. */
    record Replica(String id, String address) {}

    /**
     * A host's row: {@code version} changes with every write of the host (PostgreSQL's {@code xmin}),
     * so a reader re-reads only hosts whose version it has not seen.
     */
    record HostVersion(String hostId, long version, String owner, boolean online) {}

    /** A host's committed record as of {@code version}. */
    record VersionedRecord(HostVersion version, HostRecord record) {}
}
