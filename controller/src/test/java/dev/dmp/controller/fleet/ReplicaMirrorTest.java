package dev.dmp.controller.fleet;

import static dev.dmp.controller.fleet.FleetLedgerTest.assertTotalIsTheSum;
import static dev.dmp.controller.fleet.FleetLedgerTest.delta;
import static dev.dmp.controller.fleet.FleetLedgerTest.hello;
import static dev.dmp.controller.fleet.FleetLedgerTest.reads;
import static dev.dmp.controller.fleet.FleetLedgerTest.writes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.controller.TestConfig;
import dev.dmp.controller.fleet.FleetLedgerTest.Old;
import dev.dmp.controller.store.PostgresDatabase;
import dev.dmp.controller.store.PostgresServer;
import dev.dmp.proto.v1.ControllerMessage;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two replicas on one PostgreSQL ledger, each seeing the hosts the other holds (its mirror refreshed
 * by the test): the same counts and fleet total as the owner committed, a host re-read only when it
 * was written, online only while its owner beats, commands routed to the owner's address, one
 * replica exporting the metrics, and a host that moves between replicas seen right on both sides.
 */
class ReplicaMirrorTest {
    @RegisterExtension
    static final PostgresDatabase DB = new PostgresDatabase();

    /** Drops what a replica sends to an agent: these tests look at the ledgers. */
    private static final StreamObserver<ControllerMessage> NOWHERE = new StreamObserver<>() {
        @Override
        public void onNext(ControllerMessage m) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
    };

    private static Fleet replica(String id) {
        Fleet f = new Fleet(
                TestConfig.postgresql(new TestConfig.Postgres(DB.url(), PostgresServer.USER, null, null), id));
        f.openLedger();
        return f;
    }

    private static LedgerMirror.Refresh refresh(Fleet f) {
        return f.mirror().orElseThrow().refresh();
    }

    private static Map<String, Old> counts(Fleet f) {
        Map<String, Old> out = new TreeMap<>();
        f.ledger().volumeCounts().forEach(v -> out.put(v.host() + "/" + v.volume(), Old.of(v.sinceReset())));
        return out;
    }

    private static AgentSession connect(Fleet f, String host, String... volumes) {
        AgentSession s = new AgentSession(host, "run-1", NOWHERE);
        f.connected(s, hello(host, "run-1", volumes));
        return s;
    }

    /** node-a held by replica-a, one write of 4 KiB committed there, and read by replica-b. */
    private static AgentSession nodeAWroteOnce(Fleet a, Fleet b) {
        AgentSession onA = connect(a, "node-a", "dmp1");
        a.delta(onA, delta(1, writes("dmp1", 0, 1, 4096)));
        a.commit();
        refresh(b);
        return onA;
    }

    @Test
    void eachReplicaSeesTheOthersHostsAsCommittedAndReadsOnlyWhatChanged() throws Exception {
        Fleet a = replica("replica-a");
        Fleet b = replica("replica-b");
        AgentSession onA = connect(a, "node-a", "dmp1", "dmp2");
        AgentSession onB = connect(b, "node-b", "dmp1");
        a.delta(onA, delta(1, writes("dmp1", 0, 3, 12288), reads("dmp2", 0, 2, 16384)));
        b.delta(onB, delta(1, writes("dmp1", 0, 1, 1048576)));
        a.commit();
        b.commit();
        a.delta(onA, delta(2, writes("dmp1", 0, 5, 5)));
        // applied on replica-a, not committed: nobody else may see it yet

        assertEquals(new LedgerMirror.Refresh(2, 1, 2), refresh(a), "2 hosts, node-b read, 2 replicas alive");
        assertEquals(new LedgerMirror.Refresh(2, 1, 2), refresh(b));
        Map<String, Old> committed = Map.of(
                "node-a/dmp1", new Old(0, 0, 3, 12288),
                "node-a/dmp2", new Old(2, 16384, 0, 0),
                "node-b/dmp1", new Old(0, 0, 1, 1048576));
        assertEquals(committed, counts(b));
        assertTotalIsTheSum(b.ledger());
        assertEquals(new Old(2, 16384, 4, 1060864), Old.of(b.ledger().total().counts()));
        assertEquals(
                2, b.hosts().stream().filter(dev.dmp.proto.v1.Host::getOnline).count());

        assertEquals(new LedgerMirror.Refresh(2, 0, 2), refresh(b), "nothing written since: nothing read");
        a.commit();
        assertEquals(new LedgerMirror.Refresh(2, 1, 2), refresh(b), "node-a written: read again, alone");
        assertEquals(new Old(0, 0, 8, 12293), counts(b).get("node-a/dmp1"));
        assertTotalIsTheSum(b.ledger());

        assertEquals(Optional.of("replica-a:8080"), b.ownerAddress("node-a"), "a command for node-a goes to replica-a");
        assertEquals(Optional.empty(), b.ownerAddress("node-b"), "replica-b holds node-b itself");
        assertEquals(Optional.empty(), a.ownerAddress("node-a"));
        assertTrue(a.exportsLedgerMetrics(), "the live replica with the lowest id exports the ledger's metrics");
        assertFalse(b.exportsLedgerMetrics());
    }

