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
}
