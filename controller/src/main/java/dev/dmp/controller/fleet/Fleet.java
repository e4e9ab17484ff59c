package dev.dmp.controller.fleet;

import com.google.protobuf.Timestamp;
import dev.dmp.proto.v1.Ack;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.Host;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.Volume;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.jboss.logging.Logger;

/**
 * The hosts the controller knows, their volumes and their open AgentLink sessions, with the ledger of
 * their counts. Hosts stay known (offline) after their agent disconnects.
 */
@ApplicationScoped
public class Fleet {
    private static final Logger LOG = Logger.getLogger(Fleet.class);

    private static final class HostState {
        AgentSession session;
        final TreeMap<String, Volume> volumes = new TreeMap<>();
        Instant lastSeen = Instant.EPOCH;
        String agentVersion = "";
    }

    private final TreeMap<String, HostState> hosts = new TreeMap<>();
    private final FleetLedger ledger = new FleetLedger();

    public FleetLedger ledger() {
        return ledger;
    }

    /** An agent said Hello on a new stream; an older stream of the same host is ended. */
    public synchronized void connected(AgentSession session, Hello hello) {
        HostState h = hosts.computeIfAbsent(session.hostId(), k -> new HostState());
        if (h.session != null) {
            LOG.infof("host %s connected again; closing its previous link", session.hostId());
            h.session.close();
            h.session.end();
        }
        h.session = session;
        take(session, h, hello);
        LOG.infof("agent connected: host %s (agent %s, %d volumes)", session.hostId(), hello.getAgentVersion(), h.volumes.size());
    }

    /**
     * A Hello on a stream that is already open: the agent changed its volumes on its own (through its
     * Agent API) and announces the whole list again. Counts of volumes it still has are kept.
     */
    public synchronized void announced(AgentSession session, Hello hello) {
        HostState h = hosts.get(session.hostId());
        if (h != null && h.session == session && hello.getRunId().equals(session.runId())) {
            take(session, h, hello);
            LOG.infof("host %s announced its volumes again (%d volumes)", session.hostId(), h.volumes.size());
        }
    }

    private void take(AgentSession session, HostState h, Hello hello) {
        h.volumes.clear();
        hello.getVolumesList().forEach(v -> h.volumes.put(v.getName(), v));
        h.agentVersion = hello.getAgentVersion();
        h.lastSeen = Instant.now();
        ledger.hello(session.hostId(), session.runId(), h.volumes.keySet());
    }

    /** Any message from the agent: it is alive now. */
    public synchronized void seen(AgentSession session) {
        HostState h = hosts.get(session.hostId());
        if (h != null && h.session == session) {
            h.lastSeen = Instant.now();
        }
    }

    public synchronized void disconnected(AgentSession session) {
        session.close();
        HostState h = hosts.get(session.hostId());
        if (h != null && h.session == session) {
            h.session = null;
            h.lastSeen = Instant.now();
            LOG.infof("agent lost: host %s disconnected; its volumes are listed until it is back", session.hostId());
        }
    }

    /** Applies a delta and acknowledges it (repeats are acknowledged too, so the agent can drop them). */
    public void delta(AgentSession session, StatsDelta delta) {
        ledger.apply(session.hostId(), session.runId(), delta);
        session.send(ControllerMessage.newBuilder().setAck(Ack.newBuilder().setSeq(delta.getSeq())).build());
    }

    public void result(AgentSession session, CommandResult result) {
        session.completed(result);
    }

    public synchronized void volumeCreated(Volume volume) {
        HostState h = hosts.get(volume.getHost());
        if (h != null) {
            h.volumes.put(volume.getName(), volume);
            ledger.addVolume(volume.getHost(), volume.getName());
        }
    }

    public synchronized void volumeDeleted(String host, String name) {
        HostState h = hosts.get(host);
        if (h != null) {
            h.volumes.remove(name);
            ledger.removeVolume(host, name);
        }
    }

    public synchronized boolean known(String host) {
        return hosts.containsKey(host);
    }

    /** The host's open session, if it is online. */
    public synchronized Optional<AgentSession> session(String host) {
        HostState h = hosts.get(host);
        return Optional.ofNullable(h == null ? null : h.session);
    }

    public synchronized List<Host> hosts() {
        List<Host> out = new ArrayList<>();
        hosts.forEach((id, h) -> out.add(Host.newBuilder().setId(id).setOnline(h.session != null)
                .setVolumeCount(h.volumes.size())
                .setLastSeen(Timestamp.newBuilder().setSeconds(h.lastSeen.getEpochSecond()).setNanos(h.lastSeen.getNano()))
                .setAgentVersion(h.agentVersion)
                .build()));
        return out;
    }

    /** Volumes of one host, or of every host when {@code host} is empty; sorted by host then name. */
    public synchronized List<Volume> volumes(String host) {
        List<Volume> out = new ArrayList<>();
        hosts.forEach((id, h) -> {
            if (host.isEmpty() || host.equals(id)) {
                out.addAll(h.volumes.values());
            }
        });
        return out;
    }

    public synchronized Optional<Volume> volume(String host, String name) {
        HostState h = hosts.get(host);
        return Optional.ofNullable(h == null ? null : h.volumes.get(name));
    }

    public synchronized boolean hasVolume(String host, String name) {
        HostState h = hosts.get(host);
        return h != null && h.volumes.containsKey(name);
    }
}
