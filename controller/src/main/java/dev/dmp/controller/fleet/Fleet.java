package dev.dmp.controller.fleet;

import dev.dmp.proto.v1.Ack;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.Host;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.Volume;
import jakarta.enterprise.context.ApplicationScoped;
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
        h.volumes.clear();
        hello.getVolumesList().forEach(v -> h.volumes.put(v.getName(), v));
        ledger.hello(session.hostId(), hello.getRunId(), h.volumes.keySet());
        LOG.infof("host %s connected (agent %s, %d volumes)", session.hostId(), hello.getAgentVersion(), h.volumes.size());
    }

    public synchronized void disconnected(AgentSession session) {
        session.close();
        HostState h = hosts.get(session.hostId());
        if (h != null && h.session == session) {
            h.session = null;
            LOG.infof("host %s disconnected", session.hostId());
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
                .setVolumeCount(h.volumes.size()).build()));
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

    public synchronized boolean hasVolume(String host, String name) {
        HostState h = hosts.get(host);
        return h != null && h.volumes.containsKey(name);
    }
}
