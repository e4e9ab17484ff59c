package dev.dmp.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.AgentLinkGrpc;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeDelta;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An agent played by the test: a grpc-java AgentLink stream that sends what the test says. */
final class FakeAgent implements AutoCloseable {
    private static final long WAIT_SECONDS = 10;

    private final BlockingQueue<ControllerMessage> received = new LinkedBlockingQueue<>();
    private final StreamObserver<AgentMessage> stream;

    private FakeAgent(Channel channel) {
        stream = AgentLinkGrpc.newStub(channel).connect(new StreamObserver<>() {
            @Override
            public void onNext(ControllerMessage message) {
                received.add(message);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
    }

    /** Connects and says Hello with the given volumes. */
    static FakeAgent connect(Channel channel, String host, String runId, String... volumes) {
        FakeAgent agent = new FakeAgent(channel);
        Hello.Builder hello = Hello.newBuilder().setHostId(host).setRunId(runId).setAgentVersion("test");
        for (String v : volumes) {
            hello.addVolumes(Volume.newBuilder().setHost(host).setName(v));
        }
        agent.stream.onNext(AgentMessage.newBuilder().setHello(hello).build());
        return agent;
    }

    /** {@code n} requests of {@code bytes} each, answered successfully in 1 ms, as an agent counts them. */
    static CounterSet requests(int op, int n, long bytes) {
        CounterSet c = CounterSet.empty();
        for (int i = 0; i < n; i++) {
            c.record(op, bytes, 0, 1_000_000);
        }
        return c;
    }

    /** A volume's part of a delta: generation 0, nothing in flight. */
    static VolumeDelta volume(String name, CounterSet counts) {
        return VolumeDelta.newBuilder()
                .setVolume(name)
                .addAllOps(counts.toProto())
                .build();
    }

    /** Sends a numbered delta and waits for the controller to acknowledge it (applied or a repeat). */
    void sendDelta(long seq, VolumeDelta... volumes) throws InterruptedException {
        stream.onNext(AgentMessage.newBuilder()
                .setDelta(StatsDelta.newBuilder().setSeq(seq).addAllVolumes(List.of(volumes)))
                .build());
        assertEquals(seq, next().getAck().getSeq());
    }

    /** The next command the controller sends down. */
    Command nextCommand() throws InterruptedException {
        ControllerMessage m = next();
        assertEquals(ControllerMessage.BodyCase.COMMAND, m.getBodyCase(), m.toString());
        return m.getCommand();
    }

    void answer(CommandResult result) {
        stream.onNext(AgentMessage.newBuilder().setResult(result).build());
    }

    /** Tells the controller that a volume changed on its own (AgentMessage.volume_changed). */
    void volumeChanged(Volume volume) {
        stream.onNext(AgentMessage.newBuilder().setVolumeChanged(volume).build());
    }

    private ControllerMessage next() throws InterruptedException {
        ControllerMessage m = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(m, "the controller sent nothing within " + WAIT_SECONDS + " s");
        return m;
    }

    @Override
    public void close() {
        stream.onCompleted();
    }
}
