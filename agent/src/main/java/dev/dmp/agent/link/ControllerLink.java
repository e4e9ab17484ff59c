package dev.dmp.agent.link;

import dev.dmp.agent.Agent;
import dev.dmp.proto.v1.AgentLinkGrpc;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.StatsDelta;
import io.grpc.Grpc;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The agent's end of the AgentLink stream: dials the controller, says Hello, sends the deltas the
 * {@link StatsReporter} hands it, runs the commands that come back, and dials again with backoff when
 * the stream breaks. Unacknowledged deltas are sent again on every new stream; the controller drops
 * repeats by number. See docs/stats-protocol.md.
 */
public final class ControllerLink implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ControllerLink.class);
    private static final long MIN_BACKOFF_MS = 250;
    private static final long MAX_BACKOFF_MS = 5000;

    private final String target;
    private final Agent agent;
    private final StatsReporter reporter;
    private final DeltaStream deltas;
    private final CommandRunner commands;
    private final Thread thread;
    private final ManagedChannel channel;
    private volatile boolean running = true;
    /** The open stream, or null between connections. Guarded by reporter.lock. */
    private StreamObserver<AgentMessage> stream;

    public ControllerLink(String target, ChannelCredentials credentials, Agent agent, StatsReporter reporter) {
        this.target = target;
        this.agent = agent;
        this.reporter = reporter;
        this.deltas = reporter.deltas();
        this.commands = new CommandRunner(agent);
        // Keepalive pings find a link that went silent (a cut cable, a paused peer) without waiting
        // for TCP to give up; the stream then breaks and the loop dials again.
        this.channel = Grpc.newChannelBuilder(target, credentials)
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(true)
                .build();
        this.thread = Thread.ofPlatform().name("controller-link").daemon().unstarted(this::loop);
        reporter.onCheckpoint(this::sendUnsent);
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        long backoff = MIN_BACKOFF_MS;
        while (running) {
            boolean wasUp = session();
            if (!running) {
                return;
            }
            backoff = wasUp ? MIN_BACKOFF_MS : Math.min(backoff * 2, MAX_BACKOFF_MS);
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One stream's life; returns true if it stayed up long enough to be worth redialling at once. */
    private boolean session() {
        CountDownLatch closed = new CountDownLatch(1);
        StreamObserver<ControllerMessage> inbound = new StreamObserver<>() {
            @Override
            public void onNext(ControllerMessage message) {
                switch (message.getBodyCase()) {
                    case ACK -> deltas.ack(message.getAck().getSeq());
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
        boolean up = false;
        try {
            synchronized (reporter.lock) {
                stream = AgentLinkGrpc.newStub(channel).connect(inbound);
                stream.onNext(AgentMessage.newBuilder().setHello(hello()).build());
                deltas.resendAll();
                sendUnsent();
            }
            if (!closed.await(StatsReporter.INTERVAL_MS, TimeUnit.MILLISECONDS)) {
                up = true;
                LOG.infof("controller %s: connected as host %s", target, agent.settings().hostId());
                closed.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.infof("controller %s: stream failed: %s", target, e.toString());
        } finally {
            synchronized (reporter.lock) {
                stream = null;
            }
        }
        return up;
    }

    private Hello hello() {
        Hello.Builder hello = Hello.newBuilder()
                .setHostId(agent.settings().hostId())
                .setRunId(deltas.runId())
                .setAgentVersion(AgentVersion.get())
                .setLastSeq(deltas.lastSeq());
        agent.registry().list().forEach(v -> hello.addVolumes(agent.describe(v)));
        return hello.build();
    }

    /**
     * Announces the volume list again on the open stream (a Hello after the first one): the way the
     * controller learns of volumes created or deleted through the agent's own API. The deltas made
     * so far go first. With no stream open nothing is sent; the next connection's Hello carries the list.
     */
    public void announce() {
        synchronized (reporter.lock) {
            reporter.volumesChanged();
            reporter.tick();
            if (stream != null) {
                try {
                    stream.onNext(AgentMessage.newBuilder().setHello(hello()).build());
                } catch (RuntimeException e) {
                    LOG.debugf("controller %s: announce lost: %s", target, e);
                }
            }
        }
    }

    /**
     * Tells the controller that a volume changed on its own (its kernel attachment failed), on the
     * open stream, after the deltas made so far. With no stream open nothing is sent: the next
     * connection's Hello carries the volume as it is then. Returns whether it was sent.
     */
    public boolean volumeChanged(dev.dmp.proto.v1.Volume volume) {
        synchronized (reporter.lock) {
            reporter.tick();
            if (stream == null) {
                LOG.infof("controller %s: not connected; volume %s (attachment '%s') goes with the next Hello", target,
                        volume.getName(), volume.getAttachment());
                return false;
            }
            try {
                stream.onNext(volumeChangedMessage(volume));
                LOG.infof("controller %s: told of volume %s (attachment '%s')", target, volume.getName(),
                        volume.getAttachment());
                return true;
            } catch (RuntimeException e) {
                LOG.infof("controller %s: volume %s change lost (%s); the next Hello carries it", target,
                        volume.getName(), e);
                return false;
            }
        }
    }

    static AgentMessage volumeChangedMessage(dev.dmp.proto.v1.Volume volume) {
        return AgentMessage.newBuilder().setVolumeChanged(volume).build();
    }

    /** Sends the deltas not yet on this stream. Caller holds reporter.lock. */
    private void sendUnsent() {
        if (stream == null) {
            return;
        }
        try {
            List<StatsDelta> unsent = deltas.takeUnsent();
            for (StatsDelta d : unsent) {
                stream.onNext(AgentMessage.newBuilder().setDelta(d).build());
            }
            if (unsent.isEmpty()) {
                // Nothing counted this second: an empty message, so the controller's last_seen of an
                // idle but connected host stays about a second old (docs/stats-protocol.md).
                stream.onNext(AgentMessage.getDefaultInstance());
            }
        } catch (RuntimeException e) {
            LOG.debugf("controller %s: sending deltas failed: %s", target, e);
        }
    }

    private void runCommand(ControllerMessage message) {
        synchronized (reporter.lock) {
            CommandResult.Builder result = commands.run(message.getCommand());
            if (message.getCommand().hasCreate() || message.getCommand().hasDelete()) {
                reporter.volumesChanged();
            }
            // The command's effect on the counts (a reset's closing delta) goes out before its result.
            reporter.tick();
            result.setLastSeq(deltas.lastSeq());
            if (stream != null) {
                try {
                    stream.onNext(AgentMessage.newBuilder().setResult(result).build());
                } catch (RuntimeException e) {
                    LOG.debugf("controller %s: result lost: %s", target, e);
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        synchronized (reporter.lock) {
            if (stream != null) {
                try {
                    stream.onCompleted();
                } catch (RuntimeException e) {
                    // already broken
                }
            }
        }
        thread.interrupt();
        channel.shutdown();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
