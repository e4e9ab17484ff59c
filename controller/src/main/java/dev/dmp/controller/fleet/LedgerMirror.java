package dev.dmp.controller.fleet;

import dev.dmp.controller.store.LedgerUnavailableException;
import dev.dmp.controller.store.SharedLedger;
import dev.dmp.controller.store.SharedLedger.HostVersion;
import dev.dmp.controller.store.SharedLedger.Replica;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Keeps a replica's view of the hosts other replicas hold (docs/replication.md, "Replicas"): once a
 * second it writes its heartbeat, reads every host's version, and re-reads from the store only the
 * hosts written since it last read them. So every replica answers queries, the dashboard and the
 * metrics for the whole fleet, from committed rows, at most a refresh behind the owner's commits.
 */
public final class LedgerMirror {
    private static final Logger LOG = Logger.getLogger(LedgerMirror.class);

    private final SharedLedger store;
    private final FleetLedger ledger;
    private final String address;
    private final CommitFailureLog beatFailures = new CommitFailureLog(
            "replica heartbeat",
            "this replica stops exporting the ledger's metrics, and others see its hosts offline after "
                    + SharedLedger.FRESH_SECONDS + " s",
            "replica heartbeats succeed again");
    private final CommitFailureLog readFailures = new CommitFailureLog(
            "reading other replicas' hosts",
            "they are shown as last read",
            "reads of other replicas' hosts succeed again");

    /** The replicas alive at the last heartbeat, sorted by id, and when (System.nanoTime) it was read. */
    private volatile List<Replica> alive = List.of();

    private volatile long aliveAt;

    /** What one refresh did, for logs and tests. */
    public record Refresh(int hosts, int read, int replicas) {}

    public LedgerMirror(SharedLedger store, FleetLedger ledger, String address) {
        this.store = store;
        this.ledger = ledger;
        this.address = address;
    }

    /** {@link #beat}; a database that does not answer is logged (rate-limited), and tried at the next. */
    public void beatQuietly() {
        try {
            beat();
            beatFailures.succeeded();
        } catch (LedgerUnavailableException e) {
            beatFailures.failed(e);
        }
    }

    /** {@link #read}, likewise. */
    public Optional<Refresh> readQuietly() {
        try {
            Refresh r = read();
            readFailures.succeeded();
            return Optional.of(r);
        } catch (LedgerUnavailableException e) {
            readFailures.failed(e);
            return Optional.empty();
        }
    }

    /** Beats, then reads: what a replica does at start-up, and tests. */
    public Refresh refresh() {
        beat();
        return read();
    }

    /**
     * Writes this replica's heartbeat and learns which replicas are live.
     *
     * @throws LedgerUnavailableException when the database does not answer
     */
    public void beat() {
        alive = store.heartbeat(address);
        aliveAt = System.nanoTime();
    }

    /**
     * Brings every host held elsewhere up to its committed version.
     *
     * @throws LedgerUnavailableException when the database does not answer
     */
    public Refresh read() {
        List<Replica> replicas = alive;
        Map<String, Long> known = ledger.mirrorVersions();
        Map<String, HostVersion> toRead = new HashMap<>();
        List<HostVersion> versions = store.hostVersions();
        for (HostVersion v : versions) {
            Long mine = known.get(v.hostId());
            if (mine == null || (mine != FleetLedger.HELD && mine != v.version())) {
                toRead.put(v.hostId(), v);
            } else if (mine != FleetLedger.HELD) {
                ledger.mirrorOwner(v.hostId(), v.owner(), v.online());
            }
        }
        int read = 0;
        for (SharedLedger.VersionedRecord r : store.load(new ArrayList<>(toRead.keySet()))) {
            // Online as hostVersions judged it (its owner's heartbeat), not the row's own flag.
            HostVersion seen = toRead.get(r.version().hostId());
            boolean online = seen != null && seen.owner().equals(r.version().owner()) && seen.online();
            ledger.mirror(r.record(), r.version().version(), r.version().owner(), online);
            read++;
        }
        if (read > 0) {
            LOG.debugf("read %d hosts held by other replicas", read);
        }
        return new Refresh(versions.size(), read, replicas.size());
    }

    /**
     * Reads one host now: a command named a host this replica does not know, which may have connected
     * to another replica since the last read. Returns whether the store has it; false also when the
     * store does not answer (then the command says the host is unknown, as it would have).
     */
    public boolean readHost(String host) {
        try {
            List<SharedLedger.VersionedRecord> found = store.load(List.of(host));
            for (SharedLedger.VersionedRecord r : found) {
                HostVersion v = r.version();
                boolean online = v.online() && address(v.owner()).isPresent();
                ledger.mirror(r.record(), v.version(), v.owner(), online);
            }
            return !found.isEmpty();
        } catch (LedgerUnavailableException e) {
            LOG.warnf("reading host %s, which this replica did not know yet, failed: %s", host, e.getMessage());
            return false;
        }
    }

    /**
     * The live replicas as of the last heartbeat, when that heartbeat is fresh; empty when this replica
     * cannot reach the database (then it cannot tell who is alive, and acts as if alone and unsure).
     */
    public List<Replica> alive() {
        return System.nanoTime() - aliveAt < SharedLedger.FRESH_SECONDS * 1_000_000_000L ? alive : List.of();
    }

    /** The address of a live replica, by id. */
    public Optional<String> address(String replicaId) {
        return alive().stream()
                .filter(r -> r.id().equals(replicaId))
                .map(Replica::address)
                .findFirst();
    }

    /**
     * Whether this replica exports the ledger's metrics: it is the live replica with the lowest id.
     * Exactly one does while the replicas agree on who is alive; during a handover (about
     * {@link SharedLedger#FRESH_SECONDS}) two or none may, for a scrape or two (docs/replication.md).
     */
    public boolean exportsLedgerMetrics() {
        List<Replica> now = alive();
        return !now.isEmpty() && now.get(0).id().equals(store.replicaId());
    }
}
