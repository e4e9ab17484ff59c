package dev.dmp.controller.fleet;

import dev.dmp.controller.ControllerConfig;
import dev.dmp.controller.store.HostWrite;
import dev.dmp.controller.store.LedgerStore;
import dev.dmp.controller.store.LedgerStores;
import dev.dmp.proto.VolumeAttachment;
import dev.dmp.proto.v1.Ack;
import dev.dmp.proto.v1.AttachmentState;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.StatsDeltaIn;
import dev.dmp.proto.v1.Volume;
import io.grpc.Status;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jboss.logging.Logger;

/**
 * The hosts the controller knows: their open AgentLink sessions and the ledger of their volumes and
 * counts. Hosts stay known (offline, their numbers stale) after their agent disconnects, and across
 * controller restarts. Deltas are acknowledged only once the ledger holding them is on disk.
 */
@ApplicationScoped
@Startup
public class Fleet {
    private static final Logger LOG = Logger.getLogger(Fleet.class);
    /** How often applied deltas are committed (and then acknowledged). */
    static final long COMMIT_INTERVAL_MS = 50;

    private final ControllerConfig config;
    private final ConcurrentHashMap<String, AgentSession> sessions = new ConcurrentHashMap<>();
    private final List<PendingAck> acksAfterCommit = new ArrayList<>();
    /**
     * When (System.nanoTime) the oldest delta not yet acknowledged arrived, 0 when none waits; guarded
     * by acksAfterCommit. A failed commit leaves it, so the lag grows until a commit succeeds.
     */
    private long waitingSince;

    private final AtomicLong commitFailures = new AtomicLong();
    /** Only the commit thread uses it. */
    private final CommitFailureLog failureLog = new CommitFailureLog();

    /** An acknowledgement that goes out after the next commit, and when its delta arrived. */
    private record PendingAck(long receivedNanos, Runnable send) {}

    private LedgerStore store;
    private FleetLedger ledger;
    /** With a shared store: the view of the hosts other replicas hold; null otherwise. */
    private LedgerMirror mirror;

    private Thread committer;
    private Thread mirrorThread;
    private Thread heartbeatThread;
    private volatile boolean running = true;

    public Fleet(ControllerConfig config) {
        this.config = config;
    }

    @PostConstruct
    void open() {
        openLedger();
        committer = Thread.ofPlatform().name("ledger-commit").daemon().start(this::commitLoop);
        if (mirror != null) {
            mirrorThread = Thread.ofPlatform().name("ledger-mirror").daemon().start(this::mirrorLoop);
            heartbeatThread =
                    Thread.ofPlatform().name("ledger-heartbeat").daemon().start(this::heartbeatLoop);
        }
    }

    private void heartbeatLoop() {
        while (running) {
            LockSupport.parkNanos(MIRROR_INTERVAL_MS * 1_000_000L);
            if (running) {
                mirror.beatQuietly();
            }
        }
    }

    private void mirrorLoop() {
        long pause = MIRROR_INTERVAL_MS * 1_000_000L;
        while (running) {
            LockSupport.parkNanos(pause);
            if (running) {
                long start = System.nanoTime();
                mirror.readQuietly();
                // At most a quarter of the time reading other replicas' hosts: with thousands of hosts
                // all written every second, a refresh costs real CPU, and the view may lag a little more.
                pause = Math.max(MIRROR_INTERVAL_MS * 1_000_000L, 3 * (System.nanoTime() - start));
            }
        }
    }

    /** How often a replica beats, and reads the hosts other replicas wrote (at most). */
    static final long MIRROR_INTERVAL_MS = 1000;

    /** The ledger without the thread that commits it: tests call {@link #commit} themselves. */
    void openLedger() {
        store = LedgerStores.open(config);
        ledger = new FleetLedger(store);
        store.shared().ifPresent(shared -> {
            String address = config.replicaAddress().orElseGet(Fleet::defaultAddress);
            mirror = new LedgerMirror(shared, ledger, address);
            mirror.beatQuietly();
            mirror.readQuietly()
                    .ifPresent(r -> LOG.infof(
                            "replica %s (reached at %s) shares the ledger with %d live replicas; %d hosts read",
                            shared.replicaId(), address, r.replicas() - 1, r.read()));
        });
        LOG.infof(
                "ledger %s open: %d hosts known",
                store.location(), ledger.hosts().size());
    }

    private void commitLoop() {
        while (running) {
            // Parked, not asleep: close() wakes it with unpark, never with an interrupt, which would
            // close the MVStore's file channel under a commit in progress (FileChannel is interruptible)
            // and leave MVStore.close() spinning in its panic handling (seen at 1,000 agents).
            LockSupport.parkNanos(COMMIT_INTERVAL_MS * 1_000_000L);
            if (running) {
                commit();
            }
        }
    }

