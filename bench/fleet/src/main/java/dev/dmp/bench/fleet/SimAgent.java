package dev.dmp.bench.fleet;

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
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One simulated agent: its own host id and run id, one AgentLink stream, M volumes. It sends a
 * numbered delta when told to (once a second), keeps every delta until the controller acknowledges
 * it, and carries out the controller's commands as docs/stats-protocol.md says (a reset sends the
 * new generation's empty delta before its result). It does not reconnect: a broken stream makes the
 * run invalid, and is reported.
 */
final class SimAgent {
    /** One volume: its generation, and how often each pool entry was sent since its last reset. */
    private static final class Vol {
        final String name;
        final int poolIndex;
        long generation;
        final long[] uses = new long[DeltaPool.SIZE];

        Vol(String name, int poolIndex) {
            this.name = name;
            this.poolIndex = poolIndex;
        }
    }

    private final String hostId;
    private final String runId = UUID.randomUUID().toString();
    private final DeltaPool pool;
    private final Stats stats;
    private final List<Vol> volumes = new ArrayList<>();
    private final ArrayDeque<long[]> unacked = new ArrayDeque<>(); // {seq, sentNanos}
    private StreamObserver<AgentMessage> stream;
    private long seq;
    private long probeFlushes;
    private volatile boolean acked;
    private volatile boolean broken;
    private volatile boolean closing;

    SimAgent(String hostId, List<String> volumeNames, DeltaPool pool, Stats stats) {
        this.hostId = hostId;
        this.pool = pool;
        this.stats = stats;
        for (int i = 0; i < volumeNames.size(); i++) {
            volumes.add(new Vol(volumeNames.get(i), i));
        }
    }

    String hostId() {
        return hostId;
    }

    synchronized void connect(Channel channel) {
        stream = AgentLinkGrpc.newStub(channel).connect(new StreamObserver<>() {
            @Override
            public void onNext(ControllerMessage m) {
                switch (m.getBodyCase()) {
                    case ACK -> ack(m.getAck().getSeq());
                    case COMMAND -> command(m.getCommand());
                    default -> {}
                }
            }

            @Override
            public void onError(Throwable t) {
                if (closing) {
                    return;
                }
                broken = true;
                stats.streamErrors.incrementAndGet();
                System.err.println(hostId + ": stream failed: " + Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                broken = true;
            }
        });
        Hello.Builder hello =
                Hello.newBuilder().setHostId(hostId).setRunId(runId).setAgentVersion("bench-fleet");
        for (Vol v : volumes) {
            hello.addVolumes(volume(v.name));
        }
        stream.onNext(AgentMessage.newBuilder().setHello(hello).build());
    }

    private Volume volume(String name) {
        return Volume.newBuilder()
                .setHost(hostId)
                .setName(name)
                .setSizeBytes(1L << 30)
                .build();
    }

    /** The once-a-second delta: every volume counted something. */
    synchronized void tick() {
        if (broken) {
            return;
        }
        ThreadLocalRandom r = ThreadLocalRandom.current();
        StatsDelta.Builder d = StatsDelta.newBuilder();
        for (Vol v : volumes) {
            int entry = r.nextInt(DeltaPool.SIZE);
            VolumeDelta base = pool.delta(v.poolIndex % pool.volumes(), entry);
            d.addVolumes(
                    v.generation == 0 && base.getVolume().equals(v.name)
                            ? base
                            : base.toBuilder()
                                    .setVolume(v.name)
                                    .setGeneration(v.generation)
                                    .build());
            v.uses[entry]++;
        }
        send(d);
    }

    /** A delta with one FLUSH on the first volume: the WatchStats probe (only probes send flushes). */
    synchronized void probe() {
        Vol v = volumes.get(0);
        probeFlushes++;
        send(StatsDelta.newBuilder()
                .addVolumes(VolumeDelta.newBuilder()
                        .setVolume(v.name)
                        .setGeneration(v.generation)
                        .addOps(DeltaPool.PROBE_FLUSH)));
    }

    private void send(StatsDelta.Builder d) {
        d.setSeq(++seq);
        unacked.add(new long[] {seq, System.nanoTime()});
        stats.deltasSent.increment();
        stream.onNext(AgentMessage.newBuilder().setDelta(d).build());
    }

    private synchronized void ack(long upTo) {
        long now = System.nanoTime();
        while (!unacked.isEmpty() && unacked.peekFirst()[0] <= upTo) {
            long[] e = unacked.pollFirst();
            stats.ackLatency.add(now - e[1]);
        }
        acked = true;
    }

    private synchronized void command(Command c) {
        CommandResult.Builder result = CommandResult.newBuilder().setId(c.getId());
        switch (c.getActionCase()) {
            case RESET -> {
                List<String> names = c.getReset().getNamesList();
                StatsDelta.Builder d = StatsDelta.newBuilder();
                int n = 0;
                for (Vol v : volumes) {
                    if (names.isEmpty() || names.contains(v.name)) {
                        v.generation++;
                        java.util.Arrays.fill(v.uses, 0);
                        d.addVolumes(VolumeDelta.newBuilder().setVolume(v.name).setGeneration(v.generation));
                        n++;
                    }
                }
                send(d); // no counts are pending between ticks: the new generation starts empty
                result.setVolumesReset(n);
                stats.resetsDone.incrementAndGet();
            }
            case CREATE -> {
                String name = c.getCreate().getName();
                if (volumes.stream().anyMatch(v -> v.name.equals(name))) {
                    result.setCode(Status.Code.ALREADY_EXISTS.value()).setMessage("volume " + name + " exists");
                } else {
                    volumes.add(new Vol(name, volumes.size()));
                    result.setVolume(volume(name));
                }
            }
            case DELETE -> {
                if (!volumes.removeIf(v -> v.name.equals(c.getDelete().getName()))) {
                    result.setCode(Status.Code.NOT_FOUND.value())
                            .setMessage("no volume " + c.getDelete().getName());
                }
            }
            default -> result.setCode(Status.Code.UNIMPLEMENTED.value()).setMessage("unknown command");
        }
        result.setLastSeq(seq);
        stream.onNext(AgentMessage.newBuilder().setResult(result).build());
    }

    boolean acked() {
        return acked;
    }

    boolean broken() {
        return broken;
    }

    synchronized int unacked() {
        return unacked.size();
    }

    /** Adds, per pool entry, how often this agent's volumes sent it since their last reset. */
    synchronized void addUses(long[] total) {
        for (Vol v : volumes) {
            for (int i = 0; i < total.length; i++) {
                total[i] += v.uses[i];
            }
        }
    }

    synchronized long probeFlushes() {
        return probeFlushes;
    }

    synchronized void close() {
        closing = true;
        if (!broken) {
            stream.onCompleted();
        }
    }
}
