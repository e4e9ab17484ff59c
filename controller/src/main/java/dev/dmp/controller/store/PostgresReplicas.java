package dev.dmp.controller.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link SharedLedger} on PostgreSQL: the {@code replicas} table (V2__replicas.sql) and reads of
 * other replicas' hosts. Its own connections (one for the heartbeat, one for the reads), so neither a
 * commit, nor a burst of claims, nor a long read holds up the heartbeat. Reads run in REPEATABLE READ:
 * a host's row and its volumes' rows come from one snapshot, never half of one commit and half of the
 * next.
 */
final class PostgresReplicas implements SharedLedger {
    private static final String BEAT = """
            INSERT INTO replicas (replica_id, address) VALUES (?, ?)
            ON CONFLICT (replica_id) DO UPDATE SET address = EXCLUDED.address, heartbeat = now()""";
    private static final String FRESH = "heartbeat > now() - interval '" + FRESH_SECONDS + " seconds'";
    private static final String ALIVE =
            "SELECT replica_id, address FROM replicas WHERE " + FRESH + " ORDER BY replica_id";
    private static final String VERSIONS = """
            SELECT h.host_id, h.xmin::text::bigint, h.owner, h.online AND coalesce(r.%s, false)
              FROM hosts h LEFT JOIN replicas r ON r.replica_id = h.owner""".formatted(FRESH);
    private static final String HOSTS = "SELECT host_id, run_id, applied_seq, agent_version, last_seen, "
            + "xmin::text::bigint, owner, online FROM hosts WHERE host_id = ANY (?)";

    private final String replicaId;
    /** The heartbeat's own: a long read of other replicas' hosts must not make this replica look dead. */
    private final LedgerConnection beats;

    private final LedgerConnection reads;

    PostgresReplicas(String replicaId, LedgerConnection beats, LedgerConnection reads) {
        this.replicaId = replicaId;
        this.beats = beats;
        this.reads = reads;
    }

    @Override
    public String replicaId() {
        return replicaId;
    }

    @Override
    public List<Replica> heartbeat(String address) {
        return beats.inTransaction("writing replica " + replicaId + "'s heartbeat", c -> {
            try (PreparedStatement beat = c.prepareStatement(BEAT)) {
                beat.setString(1, replicaId);
                beat.setString(2, address);
                beat.executeUpdate();
            }
            List<Replica> alive = new ArrayList<>();
            try (ResultSet rs = c.createStatement().executeQuery(ALIVE)) {
                while (rs.next()) {
                    alive.add(new Replica(rs.getString(1), rs.getString(2)));
                }
            }
            return alive;
        });
    }

    @Override
    public List<HostVersion> hostVersions() {
        return reads.inTransaction("reading the hosts' versions", c -> {
            List<HostVersion> out = new ArrayList<>();
            try (ResultSet rs = c.createStatement().executeQuery(VERSIONS)) {
                while (rs.next()) {
                    out.add(new HostVersion(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getBoolean(4)));
                }
            }
            return out;
        });
    }

    @Override
    public List<VersionedRecord> load(Collection<String> hostIds) {
        if (hostIds.isEmpty()) {
            return List.of();
        }
        return reads.inTransaction("reading " + hostIds.size() + " hosts of other replicas", c -> {
            snapshot(c);
            String[] ids = hostIds.toArray(String[]::new);
            Map<String, HostVersion> versions = new LinkedHashMap<>();
            Map<String, dev.dmp.proto.v1.HostRecord.Builder> records = new LinkedHashMap<>();
            try (PreparedStatement hosts = c.prepareStatement(HOSTS)) {
                hosts.setArray(1, c.createArrayOf("text", ids));
                try (ResultSet rs = hosts.executeQuery()) {
                    while (rs.next()) {
                        String id = rs.getString(1);
                        records.put(id, PostgresLedgerStore.host(id, rs, 2));
                        // Whether its owner is alive is hostVersions' answer; the row's own flag here.
                        versions.put(id, new HostVersion(id, rs.getLong(6), rs.getString(7), rs.getBoolean(8)));
                    }
                }
            }
            try (PreparedStatement volumes =
                    c.prepareStatement(PostgresLedgerStore.SELECT_VOLUMES + " WHERE host_id = ANY (?)")) {
                volumes.setArray(1, c.createArrayOf("text", ids));
                try (ResultSet rs = volumes.executeQuery()) {
                    while (rs.next()) {
                        var h = records.get(rs.getString(1));
                        if (h != null) {
                            h.addVolumes(PostgresLedgerStore.volume(rs));
                        }
                    }
                }
            }
            List<VersionedRecord> out = new ArrayList<>(records.size());
            records.forEach((id, r) -> out.add(new VersionedRecord(versions.get(id), r.build())));
            return out;
        });
    }

    void close() {
        beats.close();
        reads.close();
    }

    /** The first statement of the transaction fixes its snapshot; REPEATABLE READ keeps it to the end. */
    private static void snapshot(Connection c) throws SQLException {
        c.createStatement().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    }
}
