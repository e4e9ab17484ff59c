package dev.dmp.controller.fleet;

import static dev.dmp.controller.fleet.FleetLedgerTest.delta;
import static dev.dmp.controller.fleet.FleetLedgerTest.hello;
import static dev.dmp.controller.fleet.FleetLedgerTest.writes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.controller.TestConfig;
import dev.dmp.controller.fleet.FleetLedgerTest.Old;
import dev.dmp.controller.store.PostgresDatabase;
import dev.dmp.controller.store.PostgresServer;
import dev.dmp.proto.v1.ControllerMessage;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two controller replicas' fleets on one PostgreSQL ledger, their commits driven by the test: an Ack
 * goes out only for what was committed, and a replica whose claim was overtaken acknowledges nothing
 * more of that host, ends its stream and forgets it.
 */
class FleetPostgresTest {
    @RegisterExtension
    static final PostgresDatabase DB = new PostgresDatabase();

    /** Records what a replica sends down one agent's stream. */
    private static final class Outbound implements StreamObserver<ControllerMessage> {
        final List<Long> acks = new ArrayList<>();
        Status error;

        @Override
        public void onNext(ControllerMessage m) {
            acks.add(m.getAck().getSeq());
        }

        @Override
        public void onError(Throwable t) {
            error = Status.fromThrowable(t);
        }

        @Override
        public void onCompleted() {}
    }

    private Fleet replica(String id) {
        Fleet f = new Fleet(
                TestConfig.postgresql(new TestConfig.Postgres(DB.url(), PostgresServer.USER, null, null), id));
        f.openLedger();
        return f;
    }

    private static Old writesOf(Fleet f) {
        return Old.of(f.ledger().volumeCounts().get(0).sinceReset());
    }

    @Test
    void aFencedReplicaAcknowledgesNothingMoreEndsTheStreamAndForgetsTheHost() {
        Fleet a = replica("replica-a");
        Fleet b = replica("replica-b");
        Outbound toA = new Outbound();
        AgentSession onA = new AgentSession("node-a", "run-1", toA);
        a.connected(onA, hello("node-a", "run-1", "dmp1"));
        a.delta(onA, delta(1, writes("dmp1", 0, 3, 12288)));
        assertEquals(List.of(), toA.acks, "no ack before the commit");
        a.commit();
        assertEquals(List.of(1L), toA.acks);
        a.delta(onA, delta(2, writes("dmp1", 0, 1, 4096)));

        // the agent's link to replica-a stalls; it dials replica-b, which claims the host
        Outbound toB = new Outbound();
        AgentSession onB = new AgentSession("node-a", "run-1", toB);
        b.connected(onB, hello("node-a", "run-1", "dmp1"));
        assertEquals(new Old(0, 0, 3, 12288), writesOf(b), "what replica-a committed, not what it only applied");

        a.commit(); // refused: replica-a's epoch is no longer the host's
        assertEquals(List.of(1L), toA.acks, "seq 2 was never acknowledged by replica-a");
        assertEquals(Status.Code.ABORTED, toA.error.getCode());
        assertFalse(a.session("node-a").isPresent());
        assertFalse(a.known("node-a"));

        // the agent resends seq 2 to replica-b, which applies it once
        b.delta(onB, delta(2, writes("dmp1", 0, 1, 4096)));
        b.commit();
        assertEquals(List.of(2L), toB.acks);
        assertNull(toB.error);
        assertEquals(new Old(0, 0, 4, 16384), writesOf(b));
        assertTrue(b.session("node-a").isPresent());
        assertEquals(
                List.of("node-a|replica-b|2|2|true"),
                rows("SELECT host_id, owner, epoch, applied_seq, online FROM hosts"));
    }

    private static List<String> rows(String sql) {
        try {
            return DB.rows(sql);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