    @Test
    void aHostThatConnectedElsewhereSinceTheLastReadIsReadOnDemand() throws Exception {
        Fleet a = replica("replica-a");
        Fleet b = replica("replica-b");
        refresh(b);
        AgentSession onA = connect(a, "node-c", "dmp1");
        a.delta(onA, delta(1, writes("dmp1", 0, 2, 8192)));
        a.commit();
        assertFalse(b.known("node-c"), "replica-b has not read since node-c connected");
        assertTrue(b.mirror().orElseThrow().readHost("node-c"), "a command for node-c reads it first");
        assertEquals(Map.of("node-c/dmp1", new Old(0, 0, 2, 8192)), counts(b));
        assertEquals(Optional.of("replica-a:8080"), b.ownerAddress("node-c"));
        assertFalse(b.mirror().orElseThrow().readHost("node-x"), "a host nobody knows stays unknown");
        assertFalse(b.known("node-x"));
    }

    @Test
    void aHostWhoseOwnerStoppedBeatingIsOfflineAndCommandsForItAreRefused() throws Exception {
        Fleet a = replica("replica-a");
        Fleet b = replica("replica-b");
        AgentSession onA = nodeAWroteOnce(a, b);
        assertTrue(b.hosts().get(0).getOnline());

        // replica-a paused (or killed with kill -9): its row still says online, its heartbeat ages
        DB.execute("UPDATE replicas SET heartbeat = now() - interval '1 minute' WHERE replica_id = 'replica-a'");
        assertEquals(new LedgerMirror.Refresh(1, 0, 1), refresh(b), "only replica-b alive now");
        assertFalse(b.hosts().get(0).getOnline(), "no fresh owner: offline, as with one controller");
        assertEquals(Optional.empty(), b.ownerAddress("node-a"));
        assertTrue(b.exportsLedgerMetrics(), "replica-b exports the metrics while replica-a is silent");
        assertEquals(Map.of("node-a/dmp1", new Old(0, 0, 1, 4096)), counts(b), "its counts stay, stale");
    }

    @Test
    void aHostThatMovesIsSeenRightOnBothSides() throws Exception {
        Fleet a = replica("replica-a");
        Fleet b = replica("replica-b");
        AgentSession onA = nodeAWroteOnce(a, b);

        // the agent leaves replica-a cleanly: its offline state is written, then it holds the host no more
        a.disconnected(onA);
        a.commit();
        refresh(b);
        assertFalse(b.hosts().get(0).getOnline());
        // ... and dials replica-b, which counts on
        AgentSession onB = connect(b, "node-a", "dmp1");
        b.delta(onB, delta(2, writes("dmp1", 0, 2, 8192)));
        b.commit();
        assertEquals(new LedgerMirror.Refresh(1, 1, 2), refresh(a), "replica-a reads what replica-b wrote");
        assertEquals(Map.of("node-a/dmp1", new Old(0, 0, 3, 12288)), counts(a));
        assertTotalIsTheSum(a.ledger());
        assertTrue(a.hosts().get(0).getOnline());
        assertEquals(Optional.of("replica-b:8080"), a.ownerAddress("node-a"));
        assertEquals(
                java.util.List.of("node-a|replica-b|2|2|true"),
                DB.rows("SELECT host_id, owner, epoch, applied_seq, online FROM hosts"));

        // a late delta of replica-a's old stream changes nothing anywhere
        a.delta(onA, delta(3, writes("dmp1", 0, 100, 100)));
        a.commit();
        assertEquals(Map.of("node-a/dmp1", new Old(0, 0, 3, 12288)), counts(a));
    }

    @Test
    void aFencedReplicaReadsTheHostBackFromItsNewOwner() throws Exception {
        Fleet a = replica("replica-a");
        Fleet b = replica("replica-b");
        AgentSession onA = connect(a, "node-a", "dmp1");
        a.delta(onA, delta(1, writes("dmp1", 0, 1, 4096)));
        a.commit();
        a.delta(onA, delta(2, writes("dmp1", 0, 1, 4096)));
        // replica-a stalls; the agent dials replica-b, which counts seq 2 once
        AgentSession onB = connect(b, "node-a", "dmp1");
        b.delta(onB, delta(2, writes("dmp1", 0, 1, 4096)));
        b.commit();
        a.commit(); // refused: replica-a forgets the host
        assertFalse(a.known("node-a"));
        assertEquals(new LedgerMirror.Refresh(1, 1, 2), refresh(a));
        assertEquals(Map.of("node-a/dmp1", new Old(0, 0, 2, 8192)), counts(a));
        assertTotalIsTheSum(a.ledger());
        assertEquals(Optional.of("replica-b:8080"), a.ownerAddress("node-a"));
    }
}
