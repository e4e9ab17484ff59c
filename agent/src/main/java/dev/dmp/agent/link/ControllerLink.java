package dev.dmp.agent.link;

import dev.dmp.agent.host.VolumeDescriber;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.proto.v1.AgentLinkGrpc;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.VolumeState;
import dev.dmp.proto.v1.VolumeTotals;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The agent's end of the AgentLink stream: dials the controller, says Hello, sends the deltas the
 * {@link StatsReporter} hands it, runs the commands that come back, and dials again with backoff when
 * the stream breaks, each time the next of the controllers it was given ({@link ControllerChannels}).
 * Unacknowledged deltas are sent again on every new stream; the controller drops repeats by number
 * (whichever replica it is). It listens to the volume registry: a volume created or deleted through the
 * agent's own API is announced with the whole list again (one the controller asked for is told by the
 * command's result). See docs/stats-protocol.md.
 *
 * <p>Locks: the open stream is guarded by this link's own lock. What must keep its order with the
 * deltas (a new stream's first messages, a command's result, an announcement) is sent from within the
 * reporter ({@link StatsReporter#tickThen}); so the order of locks is always the reporter's, then the
 * link's.
 */
public final class ControllerLink implements VolumeRegistry.Listener, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ControllerLink.class);
    static final long MIN_BACKOFF_MS = 250;
    static final long MAX_BACKOFF_MS = 5000;
    /** Set while a controller command runs on this thread: its volume changes go out in its result. */
    private static final ThreadLocal<Boolean> IN_COMMAND = ThreadLocal.withInitial(() -> false);

    private final ControllerChannels controllers;
    /** How the logs name the controller: the target of the last dial (the whole list before the first). */
    private volatile String target;

    private final String hostId;
    private final VolumeRegistry registry;
    private final VolumeDescriber describer;
    private final StatsReporter reporter;
    private final DeltaStream deltas;
    private final CommandRunner commands;
    private final Thread thread;
    private volatile boolean running = true;
    private final Object lock = new Object();
    /** The open stream, or null between connections. Guarded by {@link #lock}. */
    private StreamObserver<AgentMessage> stream;

    /** The link owns {@code controllers}: it shuts their channels down when it closes. */
    public ControllerLink(
            ControllerChannels controllers,
            String hostId,
            VolumeRegistry registry,
            VolumeDescriber describer,
            CommandRunner commands,
            StatsReporter reporter) {
        this.controllers = controllers;
        this.target = controllers.toString();
        this.hostId = hostId;
        this.registry = registry;
        this.describer = describer;
        this.reporter = reporter;
        this.deltas = reporter.deltas();
        this.commands = commands;
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
                Thread.sleep(jittered(backoff));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * A wait of between half and all of {@code backoff}, at random: a thousand agents that lost a
     * restarted controller at the same moment redial it spread over the interval, not in lockstep.
     */
    static long jittered(long backoff) {
        return backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
    }

    /**
     * One stream's life, on the next controller in turn; returns true if it stayed up long enough to be
     * worth redialling at once.
     */
    private boolean session() {
        ControllerChannels.Dial dial = controllers.next();
        if (dial == null) {
            return false; // closed meanwhile
        }
        String target = dial.toString();
        this.target = target;
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
                // gRPC's own message is often just "UNAVAILABLE: io exception"; the cause says which
                // (connection refused, no route to host, the name does not resolve).
                Throwable cause = t.getCause();
                LOG.infof(
                        "controller %s: link lost: %s%s",
                        target, t.getMessage(), cause == null ? "" : " (" + cause.getMessage() + ")");
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
            // The Hello, then every unacknowledged delta, with no tick in between.
            reporter.exclusively(() -> {
                synchronized (lock) {
                    stream = AgentLinkGrpc.newStub(dial.channel()).connect(inbound);
                    stream.onNext(AgentMessage.newBuilder().setHello(hello()).build());
                    deltas.resendAll();
                }
                sendUnsent();
            });
            if (!closed.await(StatsReporter.INTERVAL_MS, TimeUnit.MILLISECONDS)) {
                up = true;
                LOG.infof("controller %s: connected as host %s", target, hostId);
                closed.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.infof("controller %s: stream failed: %s", target, e.toString());
        } finally {
            synchronized (lock) {
                stream = null;
            }
        }
        return up;
    }

    private Hello hello() {
        Hello.Builder hello = Hello.newBuilder()
                .setHostId(hostId)
                .setRunId(deltas.runId())
                .setAgentVersion(AgentVersion.get())
                .setLastSeq(deltas.lastSeq())
                .setAckedSeq(deltas.ackedSeq());
        registry.list().forEach(v -> hello.addVolumes(describer.describe(v)));
        for (VolumeState v : reporter.countsAsOfLastSeq().getVolumesList()) {
            hello.addTotals(VolumeTotals.newBuilder()
                    .setVolume(v.getSpec().getName())
                    .setGeneration(v.getGeneration())
                    .addAllCumulative(v.getCumulativeList())
                    .addAllBaseline(v.getBaselineList()));
        }
        return hello.build();
    }

    @Override
    public void created(Volume volume) {
        announceUnlessCommand();
    }

    @Override
    public void deleted(Volume volume) {
        announceUnlessCommand();
    }

    private void announceUnlessCommand() {
        if (!IN_COMMAND.get()) {
            announce();
        }
    }

    /**
     * Announces the volume list again on the open stream (a Hello after the first one): the way the
     * controller learns of volumes created or deleted through the agent's own API. The deltas made
     * so far go first. With no stream open nothing is sent; the next connection's Hello carries the list.
     */
    void announce() {
        reporter.tickThen(() -> send(AgentMessage.newBuilder().setHello(hello()).build(), "announce"));
    }

    /**
     * Tells the controller that a volume changed on its own (its kernel attachment failed), on the
     * open stream, after the deltas made so far. With no stream open nothing is sent: the next
     * connection's Hello carries the volume as it is then.
     */
    public void volumeChanged(dev.dmp.proto.v1.Volume volume) {
        reporter.tickThen(() -> {
            if (send(volumeChangedMessage(volume), "volume " + volume.getName() + " change")) {
                LOG.infof(
                        "controller %s: told of volume %s (attachment '%s')",
                        target, volume.getName(), volume.getAttachment());
            } else {
                LOG.infof(
                        "controller %s: not connected; volume %s (attachment '%s') goes with the next Hello",
                        target, volume.getName(), volume.getAttachment());
            }
        });
    }

    static AgentMessage volumeChangedMessage(dev.dmp.proto.v1.Volume volume) {
        return AgentMessage.newBuilder().setVolumeChanged(volume).build();
    }

    /** Sends one message on the open stream; false when there is none or it broke ({@code what} for the log). */
    private boolean send(AgentMessage message, String what) {
        synchronized (lock) {
            if (stream == null) {
                return false;
            }
            try {
                stream.onNext(message);
                return true;
            } catch (RuntimeException e) {
                LOG.debugf("controller %s: %s lost: %s", target, what, e);
                return false;
            }
        }
    }

    /** Sends the deltas not yet on this stream; called by the reporter after each checkpoint. */
    private void sendUnsent() {
        synchronized (lock) {
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
    }

    private void runCommand(ControllerMessage message) {
        CommandResult.Builder result;
        IN_COMMAND.set(true);
        try {
            result = commands.run(message.getCommand());
        } finally {
            IN_COMMAND.remove();
        }
        // The command's effect on the counts (a reset's closing delta) goes out before its result.
        reporter.tickThen(() -> send(
                AgentMessage.newBuilder()
                        .setResult(result.setLastSeq(deltas.lastSeq()))
                        .build(),
                "result"));
    }

    @Override
    public void close() {
        running = false;
        synchronized (lock) {
            if (stream != null) {
                try {
                    stream.onCompleted();
                } catch (RuntimeException e) {
                    // already broken
                }
            }
        }
        thread.interrupt();
        controllers.close();
    }
}
