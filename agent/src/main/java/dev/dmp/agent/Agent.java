package dev.dmp.agent;

import dev.dmp.agent.kernel.KernelAttacher;
import dev.dmp.agent.kernel.NbdSysfs;
import dev.dmp.agent.link.ControllerLink;
import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.nbd.NbdServer;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.agent.volume.VolumeExports;
import dev.dmp.agent.volume.VolumeRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/** The agent process: its volumes, the NBD server in front of them, and the link to the controller. */
@ApplicationScoped
public class Agent {
    private static final Logger LOG = Logger.getLogger(Agent.class);

    private final AgentSettings settings;
    private final StatsJournal journal;
    private final VolumeRegistry registry;
    private final KernelAttacher kernel;
    private NbdServer nbd;
    private ControllerLink link;

    public Agent(AgentConfig config) {
        this.settings = AgentSettings.from(config);
        this.journal = new StatsJournal(!settings.standalone());
        this.registry = new VolumeRegistry(journal);
        this.kernel = new KernelAttacher(new NbdSysfs(Path.of("/sys")), settings.stateDir());
    }

    void start(@Observes StartupEvent event) {
        try {
            Files.createDirectories(settings.stateDir());
            kernel.clearStale();
            nbd = NbdServer.start(settings.nbdSocket(), new VolumeExports(registry));
        } catch (IOException e) {
            throw new UncheckedIOException("dmp.agent.nbd-socket: cannot listen on " + settings.nbdSocket() + ": " + e.getMessage(), e);
        }
        if (settings.standalone()) {
            LOG.infof("agent %s is standalone (dmp.agent.controller is empty)", settings.hostId());
        } else {
            link = new ControllerLink(settings.controller(), this);
            link.start();
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (link != null) {
            link.close();
        }
        kernel.close();
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

    /** Creates a volume, attached as /dev/nbdN too when {@code attach}; nothing is left when a step fails. */
    public Volume createVolume(String name, dev.dmp.proto.v1.Backend spec, boolean attach) throws VolumeException {
        Volume volume = registry.create(name, spec);
        if (attach) {
            try {
                kernel.attach(name, new Export(volume.name(), volume.chain()), volume.size());
            } catch (VolumeException | RuntimeException e) {
                registry.delete(name);
                throw e;
            }
        }
        return volume;
    }

    /** Detaches the volume's device (refused while mounted unless {@code force}), then deletes it. */
    public void deleteVolume(String name, boolean force) throws VolumeException {
        kernel.detach(name, force);
        registry.delete(name);
    }

    /** The volume as the API shows it. */
    public dev.dmp.proto.v1.Volume describe(Volume volume) {
        var b = dev.dmp.proto.v1.Volume.newBuilder()
                .setHost(settings.hostId())
                .setName(volume.name())
                .setBackend(volume.spec())
                .setSizeBytes(volume.size())
                .setNbdUri("nbd+unix:///" + volume.name() + "?socket=" + settings.nbdSocket());
        kernel.find(volume.name()).ifPresent(a -> {
            boolean live = !a.state().startsWith("failed") && !a.state().equals("detached");
            b.setDevice(live ? a.path() : "").setBlockSize(live ? a.blockSize() : 0).setAttachment(a.state());
        });
        return b.build();
    }
}
