package dev.dmp.controller.fleet;

import static dev.dmp.controller.fleet.FleetLedgerTest.T0;
import static dev.dmp.controller.fleet.FleetLedgerTest.assertTotalIsTheSum;
import static dev.dmp.controller.fleet.FleetLedgerTest.delta;
import static dev.dmp.controller.fleet.FleetLedgerTest.hello;
import static dev.dmp.controller.fleet.FleetLedgerTest.reads;
import static dev.dmp.controller.fleet.FleetLedgerTest.writes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.controller.fleet.FleetLedgerTest.Old;
import dev.dmp.controller.store.HostWrite;
import dev.dmp.controller.store.PostgresDatabase;
import dev.dmp.controller.store.PostgresLedgerStore;
import dev.dmp.proto.CounterSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ledger's exactly-once through the PostgreSQL store, with two replicas on one database: a sequence
 * number is applied once whichever replica holds the host, counts never go backwards, and a replica
 * whose claim was overtaken can commit nothing more of that host.
 */
class FleetLedgerPostgresTest {
    @RegisterExtension
    static final PostgresDatabase DB = new PostgresDatabase();

    private PostgresLedgerStore storeA;
    private PostgresLedgerStore storeB;

    @BeforeEach
    void twoReplicas() {
        storeA = open("replica-a");
        storeB = open("replica-b");
    }

    @AfterEach
    void close() {
        storeA.close();
        storeB.close();
    }

    private static PostgresLedgerStore open(String replica) {
        return PostgresLedgerStore.open(DB.settings(replica));
    }

    /** Each volume's since-reset counts in the old view, by host/volume. */
    private static Map<String, Old> counts(FleetLedger ledger) {
        Map<String, Old> out = new TreeMap<>();
        ledger.volumeCounts().forEach(v -> out.put(v.host() + "/" + v.volume(), Old.of(v.sinceReset())));
        return out;
    }

    @Test
    void aSequenceNumberIsAppliedOnceWhicheverReplicaHoldsTheHost() {
        FleetLedger a = new FleetLedger(storeA);
        a.connect(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        assertTrue(a.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288), reads("dmp2", 0, 2, 16384)), T0));
        assertEquals(List.of(), a.commit());
        // applied on replica-a, never committed: the agent was not acknowledged and still holds seq 2
        assertTrue(a.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 1, 4096)), T0));

        // the agent reconnects to replica-b, which starts from what was committed
        FleetLedger b = new FleetLedger(storeB);
        b.connect(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        assertEquals(Map.of("node-a/dmp1", new Old(0, 0, 3, 12288), "node-a/dmp2", new Old(2, 16384, 0, 0)), counts(b));
        assertTotalIsTheSum(b);
        assertFalse(b.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288)), T0), "committed by replica-a");
        assertTrue(
                b.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 1, 4096)), T0), "replica-a never committed it");
        // a reset of dmp1 on replica-b: generation 1 closes 4 writes
        assertTrue(b.apply("node-a", "run-1", delta(3, writes("dmp1", 1, 0, 0), reads("dmp1", 1, 1, 512)), T0));
        assertEquals(List.of(), b.commit());
        assertTotalIsTheSum(b);

        // replica-a, late: its commit of node-a is refused and it forgets the host
        List<HostWrite> refused = a.commit();
        assertEquals(1, refused.size());
        assertEquals("node-a", refused.get(0).hostId());
        assertEquals(1, refused.get(0).epoch());
        assertTrue(a.fenced("node-a", 1));
        assertFalse(a.known("node-a"));
        assertEquals(CounterSet.empty(), a.total().counts(), "nothing of the host stays in replica-a's fleet total");
        assertEquals(List.of(), a.commit(), "nothing more to write");

        // a restarted replica reads exactly what replica-b committed
        try (PostgresLedgerStore again = open("replica-c")) {
            FleetLedger c = new FleetLedger(again);
            assertEquals(
                    Map.of("node-a/dmp1", new Old(1, 512, 0, 0), "node-a/dmp2", new Old(2, 16384, 0, 0)), counts(c));
            assertEquals(new Old(0, 0, 4, 16384), Old.of(c.beforeReset("node-a", "dmp1")));
            var lifetime = c.volumeCounts().get(0).lifetime();
            assertEquals(new Old(1, 512, 4, 16384), Old.of(lifetime), "lifetime counts go on across the reset");
            assertEquals(b.total().counts(), c.total().counts());
        }
    }

    @Test
    void countsNeverGoBackwardsAcrossHandovers() {
        FleetLedger a = new FleetLedger(storeA);
        FleetLedger b = new FleetLedger(storeB);
        FleetLedger[] replicas = {a, b};
        long seq = 0;
        for (int handover = 0; handover < 6; handover++) {
            FleetLedger owner = replicas[handover % 2];
            owner.connect(hello("node-a", "run-1", "dmp1"), T0);
            // the agent resends its last delta (its ack may have been lost), then one new one
            if (seq > 0) {
                assertFalse(owner.apply("node-a", "run-1", delta(seq, writes("dmp1", 0, 1, 4096)), T0));
            }
            seq++;
            assertTrue(owner.apply("node-a", "run-1", delta(seq, writes("dmp1", 0, 1, 4096)), T0));
            assertEquals(List.of(), owner.commit());
            assertEquals(Map.of("node-a/dmp1", new Old(0, 0, seq, seq * 4096)), counts(owner));
            assertTotalIsTheSum(owner);
            // the other replica's next write of the host (its agent's disconnect, say) is refused
            FleetLedger other = replicas[(handover + 1) % 2];
            if (other.known("node-a")) {
                other.offline("node-a", T0);
                List<HostWrite> refused = other.commit();
                assertEquals(
                        List.of("node-a"),
                        refused.stream().map(HostWrite::hostId).toList());
                assertTrue(other.fenced("node-a", refused.get(0).epoch()));
                assertTotalIsTheSum(other);
            }
        }
        try (PostgresLedgerStore again = open("replica-c")) {
            assertEquals(Map.of("node-a/dmp1", new Old(0, 0, 6, 24576)), counts(new FleetLedger(again)));
        }
    }

    @Test
    void aFencedWriteIsForgottenOnlyIfNoNewerClaimCameHere() {
        FleetLedger a = new FleetLedger(storeA);
        a.connect(hello("node-a", "run-1", "dmp1"), T0);
        a.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096)), T0);
        // the host's agent reconnects to replica-a itself: a second claim, epoch 2
        a.connect(hello("node-a", "run-1", "dmp1"), T0);
        assertFalse(a.fenced("node-a", 1), "a refusal of epoch 1 no longer concerns the host");
        assertTrue(a.known("node-a"));
        assertTrue(a.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096)), T0));
        assertEquals(List.of(), a.commit());
        assertEquals(Map.of("node-a/dmp1", new Old(0, 0, 1, 4096)), counts(a));
    }
}
