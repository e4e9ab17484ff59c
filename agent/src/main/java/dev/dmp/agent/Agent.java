package dev.dmp.agent;

import dev.dmp.agent.api.HostOperations;
import dev.dmp.agent.link.ControllerLink;
import dev.dmp.agent.link.LinkCredentials;
import dev.dmp.auth.TokenGuard;
import io.grpc.ChannelCredentials;
import io.quarkus.tls.TlsConfigurationRegistry;
import dev.dmp.agent.nbd.NbdServer;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeExports;
import dev.dmp.agent.volume.VolumeRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.jboss.logging.Logger;

/** The agent process: its volumes, the NBD server in front of them, and the link to the controller. */
@ApplicationScoped
public class Agent {
    private static final Logger LOG = Logger.getLogger(Agent.class);

    private final AgentSettings settings;
    private final StatsJournal journal;
    private final VolumeRegistry registry;
    private final HostOperations operations;
    private volatile NbdServer nbd;
    private volatile ControllerLink link;

    private final ChannelCredentials linkCredentials;

    public Agent(AgentConfig config, TokenGuard guard, TlsConfigurationRegistry tls) {
        this.settings = AgentSettings.from(config);
        this.linkCredentials = settings.standalone() ? null : LinkCredentials.of(config, guard.token(), tls);
        this.journal = new StatsJournal(!settings.standalone());
        this.registry = new VolumeRegistry(journal);
        this.operations = new HostOperations(this);
    }

    void start(@Observes StartupEvent event) {
        try {
            Files.createDirectories(settings.stateDir());
            nbd = NbdServer.start(settings.nbdSocket(), new VolumeExports(registry));
        } catch (IOException e) {
            throw new UncheckedIOException("dmp.agent.nbd-socket: cannot listen on " + settings.nbdSocket() + ": " + e.getMessage(), e);
        }
        if (settings.standalone()) {
            LOG.infof("agent %s is standalone (dmp.agent.controller is empty)", settings.hostId());
        } else {
            link = new ControllerLink(settings.controller(), linkCredentials, this);
            link.start();
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (link != null) {
            link.close();
        }
        try {
            if (nbd != null) {
                nbd.close();
            }
        } catch (IOException e) {
            LOG.warnf("closing the NBD server: %s", e);
        }
        registry.close();
    }

    public AgentSettings settings() {
        return settings;
    }

    public VolumeRegistry registry() {
        return registry;
    }

    public StatsJournal journal() {
        return journal;
    }

    public HostOperations operations() {
        return operations;
    }

    /** True once the NBD socket listens (and the volumes are restored, when persistence comes). */
    public boolean ready() {
        return nbd != null;
    }

    /** The volumes changed without the controller asking: tell it (when there is one). */
    public void volumesChanged() {
        ControllerLink l = link;
        if (l != null) {
            l.announce();
        }
    }

    /** The volume as the API shows it. */
    public dev.dmp.proto.v1.Volume describe(Volume volume) {
        return dev.dmp.proto.v1.Volume.newBuilder()
                .setHost(settings.hostId())
                .setName(volume.name())
                .setBackend(volume.spec())
                .setSizeBytes(volume.size())
                .setNbdUri("nbd+unix:///" + volume.name() + "?socket=" + settings.nbdSocket())
                .build();
    }
}