    /** Makes the ledger durable, then sends the acknowledgements that were waiting for it. */
    void commit() {
        List<PendingAck> acks;
        synchronized (acksAfterCommit) {
            acks = new ArrayList<>(acksAfterCommit);
            acksAfterCommit.clear();
        }
        List<HostWrite> refused;
        try {
            refused = ledger.commit();
        } catch (RuntimeException e) {
            commitFailures.incrementAndGet();
            failureLog.failed(e);
            return;
        }
        failureLog.succeeded();
        refused.forEach(this::fenced); // before the acks: a fenced host's session sends none
        acks.forEach(a -> a.send().run());
        synchronized (acksAfterCommit) {
            waitingSince =
                    acksAfterCommit.isEmpty() ? 0 : acksAfterCommit.get(0).receivedNanos();
        }
    }

    /**
     * The store refused a write of the host: another replica claimed it after this one did. Whatever
     * this replica applied since its last commit of the host is not in the ledger, so none of it may be
     * acknowledged: the session is closed (its waiting acks go nowhere) and ended, and the host
     * forgotten. The agent dials again and resends its unacknowledged deltas to whoever holds it now.
     */
    private void fenced(HostWrite refused) {
        String host = refused.hostId();
        if (!ledger.fenced(host, refused.epoch())) {
            return; // this replica claimed the host again meanwhile: the newer claim stands
        }
        LOG.warnf(
                "host %s: fenced: epoch %d is no longer current (another replica claimed it); ending its stream"
                        + " and forgetting the host",
                host, refused.epoch());
        // Only the stream of the refused claim: a newer Hello here may have put its own meanwhile.
        AgentSession session = sessions.get(host);
        if (session != null && session.epoch() == refused.epoch() && sessions.remove(host, session)) {
            session.close();
            session.abort(Status.ABORTED.withDescription(
                    "host " + host + " was claimed by another controller replica; dial again"));
        }
    }

    /**
     * Seconds the oldest delta not yet acknowledged has waited for the commit that holds it (0 when
     * none waits): about the commit interval in a healthy controller, growing while commits fail.
     */
    public double ackLagSeconds() {
        long since;
        synchronized (acksAfterCommit) {
            since = waitingSince;
        }
        return since == 0 ? 0 : (System.nanoTime() - since) / 1e9;
    }

    /** Ledger commits that failed since the start (their deltas' acknowledgements were held back). */
    public long commitFailures() {
        return commitFailures.get();
    }

