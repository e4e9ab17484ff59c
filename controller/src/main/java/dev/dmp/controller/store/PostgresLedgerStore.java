package dev.dmp.controller.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.dmp.proto.v1.CounterRecord;
import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.jboss.logging.Logger;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The ledger in PostgreSQL, shared by controller replicas (docs/replication.md, schema in
 * db/ledger/V1__ledger.sql). A {@link #claim} raises the host's epoch; a {@link #write} of a host
 * updates its row only {@code WHERE epoch = } the epoch it was claimed at, and that update comes first
 * in the transaction and holds the row's lock until the commit, so a write is either wholly before a
 * newer claim (which then reads it) or refused.
 */
public final class PostgresLedgerStore implements LedgerStore {
    private static final Logger LOG = Logger.getLogger(PostgresLedgerStore.class);
    /** Flyway's migrations: versioned files, each applied once and checked by checksum afterwards. */
    static final String MIGRATIONS = "classpath:db/ledger";

    private static final String CLAIM = """
            INSERT INTO hosts (host_id, owner, epoch) VALUES (?, ?, 1)
            ON CONFLICT (host_id) DO UPDATE SET epoch = hosts.epoch + 1, owner = EXCLUDED.owner, claimed_at = now()
            RETURNING epoch, run_id, applied_seq, agent_version, last_seen, xmax = 0 AS inserted""";
    private static final String UPDATE_HOST = """
            UPDATE hosts SET run_id = ?, applied_seq = ?, agent_version = ?, online = ?, last_seen = ?
             WHERE host_id = ? AND epoch = ?""";
    private static final String DELETE_GONE_VOLUMES = "DELETE FROM volumes WHERE host_id = ? AND NOT (name = ANY (?))";
    /** Every row of a batch in one statement, a column per array: one parse, plan and round trip. */
    private static final String UPSERT_VOLUMES = """
            INSERT INTO volumes (host_id, name, volume, generation, lifetime, since_reset, before_reset, in_flight)
            SELECT * FROM unnest(?::text[], ?::text[], ?::bytea[], ?::bigint[], ?::bytea[], ?::bytea[], ?::bytea[],
              ?::bigint[])
            ON CONFLICT (host_id, name) DO UPDATE SET volume = EXCLUDED.volume, generation = EXCLUDED.generation,
              lifetime = EXCLUDED.lifetime, since_reset = EXCLUDED.since_reset,
              before_reset = EXCLUDED.before_reset, in_flight = EXCLUDED.in_flight""";

    static final String SELECT_VOLUMES =
            "SELECT host_id, volume, generation, lifetime, since_reset, before_reset, in_flight FROM volumes";

    private final PostgresSettings settings;
    /** The commit thread's; claims have their own, so a Hello does not wait for a commit in progress. */
    private final LedgerConnection commits;

    /**
     * Claims' connections, a host always on the same one (its claims stay in order): after a replica
     * dies its agents all say Hello elsewhere at once, and one connection would serve their claims one
     * round trip at a time.
     */
    private final LedgerConnection[] claims = new LedgerConnection[CLAIM_CONNECTIONS];

    static final int CLAIM_CONNECTIONS = 4;

    private final PostgresReplicas replicas;

    private PostgresLedgerStore(PostgresSettings settings, PGSimpleDataSource source) {
        this.settings = settings;
        this.commits = new LedgerConnection(source, settings.jdbcUrl());
        for (int i = 0; i < claims.length; i++) {
            claims[i] = new LedgerConnection(source, settings.jdbcUrl());
        }
        this.replicas = new PostgresReplicas(
                settings.replicaId(),
                new LedgerConnection(source, settings.jdbcUrl()),
                new LedgerConnection(source, settings.jdbcUrl()));
    }

    /**
     * Connects, brings the schema up to date (Flyway) and returns the store.
     *
     * @throws IllegalStateException naming {@code dmp.controller.postgresql.jdbc-url} when the database
     *     cannot be reached or migrated
     */
    public static PostgresLedgerStore open(PostgresSettings settings) {
        PGSimpleDataSource source = new PGSimpleDataSource();
        source.setURL(settings.jdbcUrl());
        source.setUser(settings.user());
        if (!settings.password().isEmpty()) {
            source.setPassword(settings.password());
        }
        source.setApplicationName("dmp-controller " + settings.replicaId());
        // Bounded waits: a database that does not answer fails the commit (its acks wait, the agents
        // resend) or the Hello (the agent dials again) instead of holding a thread for ever.
        source.setConnectTimeout(5);
        source.setSocketTimeout(30);
        source.setTcpKeepAlive(true);
        // A replica paused (SIGSTOP, a VM stall) in the middle of a commit holds its hosts' row locks,
        // and every claim of those hosts would wait for it: the server ends such a session after 5 s
        // idle in its transaction, which frees them (the paused replica's write then fails, and is
        // refused when tried again: it has been fenced). A claim waits at most 10 s for a lock.
        source.setOptions("-c idle_in_transaction_session_timeout=5s -c lock_timeout=10s");
        try {
            var result = Flyway.configure()
                    .dataSource(source)
                    .locations(MIGRATIONS)
                    .load()
                    .migrate();
            LOG.infof(
                    "ledger database %s: schema at version %s (%d migrations applied now)",
                    settings.jdbcUrl(),
                    result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion,
                    result.migrationsExecuted);
        } catch (RuntimeException e) {
            throw new IllegalStateException(
                    "dmp.controller.postgresql.jdbc-url: cannot prepare the ledger in " + settings.jdbcUrl() + ": "
                            + e.getMessage(),
                    e);
        }
        return new PostgresLedgerStore(settings, source);
    }

    @Override
    public String location() {
        return settings.jdbcUrl();
    }

    @Override
    public Optional<SharedLedger> shared() {
        return Optional.of(replicas);
    }

    @Override
    public boolean claimsWaitOnNetwork() {
        return true;
    }

    /** A round trip on the claims' connection, bounded to 2 s; a broken connection is opened again. */
    @Override
    public boolean reachable() {
        try {
            return claims[0].inTransaction("checking the ledger's database", c -> {
                if (!c.isValid(2)) {
                    throw new SQLException("no answer within 2 s"); // drops the connection
                }
                return true;
            });
        } catch (LedgerUnavailableException e) {
            return false;
        }
    }

    @Override
    public List<HostRecord> loadAll() {
        return commits.inTransaction("loading the ledger", c -> {
            Map<String, HostRecord.Builder> hosts = new LinkedHashMap<>();
            try (var rs = c.createStatement()
                    .executeQuery("SELECT host_id, run_id, applied_seq, agent_version, last_seen FROM hosts")) {
                while (rs.next()) {
                    hosts.put(rs.getString(1), host(rs.getString(1), rs, 2));
                }
            }
            try (var rs = c.createStatement().executeQuery(SELECT_VOLUMES)) {
                while (rs.next()) {
                    HostRecord.Builder h = hosts.get(rs.getString(1));
                    if (h != null) {
                        h.addVolumes(volume(rs));
                    }
                }
            }
            return hosts.values().stream().map(HostRecord.Builder::build).toList();
        });
    }

    @Override
    public HostClaim claim(String hostId) {
        return claims[Math.floorMod(hostId.hashCode(), claims.length)].inTransaction("claiming host " + hostId, c -> {
            HostRecord.Builder committed;
            long epoch;
            try (PreparedStatement claim = c.prepareStatement(CLAIM)) {
                claim.setString(1, hostId);
                claim.setString(2, settings.replicaId());
                try (ResultSet rs = claim.executeQuery()) {
                    rs.next();
                    epoch = rs.getLong(1);
                    if (rs.getBoolean(6)) {
                        return new HostClaim(epoch, Optional.empty()); // never seen before
                    }
                    committed = host(hostId, rs, 2);
                }
            }
            try (PreparedStatement volumes = c.prepareStatement(SELECT_VOLUMES + " WHERE host_id = ?")) {
                volumes.setString(1, hostId);
                try (ResultSet rs = volumes.executeQuery()) {
                    while (rs.next()) {
                        committed.addVolumes(volume(rs));
                    }
                }
            }
            return new HostClaim(epoch, Optional.of(committed.build()));
        });
    }

    @Override
    public boolean writesRows() {
        return true;
    }

    @Override
    public List<HostWrite> write(List<HostWrite> writes) {
        if (writes.isEmpty()) {
            return List.of();
        }
        // Every replica locks hosts' rows in host id order, so two replicas' commits never wait for
        // each other in a cycle (PostgreSQL would end one as a deadlock after a second).
        List<HostWrite> batch =
                writes.stream().sorted(Comparator.comparing(HostWrite::hostId)).toList();
        List<HostRows> rows = new ArrayList<>(batch.size());
        for (HostWrite w : batch) {
            if (w.rows() == null) {
                throw new IllegalArgumentException("host " + w.hostId() + ": a store of rows needs the host's rows");
            }
            rows.add(w.rows());
        }
        return commits.inTransaction("committing " + batch.size() + " hosts", c -> {
            int[] updated = updateHosts(c, batch, rows);
            List<HostWrite> refused = new ArrayList<>();
            List<HostWrite> current = new ArrayList<>();
            List<HostRows> currentRows = new ArrayList<>();
            for (int i = 0; i < updated.length; i++) {
                if (updated[i] == 0) {
                    refused.add(batch.get(i));
                } else {
                    current.add(batch.get(i));
                    currentRows.add(rows.get(i));
                }
            }
            writeVolumes(c, current, currentRows);
            return refused;
        });
    }

    /** The hosts' rows, each only at its epoch: the first statement, so it takes their row locks. */
    private static int[] updateHosts(Connection c, List<HostWrite> batch, List<HostRows> rows) throws SQLException {
        try (PreparedStatement update = c.prepareStatement(UPDATE_HOST)) {
            for (int i = 0; i < batch.size(); i++) {
                HostRows r = rows.get(i);
                update.setString(1, r.runId());
                update.setLong(2, r.appliedSeq());
                update.setString(3, r.agentVersion());
                update.setBoolean(4, batch.get(i).online());
                update.setTimestamp(5, Timestamp.from(r.lastSeen()));
                update.setString(6, batch.get(i).hostId());
                update.setLong(7, batch.get(i).epoch());
                update.addBatch();
            }
            return update.executeBatch();
        }
    }

    /**
     * The DELETE of gone volumes for the hosts that lost some, then every changed volume of the batch in
     * one upsert. The hosts are distinct (an upsert cannot change one row twice); the ledger's set of
     * dirty hosts makes them so.
     */
    private static void writeVolumes(Connection c, List<HostWrite> hosts, List<HostRows> rows) throws SQLException {
        try (PreparedStatement gone = c.prepareStatement(DELETE_GONE_VOLUMES)) {
            boolean deletes = false;
            for (int i = 0; i < hosts.size(); i++) {
                HostRows r = rows.get(i);
                if (r.names().isPresent()) {
                    gone.setString(1, hosts.get(i).hostId());
                    gone.setArray(2, c.createArrayOf("text", r.names().get().toArray()));
                    gone.addBatch();
                    deletes = true;
                }
            }
            if (deletes) {
                gone.executeBatch();
            }
        }
        int n = rows.stream().mapToInt(r -> r.volumes().size()).sum();
        if (n == 0) {
            return;
        }
        String[] host = new String[n];
        String[] name = new String[n];
        byte[][] volume = new byte[n][];
        Long[] generation = new Long[n];
        byte[][] lifetime = new byte[n][];
        byte[][] sinceReset = new byte[n][];
        byte[][] beforeReset = new byte[n][];
        Long[] inFlight = new Long[n];
        int at = 0;
        for (int i = 0; i < hosts.size(); i++) {
            for (HostRows.VolumeRow v : rows.get(i).volumes()) {
                host[at] = hosts.get(i).hostId();
                name[at] = v.name();
                volume[at] = v.volume();
                generation[at] = v.generation();
                lifetime[at] = v.lifetime();
                sinceReset[at] = v.sinceReset();
                beforeReset[at] = v.beforeReset();
                inFlight[at] = v.inFlight();
                at++;
            }
        }
        try (PreparedStatement upsert = c.prepareStatement(UPSERT_VOLUMES)) {
            upsert.setArray(1, c.createArrayOf("text", host));
            upsert.setArray(2, c.createArrayOf("text", name));
            upsert.setArray(3, c.createArrayOf("bytea", volume));
            upsert.setArray(4, c.createArrayOf("bigint", generation));
            upsert.setArray(5, c.createArrayOf("bytea", lifetime));
            upsert.setArray(6, c.createArrayOf("bytea", sinceReset));
            upsert.setArray(7, c.createArrayOf("bytea", beforeReset));
            upsert.setArray(8, c.createArrayOf("bigint", inFlight));
            upsert.executeUpdate();
        }
    }

    /** A host's record from a row's columns run_id, applied_seq, agent_version, last_seen, from {@code at}. */
    static HostRecord.Builder host(String hostId, ResultSet rs, int at) throws SQLException {
        Instant lastSeen = rs.getTimestamp(at + 3).toInstant();
        return HostRecord.newBuilder()
                .setHostId(hostId)
                .setRunId(rs.getString(at))
                .setAppliedSeq(rs.getLong(at + 1))
                .setAgentVersion(rs.getString(at + 2))
                .setLastSeen(com.google.protobuf.Timestamp.newBuilder()
                        .setSeconds(lastSeen.getEpochSecond())
                        .setNanos(lastSeen.getNano()));
    }

    /** A volume's record from a row of {@link #SELECT_VOLUMES}. */
    static VolumeRecord volume(ResultSet rs) throws SQLException {
        try {
            return VolumeRecord.newBuilder()
                    .setVolume(Volume.parseFrom(rs.getBytes(2)))
                    .setGeneration(rs.getLong(3))
                    .addAllLifetime(CounterRecord.parseFrom(rs.getBytes(4)).getOpsList())
                    .addAllSinceReset(CounterRecord.parseFrom(rs.getBytes(5)).getOpsList())
                    .addAllBeforeReset(CounterRecord.parseFrom(rs.getBytes(6)).getOpsList())
                    .setInFlight(rs.getLong(7))
                    .build();
        } catch (InvalidProtocolBufferException e) {
            throw new SQLException("a volume row of host " + rs.getString(1) + " does not parse: " + e, e);
        }
    }

    /** The last commit's statements and COMMIT times (the commit-cost probe reads it). */
    LedgerConnection.Timing lastWriteTiming() {
        return commits.lastTiming();
    }

    @Override
    public void close() {
        commits.close();
        for (LedgerConnection c : claims) {
            c.close();
        }
        replicas.close();
    }
}
