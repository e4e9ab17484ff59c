package dev.dmp.controller.fleet;

import static dev.dmp.controller.fleet.FleetLedgerTest.T0;
import static dev.dmp.controller.fleet.FleetLedgerTest.delta;
import static dev.dmp.controller.fleet.FleetLedgerTest.hello;
import static dev.dmp.controller.fleet.FleetLedgerTest.reads;
import static dev.dmp.controller.fleet.FleetLedgerTest.writes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.controller.store.ForwardingLedgerStore;
import dev.dmp.controller.store.HostWrite;
import dev.dmp.controller.store.LedgerStore;
import dev.dmp.controller.store.LedgerUnavailableException;
import dev.dmp.controller.store.PostgresDatabase;
import dev.dmp.controller.store.PostgresLedgerStore;
import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.VolumeRecord;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A commit to PostgreSQL writes only the volumes changed since the host's last write, and deletes rows
 * only when a volume left the host; what it skips is what the database already holds, so a replica
 * that reads the database afterwards holds exactly what the writer holds. Whether a row was rewritten
 * is seen in its {@code xmin} (the transaction that wrote its current version).
 */
class FleetLedgerChangedVolumesTest {
    @RegisterExtension
    static final PostgresDatabase DB = new PostgresDatabase();

    private static PostgresLedgerStore open(String replica) {
        return PostgresLedgerStore.open(DB.settings(replica));
    }

