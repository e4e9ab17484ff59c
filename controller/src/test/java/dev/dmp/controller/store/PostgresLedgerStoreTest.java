package dev.dmp.controller.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.OpCounters;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeRecord;
import java.util.List;
import java.util.Optional;
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

    static HostWrite write(HostRecord r, long epoch) {
        return new HostWrite(r.getHostId(), epoch, true, r.toByteArray());
    }

    @Test
    void migrationsApplyOnAnEmptyDatabaseOnce() throws Exception {
        replica("replica-a").close();
        assertEquals(
                List.of("flyway_schema_history", "hosts", "volumes"),
                rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"));
        assertEquals(List.of("1|ledger|true"), rows("SELECT version, description, success FROM flyway_schema_history"));

        try (PostgresLedgerStore again = replica("replica-b")) {
            assertEquals(List.of(), again.loadAll());
        }
        assertEquals(1, rows("SELECT * FROM flyway_schema_history").size(), "applied once, not twice");
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
}
