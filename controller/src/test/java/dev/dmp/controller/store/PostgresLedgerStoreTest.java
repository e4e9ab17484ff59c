package dev.dmp.controller.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.v1.CounterRecord;
import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.OpCounters;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeRecord;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The PostgreSQL store against a real PostgreSQL (one cluster for the class, a new database per test):
 * its migrations, the claim that raises a host's epoch, and the fence that refuses a stale write.
 */
class PostgresLedgerStoreTest {
    @RegisterExtension
    static final PostgresDatabase DB = new PostgresDatabase();

    private static PostgresLedgerStore replica(String id) {
        return PostgresLedgerStore.open(DB.settings(id));
    }

    private static List<String> rows(String sql) throws Exception {
        return DB.rows(sql);
    }

    /** A record of one host with one volume that counted {@code requests} writes of 4096 bytes. */
    static HostRecord record(String host, String run, long appliedSeq, long requests) {
        OpCounters writes = OpCounters.newBuilder()
                .setOp(dev.dmp.proto.v1.Op.OP_WRITE)
                .setRequests(requests)
                .setBytes(requests * 4096)
                .build();
        return HostRecord.newBuilder()
                .setHostId(host)
                .setRunId(run)
                .setAppliedSeq(appliedSeq)
                .setAgentVersion("test")
                .setLastSeen(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_764_000_000))
                .addVolumes(VolumeRecord.newBuilder()
                        .setVolume(Volume.newBuilder().setHost(host).setName("dmp1"))
                        .addLifetime(writes)
                        .addSinceReset(writes)
                        .setInFlight(2))
                .build();
    }

    /** The record as the rows a whole write of it makes: every volume, and any other volume's row deleted. */
    static HostWrite write(HostRecord r, long epoch) {
        List<HostRows.VolumeRow> volumes = r.getVolumesList().stream()
                .map(v -> new HostRows.VolumeRow(
                        v.getVolume().getName(),
                        v.getVolume().toByteArray(),
                        v.getGeneration(),
                        counters(v.getLifetimeList()),
                        counters(v.getSinceResetList()),
                        counters(v.getBeforeResetList()),
                        v.getInFlight()))
                .toList();
        HostRows rows = new HostRows(
                r.getRunId(),
                r.getAppliedSeq(),
                r.getAgentVersion(),
                Instant.ofEpochSecond(
                        r.getLastSeen().getSeconds(), r.getLastSeen().getNanos()),
                Optional.of(volumes.stream().map(HostRows.VolumeRow::name).toList()),
                volumes);
        return new HostWrite(r.getHostId(), epoch, true, rows);
    }

    private static byte[] counters(List<OpCounters> ops) {
        return CounterRecord.newBuilder().addAllOps(ops).build().toByteArray();
    }

    @Test
    void migrationsApplyOnAnEmptyDatabaseOnce() throws Exception {
        replica("replica-a").close();
        assertEquals(
                List.of("flyway_schema_history", "hosts", "replicas", "volumes"),
                rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"));
        assertEquals(
                List.of("1|ledger|true", "2|replicas|true"),
                rows("SELECT version, description, success FROM flyway_schema_history ORDER BY installed_rank"));

        try (PostgresLedgerStore again = replica("replica-b")) {
            assertEquals(List.of(), again.loadAll());
        }
        assertEquals(2, rows("SELECT * FROM flyway_schema_history").size(), "applied once, not twice");
    }

    @Test
    void eachClaimRaisesTheEpochAndNamesTheOwner() throws Exception {
        try (PostgresLedgerStore a = replica("replica-a");
                PostgresLedgerStore b = replica("replica-b")) {
            assertEquals(new HostClaim(1, Optional.empty()), a.claim("node-a"), "a host never seen");
            assertEquals(List.of("node-a|replica-a|1"), rows("SELECT host_id, owner, epoch FROM hosts"));

            HostClaim second = b.claim("node-a");
            assertEquals(2, second.epoch());
            assertEquals("node-a", second.committed().orElseThrow().getHostId());
            assertEquals(0, second.committed().orElseThrow().getVolumesCount());
            assertEquals(List.of("node-a|replica-b|2"), rows("SELECT host_id, owner, epoch FROM hosts"));

            assertEquals(3, a.claim("node-a").epoch());
            assertEquals(1, b.claim("node-b").epoch(), "epochs are per host");
            assertEquals(
                    List.of("node-a|replica-a|3", "node-b|replica-b|1"),
                    rows("SELECT host_id, owner, epoch FROM hosts ORDER BY 1"));
        }
    }

    @Test
    void theClaimantStartsFromWhatWasCommitted() throws Exception {
        try (PostgresLedgerStore a = replica("replica-a");
                PostgresLedgerStore b = replica("replica-b")) {
            long epoch = a.claim("node-a").epoch();
            HostRecord committed = record("node-a", "run-1", 7, 3);
            assertEquals(List.of(), a.write(List.of(write(committed, epoch))));

            HostClaim claim = b.claim("node-a");
            assertEquals(committed, claim.committed().orElseThrow());
            assertEquals(List.of(committed), b.loadAll());
        }
    }

    @Test
    void aWriteWithTheOldEpochAfterANewerClaimIsRefusedAndChangesNothing() throws Exception {
        try (PostgresLedgerStore a = replica("replica-a");
                PostgresLedgerStore b = replica("replica-b")) {
            long old = a.claim("node-a").epoch();
            long other = a.claim("node-b").epoch();
            assertEquals(List.of(), a.write(List.of(write(record("node-a", "run-1", 1, 1), old))));
            long newer = b.claim("node-a").epoch();
            assertEquals(2, newer);
            List<String> before = rows("SELECT * FROM hosts WHERE host_id = 'node-a'");
            List<String> volumesBefore = rows("SELECT encode(lifetime, 'hex'), in_flight FROM volumes");

            // replica-a, paused through the claim, commits seq 2 of node-a and seq 1 of node-b at once
            HostWrite stale = write(record("node-a", "run-1", 2, 5), old);
            HostWrite current = write(record("node-b", "run-9", 1, 4), other);
            List<HostWrite> refused = a.write(List.of(stale, current));

            assertEquals(1, refused.size());
            assertEquals("node-a", refused.get(0).hostId());
            assertEquals(old, refused.get(0).epoch());
            assertArrayEquals(stale.record(), refused.get(0).record());
            assertEquals(before, rows("SELECT * FROM hosts WHERE host_id = 'node-a'"), "the host row is unchanged");
            assertEquals(
                    volumesBefore,
                    rows("SELECT encode(lifetime, 'hex'), in_flight FROM volumes WHERE host_id = 'node-a'"),
                    "its volumes too");
            assertEquals(
                    List.of("node-b|run-9|1"),
                    rows("SELECT host_id, run_id, applied_seq FROM hosts WHERE host_id = 'node-b'"),
                    "the host still held was written");

            // the new owner writes at its epoch
            assertEquals(List.of(), b.write(List.of(write(record("node-a", "run-1", 2, 5), newer))));
            assertEquals(
                    List.of("2|replica-b|2"),
                    rows("SELECT applied_seq, owner, epoch FROM hosts WHERE host_id = 'node-a'"));
            assertTrue(b.loadAll().contains(record("node-a", "run-1", 2, 5)));
        }
    }

    @Test
    void volumesAHostNoLongerHasAreDeleted() throws Exception {
        try (PostgresLedgerStore a = replica("replica-a")) {
            long epoch = a.claim("node-a").epoch();
            HostRecord two = record("node-a", "run-1", 1, 1).toBuilder()
                    .addVolumes(VolumeRecord.newBuilder()
                            .setVolume(Volume.newBuilder().setHost("node-a").setName("dmp2")))
                    .build();
            a.write(List.of(write(two, epoch)));
            assertEquals(List.of("dmp1", "dmp2"), rows("SELECT name FROM volumes ORDER BY 1"));
            a.write(List.of(write(record("node-a", "run-1", 2, 1), epoch)));
            assertEquals(List.of("dmp1"), rows("SELECT name FROM volumes"));
        }
    }

    /** Polls (bounded) until some session of the database waits for a lock: the other side is blocked. */
    private static void untilASessionWaitsForALock() throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (rows("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                .isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "no session waited for a lock within 10 s");
            Thread.onSpinWait();
        }
    }

    @Test
    void aClaimDuringAWriteWaitsForItsCommitAndReadsIt() throws Exception {
        try (PostgresLedgerStore b = replica("replica-b");
                Connection a = DriverManager.getConnection(DB.url(), PostgresServer.USER, "")) {
            try (PostgresLedgerStore first = replica("replica-a")) {
                first.claim("node-a");
            }
            // replica-a's commit, in its transaction: the host's row first, as the store writes it
            a.setAutoCommit(false);
            assertEquals(
                    1,
                    a.createStatement()
                            .executeUpdate("UPDATE hosts SET run_id = 'run-1', applied_seq = 5"
                                    + " WHERE host_id = 'node-a' AND epoch = 1"));
            CompletableFuture<HostClaim> claim = CompletableFuture.supplyAsync(() -> b.claim("node-a"));
            untilASessionWaitsForALock();
            assertFalse(claim.isDone());
            a.commit();
            HostClaim claimed = claim.get(10, TimeUnit.SECONDS);
            assertEquals(2, claimed.epoch());
            assertEquals(5, claimed.committed().orElseThrow().getAppliedSeq(), "the claim read the write");
        }
    }

    @Test
    void aWriteDuringAClaimWaitsForItAndIsRefused() throws Exception {
        try (PostgresLedgerStore a = replica("replica-a");
                Connection b = DriverManager.getConnection(DB.url(), PostgresServer.USER, "")) {
            long epoch = a.claim("node-a").epoch();
            // replica-b's claim, in its transaction
            b.setAutoCommit(false);
            b.createStatement()
                    .executeUpdate("UPDATE hosts SET epoch = epoch + 1, owner = 'replica-b' WHERE host_id = 'node-a'");
            HostWrite late = write(record("node-a", "run-1", 1, 1), epoch);
            CompletableFuture<List<HostWrite>> written = CompletableFuture.supplyAsync(() -> a.write(List.of(late)));
            untilASessionWaitsForALock();
            assertFalse(written.isDone());
            b.commit();
            assertEquals(List.of(late), written.get(10, TimeUnit.SECONDS));
            assertEquals(List.of("0|replica-b|2"), rows("SELECT applied_seq, owner, epoch FROM hosts"));
            assertEquals(List.of(), rows("SELECT name FROM volumes"));
        }
    }
}