    /** Each volume row's xmin, by host/volume. */
    private static Map<String, String> xmins() throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (String row : DB.rows("SELECT host_id || '/' || name, xmin FROM volumes")) {
            String[] cols = row.split("\\|");
            out.put(cols[0], cols[1]);
        }
        return out;
    }

    /**
     * The host's record with its volumes by name (the database's order is not the ledger's) and its
     * last-seen time rounded to microseconds, as timestamptz holds it.
     */
    private static HostRecord sorted(HostRecord r) {
        return r.toBuilder()
                .setLastSeen(
                        r.getLastSeen().toBuilder().setNanos((r.getLastSeen().getNanos() + 500) / 1000 * 1000))
                .clearVolumes()
                .addAllVolumes(r.getVolumesList().stream()
                        .sorted(Comparator.comparing(v -> v.getVolume().getName()))
                        .toList())
                .build();
    }

    /** What a new replica reads of the host is what {@code ledger} would write of it whole. */
    private static void assertTheDatabaseHoldsExactly(FleetLedger ledger, String host) throws Exception {
        HostRecord held = HostRecord.parseFrom(ledger.record(host));
        try (PostgresLedgerStore reader = open("reader")) {
            HostRecord read = reader.loadAll().stream()
                    .filter(r -> r.getHostId().equals(host))
                    .findFirst()
                    .orElseThrow();
            assertEquals(sorted(held), sorted(read));
        }
    }

    @Test
    void aVolumeUnchangedSinceTheLastCommitIsNotRewrittenYetReadsBackExactly() throws Exception {
        try (PostgresLedgerStore storeA = open("replica-a")) {
            FleetLedger a = new FleetLedger(storeA);
            a.connect(hello("node-a", "run-1", "dmp1", "dmp2", "dmp3"), T0);
            a.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288), reads("dmp2", 0, 2, 8192)), T0);
            assertEquals(List.of(), a.commit());
            Map<String, String> first = xmins();
            assertEquals(3, first.size());

            // dmp1 counts on, dmp2 is reset (a new generation), dmp3 sees nothing
            a.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 1, 4096), reads("dmp2", 1, 1, 512)), T0);
            assertEquals(List.of(), a.commit());
            Map<String, String> second = xmins();
            assertNotEquals(first.get("node-a/dmp1"), second.get("node-a/dmp1"));
            assertNotEquals(first.get("node-a/dmp2"), second.get("node-a/dmp2"));
            assertEquals(first.get("node-a/dmp3"), second.get("node-a/dmp3"), "dmp3 did not change: not rewritten");
            assertTheDatabaseHoldsExactly(a, "node-a");

            // a commit of the host row alone (the agent went away) rewrites no volume
            a.offline("node-a", T0.plusSeconds(1));
            assertEquals(List.of(), a.commit());
            assertEquals(second, xmins());
            assertEquals(List.of("false"), DB.rows("SELECT online FROM hosts"));
            assertTheDatabaseHoldsExactly(a, "node-a");
        }
    }

    @Test
    void aHostWhoseVolumeSetChangedDeletesExactlyTheGoneOnes() throws Exception {
        try (PostgresLedgerStore storeA = open("replica-a")) {
            FleetLedger a = new FleetLedger(storeA);
            a.connect(hello("node-a", "run-1", "dmp1", "dmp2", "dmp3"), T0);
            a.connect(hello("node-b", "run-1", "dmp1"), T0);
            a.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096), writes("dmp3", 0, 1, 4096)), T0);
            assertEquals(List.of(), a.commit());
            Map<String, String> before = xmins();

            a.removeVolume("node-a", "dmp2");
            assertEquals(List.of(), a.commit());
            Map<String, String> after = xmins();
            assertEquals(List.of("node-a/dmp1", "node-a/dmp3", "node-b/dmp1"), List.copyOf(after.keySet()));
            assertEquals(before.get("node-a/dmp1"), after.get("node-a/dmp1"), "the volumes kept are not rewritten");
            assertEquals(before.get("node-a/dmp3"), after.get("node-a/dmp3"));

            // a Hello on the same stream that drops dmp3 and brings dmp4: dmp3's row goes, dmp4's comes
            a.hello(hello("node-a", "run-1", "dmp1", "dmp4"), T0);
            assertEquals(List.of(), a.commit());
            assertEquals(List.of("node-a/dmp1", "node-a/dmp4", "node-b/dmp1"), List.copyOf(xmins().keySet()));
            assertEquals(before.get("node-b/dmp1"), xmins().get("node-b/dmp1"), "another host is not touched");
            assertTheDatabaseHoldsExactly(a, "node-a");
        }
    }

    @Test
    void afterAFencedRefusalTheNextClaimsCommitWritesEveryVolume() throws Exception {
        try (PostgresLedgerStore storeA = open("replica-a");
                PostgresLedgerStore storeB = open("replica-b")) {
            FleetLedger a = new FleetLedger(storeA);
            a.connect(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
            a.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096), writes("dmp2", 0, 1, 4096)), T0);
            assertEquals(List.of(), a.commit());

            // replica-b claims the host and counts on dmp1; replica-a's late write of dmp2 is refused
            FleetLedger b = new FleetLedger(storeB);
            b.connect(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
            b.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 5, 20480)), T0);
            assertEquals(List.of(), b.commit());
            a.apply("node-a", "run-1", delta(2, writes("dmp2", 0, 7, 28672)), T0);
            List<HostWrite> refused = a.commit();
            assertEquals(
                    List.of("node-a"), refused.stream().map(HostWrite::hostId).toList());
            assertTrue(a.fenced("node-a", refused.get(0).epoch()));

            // the agent comes back to replica-a: its claim's first commit writes every volume
            Map<String, String> before = xmins();
            a.connect(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
            assertEquals(List.of(), a.commit());
            Map<String, String> after = xmins();
            assertNotEquals(before.get("node-a/dmp1"), after.get("node-a/dmp1"));
            assertNotEquals(before.get("node-a/dmp2"), after.get("node-a/dmp2"));
            assertTheDatabaseHoldsExactly(a, "node-a");
            assertTheDatabaseHoldsExactly(b, "node-a"); // what replica-a holds is what replica-b committed
        }
    }

    /** A store whose next write fails before it writes anything (the database went away). */
    private static final class FailingStore extends ForwardingLedgerStore {
        boolean failNext;

        FailingStore(LedgerStore store) {
            super(store);
        }

        @Override
        public List<HostWrite> write(List<HostWrite> writes) {
            if (failNext) {
                failNext = false;
                throw new LedgerUnavailableException("the database went away", null);
            }
            return store.write(writes);
        }
    }

    @Test
    void aFailedCommitLeavesItsVolumesToBeWrittenByTheNext() throws Exception {
        try (FailingStore store = new FailingStore(open("replica-a"))) {
            FleetLedger a = new FleetLedger(store);
            a.connect(hello("node-a", "run-1", "dmp1", "dmp2", "dmp3"), T0);
            assertEquals(List.of(), a.commit());
            Map<String, String> before = xmins();

            a.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 2, 8192)), T0);
            a.removeVolume("node-a", "dmp3");
            store.failNext = true;
            assertThrows(LedgerUnavailableException.class, a::commit);
            assertEquals(before, xmins(), "nothing was written");

            // no new delta since: the next commit still writes dmp1's counts and deletes dmp3
            assertEquals(List.of(), a.commit());
            Map<String, String> after = xmins();
            assertEquals(List.of("node-a/dmp1", "node-a/dmp2"), List.copyOf(after.keySet()));
            assertNotEquals(before.get("node-a/dmp1"), after.get("node-a/dmp1"));
            assertTheDatabaseHoldsExactly(a, "node-a");
            VolumeRecord dmp1 = HostRecord.parseFrom(a.record("node-a")).getVolumes(0);
            assertEquals(2, dmp1.getLifetime(0).getRequests());
        }
    }
}
