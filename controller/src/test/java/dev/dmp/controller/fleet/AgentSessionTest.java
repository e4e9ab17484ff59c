package dev.dmp.controller.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.controller.TestConfig;
import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.ResetVolumes;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A host's second Hello replaces its stream: the old one is ended once and its commands fail. */
class AgentSessionTest {

    /** Records what the controller sends down one stream. */
    private static final class Outbound implements StreamObserver<ControllerMessage> {
        final List<ControllerMessage> sent = new ArrayList<>();
        int completed;

        @Override
        public void onNext(ControllerMessage value) {
            sent.add(value);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
            if (completed++ > 0) {
                throw new IllegalStateException("call already closed");
            }
        }
    }

    @TempDir
    Path dataDir;

    @Test
    void aNewStreamEndsTheOldOneOnceAndFailsItsCommands() throws Exception {
        Fleet fleet = new Fleet(new TestConfig(dataDir.toString()));
        fleet.open();
        Outbound first = new Outbound();
        AgentSession old = new AgentSession("node-a", "run-1", first);
        fleet.connected(
                old, Hello.newBuilder().setHostId("node-a").setRunId("run-1").build());
        CompletableFuture<?> waiting = old.send(Command.newBuilder().setReset(ResetVolumes.getDefaultInstance()));
        assertEquals(1, first.sent.size());

        Outbound second = new Outbound();
        AgentSession now = new AgentSession("node-a", "run-1", second);
        fleet.connected(
                now, Hello.newBuilder().setHostId("node-a").setRunId("run-1").build());

        assertEquals(1, first.completed, "the old stream is ended");
        ExecutionException e = assertThrows(ExecutionException.class, waiting::get);
        assertTrue(e.getCause() instanceof StatusException s && s.getStatus().getCode() == Status.Code.UNAVAILABLE);
        assertEquals(now, fleet.session("node-a").orElseThrow());

        // The old agent's half-close arriving later neither ends anything twice nor unseats the new session.
        fleet.disconnected(old);
        old.end();
        assertEquals(1, first.completed);
        assertEquals(0, second.completed);
        assertEquals(now, fleet.session("node-a").orElseThrow());
    }

    @Test
    void aHelloOnAnOpenStreamCannotAnnounceAnotherHostsVolumes() {
        // Found while writing FleetLedgerFuzzTest (which mirrors what AgentLinkService and Fleet do with
        // a stream): Fleet.announced checked the Hello's run id against the session's, not its host id,
        // so an agent on node-b's stream that said host_id "node-a" with node-b's run id replaced
        // node-a's run and dropped its volumes and their counts.
        Fleet fleet = new Fleet(new TestConfig(dataDir.toString()));
        fleet.open();
        AgentSession a = new AgentSession("node-a", "run-a", new Outbound());
        fleet.connected(a, FleetLedgerTest.hello("node-a", "run-a", "vol-a"));
        fleet.delta(a, FleetLedgerTest.delta(1, FleetLedgerTest.writes("vol-a", 0, 2, 8192)));
        List<VolumeCounts> before = fleet.ledger().volumeCounts("node-a");

        AgentSession b = new AgentSession("node-b", "run-b", new Outbound());
        fleet.connected(b, FleetLedgerTest.hello("node-b", "run-b"));
        fleet.announced(b, FleetLedgerTest.hello("node-a", "run-b"));

        assertEquals(before, fleet.ledger().volumeCounts("node-a"));
        assertEquals(1, before.size());
        fleet.close(null);
    }
}
