package dev.dmp.agent.link;

import dev.dmp.agent.Agent;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.proto.v1.AgentLinkGrpc;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.VolumeDelta;
import io.grpc.Grpc;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The agent's end of the AgentLink stream: dials the controller, says Hello, sends numbered stat
 * deltas every second while anything changed, runs the commands that come back, and dials again
 * with backoff when the stream breaks. Deltas stay in {@link #unacked} until the controller
 * acknowledges them and are sent again after a reconnect; the controller drops repeats by number.
 * See docs/stats-protocol.md.
 */
public final class ControllerLink implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ControllerLink.class);
    private static final long DELTA_INTERVAL_MS = 1000;
    private static final long MIN_BACKOFF_MS = 250;
    private static final long MAX_BACKOFF_MS = 5000;

    private final String target;
    private final Agent agent;
    private final StatsJournal journal;
    private final CommandRunner commands;
    private final String runId = UUID.randomUUID().toString();
    private final ConcurrentSkipListMap<Long, StatsDelta> unacked = new ConcurrentSkipListMap<>();
    private final Object sendLock = new Object();
    private final Thread thread;
    private final ManagedChannel channel;
    private long lastSeq;
    private volatile boolean running = true;
    /** The open stream, or null between connections. Guarded by sendLock. */
    private StreamObserver<AgentMessage> stream;

    public ControllerLink(String target, ChannelCredentials credentials, Agent agent) {
        this.target = target;
        this.agent = agent;
        this.journal = agent.journal();
        this.commands = new CommandRunner(agent);
        this.channel = Grpc.newChannelBuilder(target, credentials).build();
        this.thread = Thread.ofPlatform().name("controller-link").daemon().unstarted(this::loop);
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        long backoff = MIN_BACKOFF_MS;
        while (running) {
            CountDownLatch closed = new CountDownLatch(1);
            boolean helloAccepted = session(closed);
            if (!running) {
                return;
            }
            backoff = helloAccepted ? MIN_BACKOFF_MS : Math.min(backoff * 2, MAX_BACKOFF_MS);
            sleep(backoff);
        }
    }

    /** One stream's life; returns true if it got far enough to be worth reconnecting quickly. */
    private boolean session(CountDownLatch closed) {
        StreamObserver<ControllerMessage> inbound = new StreamObserver<>() {
            @Override
            public void onNext(ControllerMessage message) {
                switch (message.getBodyCase()) {
                    case ACK -> unacked.headMap(message.getAck().getSeq(), true).clear();
                    case COMMAND -> Thread.ofVirtual().start(() -> runCommand(message));
                    default -> LOG.debugf("ignoring controller message %s", message.getBodyCase());
                }
            }

            @Override
            public void onError(Throwable t) {
                LOG.infof("controller %s: link lost: %s", target, t.getMessage());
                closed.countDown();
            }

            @Override
            public void onCompleted() {
                LOG.infof("controller %s: link closed by the controller", target);
                closed.countDown();
            }
        };
        boolean connected = false;
        try {
            synchronized (sendLock) {
                stream = AgentLinkGrpc.newStub(channel).connect(inbound);
                stream.onNext(AgentMessage.newBuilder().setHello(hello()).build());
                for (StatsDelta delta : unacked.values()) {
                    stream.onNext(AgentMessage.newBuilder().setDelta(delta).build());
                }
            }
            while (running && !closed.await(DELTA_INTERVAL_MS, TimeUnit.MILLISECONDS)) {
                if (!connected) {
                    connected = true;
                    LOG.infof("controller %s: connected as host %s", target, agent.settings().hostId());
                }
                synchronized (sendLock) {
                    sendDeltas();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.infof("controller %s: stream failed: %s", target, e.toString());
        } finally {
            synchronized (sendLock) {
                if (stream != null && !running) {
                    stream.onCompleted();
                }
                stream = null;
            }
        }
        return connected;
    }

    private Hello hello() {
        Hello.Builder hello = Hello.newBuilder()
                .setHostId(agent.settings().hostId())
                .setRunId(runId)
                .setAgentVersion(AgentVersion.get())
                .setLastSeq(lastSeq);
        agent.registry().list().forEach(v -> hello.addVolumes(agent.describe(v)));
        return hello.build();
    }

    /**
     * Announces the volume list again on the open stream (a Hello after the first one): the way the
     * controller learns of volumes created or deleted through the agent's own API. With no stream
     * open nothing is sent; the Hello of the next connection carries the list anyway.
     */
    public void announce() {
        synchronized (sendLock) {
            if (stream != null) {
                sendDeltas();
                stream.onNext(AgentMessage.newBuilder().setHello(hello()).build());
            }
        }
    }

    private void runCommand(ControllerMessage message) {
        CommandResult.Builder result = commands.run(message.getCommand());
        synchronized (sendLock) {
            // Whatever the command did to the counts goes out before its result.
            sendDeltas();
            result.setLastSeq(lastSeq);
            if (stream != null) {
                stream.onNext(AgentMessage.newBuilder().setResult(result).build());
            }
        }
    }

    /** Drains the journal into a new numbered delta and sends it. Caller holds sendLock. */
    private void sendDeltas() {
        if (stream == null) {
            return;
        }
        List<StatsJournal.Delta> deltas = journal.drain();
        if (deltas.isEmpty()) {
            return;
        }
        StatsDelta.Builder delta = StatsDelta.newBuilder().setSeq(++lastSeq);
        for (StatsJournal.Delta d : deltas) {
            delta.addVolumes(VolumeDelta.newBuilder()
                    .setVolume(d.volume())
                    .setGeneration(d.generation())
                    .setReadRequests(d.counts().readRequests())
                    .setReadBytes(d.counts().readBytes())
                    .setWriteRequests(d.counts().writeRequests())
                    .setWriteBytes(d.counts().writeBytes()));
        }
        StatsDelta built = delta.build();
        unacked.put(built.getSeq(), built);
        stream.onNext(AgentMessage.newBuilder().setDelta(built).build());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        synchronized (sendLock) {
            sendDeltas();
        }
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.shutdown();
    }
}