    /** This machine's name and the gRPC port: {@code dmp.controller.replica-address} when unset. */
    private static String defaultAddress() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        return host + ":"
                + org.eclipse.microprofile.config.ConfigProvider.getConfig()
                        .getOptionalValue("quarkus.http.port", Integer.class)
                        .orElse(8080);
    }

    /** The view of other replicas' hosts, with a shared store. */
    public Optional<LedgerMirror> mirror() {
        return Optional.ofNullable(mirror);
    }

    /**
     * Whether this process exports the ledger's metrics ({@code dmp_volume_*}, {@code dmp_host_*}):
     * always alone, and the one replica {@link LedgerMirror#exportsLedgerMetrics} picks when shared.
     */
    public boolean exportsLedgerMetrics() {
        return mirror == null || mirror.exportsLedgerMetrics();
    }

    /**
     * Where to forward a command for a host this process does not hold: the address of the live
     * replica that holds its stream. Empty when this process holds it, nobody does, or it is unknown.
     */
    public Optional<String> ownerAddress(String host) {
        if (mirror == null || sessions.containsKey(host)) {
            return Optional.empty();
        }
        return ledger.owner(host).filter(FleetLedger.Owner::online).flatMap(o -> mirror.address(o.replicaId()));
    }

    void close(@Observes ShutdownEvent event) {
        running = false;
        if (mirrorThread != null) {
            LockSupport.unpark(mirrorThread);
            LockSupport.unpark(heartbeatThread);
        }
        LockSupport.unpark(committer);
        try {
            committer.join(COMMIT_INTERVAL_MS * 100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        commit();
        store.close();
    }

    public FleetLedger ledger() {
        return ledger;
    }

    /**
     * An agent said Hello on a new stream; an older stream of the same host is ended, before the claim,
     * so that nothing it applies after the claim read the store is acknowledged on it.
     *
     * @throws dev.dmp.controller.store.LedgerUnavailableException when the host cannot be claimed (the
     *     session is not kept)
     */
    public void connected(AgentSession session, Hello hello) {
        AgentSession previous = sessions.put(session.hostId(), session);
        if (previous != null) {
            LOG.infof("host %s connected again; closing its previous link", session.hostId());
            previous.close();
            previous.end();
        }
        try {
            session.claimed(ledger.connect(hello, Instant.now()));
        } catch (RuntimeException e) {
            sessions.remove(session.hostId(), session);
            session.close();
            throw e;
        }
        LOG.infof(
                "agent connected: host %s (agent %s, run %s, %d volumes)",
                session.hostId(), hello.getAgentVersion(), hello.getRunId(), hello.getVolumesCount());
    }

    /**
     * A Hello on a stream that is already open: the agent changed its volumes on its own (through its
     * Agent API) and announces the whole list again. Counts of volumes it still has are kept.
     */
    public void announced(AgentSession session, Hello hello) {
        // The stream's own host and run only: a Hello naming another host must not replace its volumes.
        if (sessions.get(session.hostId()) == session
                && hello.getHostId().equals(session.hostId())
                && hello.getRunId().equals(session.runId())) {
            ledger.hello(hello, Instant.now());
            LOG.infof("host %s announced its volumes again (%d volumes)", session.hostId(), hello.getVolumesCount());
        }
    }

    /** Whether {@link #connected} waits on the ledger's database (see {@link LedgerStore#claimsWaitOnNetwork}). */
    public boolean claimsWaitOnNetwork() {
        return store.claimsWaitOnNetwork();
    }

    /** Whether the ledger's store answers now (see {@link LedgerStore#reachable}). */
    public boolean ledgerReachable() {
        return store.reachable();
    }

    /** Any message from the agent: it is alive now. */
    public void seen(AgentSession session) {
        if (sessions.get(session.hostId()) == session) {
            ledger.seen(session.hostId(), Instant.now());
        }
    }

    public void disconnected(AgentSession session) {
        session.close();
        if (sessions.remove(session.hostId(), session)) {
            ledger.offline(session.hostId(), Instant.now());
            LOG.infof(
                    "agent lost: host %s disconnected; its volumes and numbers are kept, marked stale",
                    session.hostId());
        }
    }

    /** Applies a delta; acknowledges it (repeats too, so the agent drops them) once it is durable. */
    public void delta(AgentSession session, StatsDeltaIn delta) {
        ledger.apply(session.hostId(), session.runId(), delta, Instant.now());
        ControllerMessage ack = ControllerMessage.newBuilder()
                .setAck(Ack.newBuilder().setSeq(delta.getSeq()))
                .build();
        long now = System.nanoTime();
        synchronized (acksAfterCommit) {
            acksAfterCommit.add(new PendingAck(now, () -> session.send(ack)));
            if (waitingSince == 0) {
                waitingSince = now;
            }
        }
    }

    public void result(AgentSession session, CommandResult result) {
        session.completed(result);
    }

    /**
     * The agent says one of its volumes changed on its own (its kernel attachment failed): the
     * ledger's copy becomes the one sent, so ListVolumes and the dashboard show it at once. A volume
     * the ledger does not hold (deleted meanwhile), or a message from a replaced stream, changes nothing.
     */
    public void volumeChanged(AgentSession session, Volume volume) {
        if (sessions.get(session.hostId()) != session) {
            return;
        }
        Volume v = volume.toBuilder().setHost(session.hostId()).build();
        if (!ledger.updateVolume(v)) {
            LOG.debugf("host %s: change of unknown volume %s ignored", session.hostId(), v.getName());
        } else if (VolumeAttachment.state(v) == AttachmentState.ATTACHMENT_STATE_FAILED) {
            LOG.warnf("host %s: volume %s: attachment %s", session.hostId(), v.getName(), v.getAttachment());
        } else {
            LOG.infof(
                    "host %s: volume %s changed: device '%s', attachment '%s'",
                    session.hostId(), v.getName(), v.getDevice(), v.getAttachment());
        }
    }

    public void volumeCreated(Volume volume) {
        ledger.addVolume(volume);
    }

    public void volumeDeleted(String host, String name) {
        ledger.removeVolume(host, name);
    }

    public boolean known(String host) {
        return ledger.known(host);
    }

    /** The host's open session, if it is online. */
    public Optional<AgentSession> session(String host) {
        return Optional.ofNullable(sessions.get(host));
    }

    public List<dev.dmp.proto.v1.Host> hosts() {
        return ledger.hosts().stream()
                .map(h -> dev.dmp.proto.v1.Host.newBuilder()
                        .setId(h.id())
                        .setOnline(h.online())
                        .setVolumeCount(h.volumeCount())
                        .setAgentVersion(h.agentVersion())
                        .setLastSeen(dev.dmp.proto.StatsRows.timestamp(h.lastSeen()))
                        .build())
                .toList();
    }

    /** Volumes of one host, or of every host when {@code host} is empty; sorted by host then name. */
    public List<Volume> volumes(String host) {
        return ledger.volumes(host);
    }

    public Optional<Volume> volume(String host, String name) {
        return ledger.volume(host, name);
    }

    public boolean hasVolume(String host, String name) {
        return ledger.hasVolume(host, name);
    }
}
