package dev.dmp.controller.store;

import dev.dmp.proto.v1.HostRecord;
import java.util.List;

/**
 * Where the ledger is kept: one {@link HostRecord} per host. Two kinds ({@link StoreKind}): the MVStore
 * file of one controller process, and PostgreSQL, shared by replicas, where each host is written only by
 * the replica that claimed it last (docs/replication.md). Whatever the controller acknowledges after a
 * {@link #write} returns survives a crash.
 */
public interface LedgerStore extends AutoCloseable {

    /** Where the ledger is, for log lines: a file or a JDBC URL. */
    String location();

    /** Whether {@link #claim} waits on the network (then no event-loop thread may make it). */
    default boolean claimsWaitOnNetwork() {
        return false;
    }

    /**
     * Whether {@link #write} takes {@link HostRows} (the volumes changed since the host's last write)
     * rather than whole records. A store of rows never reads a record it is given more than once, so
     * writing only what changed costs it less; a store of records replaces each host's record whole.
     */
    default boolean writesRows() {
        return false;
    }

    /**
     * Whether the store answers now (readiness: a replica that cannot reach its database can neither
     * claim a host nor acknowledge a delta).
     */
    default boolean reachable() {
        return true;
    }

    /**
     * The ledger as shared with other replicas, when it is (PostgreSQL): then this process holds only
     * the hosts whose streams reached it, and reads the others' from the store.
     */
    default java.util.Optional<SharedLedger> shared() {
        return java.util.Optional.empty();
    }

    /** Every host's committed record, at start-up. A record that does not parse is logged and skipped. */
    List<HostRecord> loadAll();

    /**
     * Claims the host for this process, at its agent's Hello: the host's epoch goes up by one and the
     * writes of any earlier claim, here or in another replica, are refused from then on.
     *
     * @throws LedgerUnavailableException when the store cannot be reached
     */
    HostClaim claim(String hostId);

    /**
     * Writes the records (each with the epoch its host was claimed at) and returns once they are
     * durable. A record whose epoch is no longer current is not written: it comes back in the list, and
     * the caller MUST NOT acknowledge anything it holds.
     *
     * @return the writes refused because a newer claim fenced them; empty when every one was written
     * @throws LedgerUnavailableException when nothing could be written (nothing was)
     */
    List<HostWrite> write(List<HostWrite> writes);

    @Override
    void close();
}
