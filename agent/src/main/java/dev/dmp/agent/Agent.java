package dev.dmp.agent;

import dev.dmp.agent.api.HostOperations;
import dev.dmp.agent.kernel.KernelAttacher;
import dev.dmp.agent.kernel.NbdSysfs;
import dev.dmp.agent.link.ControllerLink;
import dev.dmp.agent.metrics.VolumeMetrics;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import dev.dmp.agent.link.DeltaStream;
import dev.dmp.agent.link.StatsReporter;
import dev.dmp.agent.state.CheckpointFile;
import dev.dmp.agent.link.LinkCredentials;
import dev.dmp.auth.TokenGuard;
import io.grpc.ChannelCredentials;
import io.quarkus.tls.TlsConfigurationRegistry;
import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.nbd.NbdServer;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.AgentCheckpoint;
import dev.dmp.proto.v1.VolumeState;
import dev.dmp.agent.volume.AllowedPaths;
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
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.List;
import org.jboss.logging.Logger;

/** The agent process: its volumes, the NBD server in front of them, and the link to the controller. */
@ApplicationScoped
public class Agent {
    private static final Logger LOG = Logger.getLogger(Agent.class);

    private final AgentSettings settings;
    private final StatsJournal journal;
    private final VolumeRegistry registry;
    private final HostOperations operations;
    private final KernelAttacher kernel;
    private final ChannelCredentials linkCredentials;
    private volatile NbdServer nbd;
    private volatile NbdServer nbdTcp;
    private volatile NbdServer nbdUncounted;
    private volatile StatsReporter reporter;
    private volatile ControllerLink link;
    /** Set by {@link #drain}: the pod is going away; not ready, no new volumes. */
    private volatile boolean draining;

    public Agent(AgentConfig config, PrometheusMeterRegistry prometheus, TokenGuard guard, TlsConfigurationRegistry tls) {
        this.settings = AgentSettings.from(config);
        this.linkCredentials = settings.standalone() ? null : LinkCredentials.of(config, guard.token(), tls);
        this.journal = new StatsJournal(!settings.standalone());
        this.registry = new VolumeRegistry(journal, new AllowedPaths(settings.allowedPaths()));
        prometheus.getPrometheusRegistry().register(new VolumeMetrics(registry, config.metricsHistograms()));
        this.operations = new HostOperations(this);
        this.kernel = new KernelAttacher(new NbdSysfs(java.nio.file.Path.of("/sys")), settings.stateDir(),
                settings.hostId(), settings.kernelTimeouts(), settings.kernelIoctlOnly());
    }

    void start(@Observes StartupEvent event) {
        CheckpointFile checkpoint = new CheckpointFile(settings.stateDir());
        DeltaStream deltas;
        try {
            Files.createDirectories(settings.stateDir());
            kernel.clearStale();
            deltas = restore(checkpoint);
            kernel.releaseOrphans();
        } catch (IOException e) {
            throw new UncheckedIOException("dmp.agent.state-dir: cannot use " + settings.stateDir() + ": " + e.getMessage(), e);
        }
        try {
            nbd = NbdServer.start(settings.nbdSocket(), new VolumeExports(registry));
        } catch (IOException e) {
            throw new UncheckedIOException("dmp.agent.nbd-socket: cannot listen on " + settings.nbdSocket() + ": " + e.getMessage(), e);
        }
        if (settings.nbdPort() != 0) {
            InetSocketAddress address = new InetSocketAddress(settings.nbdBind(), settings.nbdPort());
            try {
                nbdTcp = NbdServer.startTcp(address, new VolumeExports(registry));
            } catch (IOException e) {
                throw new UncheckedIOException("dmp.agent.nbd-port / dmp.agent.nbd-bind: cannot listen on " + address + ": " + e.getMessage(), e);
            }
        }
        if (settings.benchmarkUncountedSocket() != null) {
            try {
                nbdUncounted = NbdServer.start(settings.benchmarkUncountedSocket(), new VolumeExports(registry), false);
            } catch (IOException e) {
                throw new UncheckedIOException("dmp.agent.benchmark-uncounted-socket: cannot listen on "
                        + settings.benchmarkUncountedSocket() + ": " + e.getMessage(), e);
            }
            LOG.warnf("dmp.agent.benchmark-uncounted-socket: %s serves every volume WITHOUT counting (a benchmark switch)",
                    settings.benchmarkUncountedSocket());
        }
        reporter = new StatsReporter(registry, journal, deltas, checkpoint, kernel::wanted, kernel::requestTimeout);
        if (settings.standalone()) {
            LOG.infof("agent %s is standalone (dmp.agent.controller is empty)", settings.hostId());
        } else {
            link = new ControllerLink(settings.controller(), linkCredentials, this, reporter);
            kernel.onFailure(this::attachmentFailed);
            link.start();
        }
        reporter.start();
    }

    /** Serves again the volumes of the last checkpoint, with their counts; returns the delta numbering to go on with. */
    private DeltaStream restore(CheckpointFile checkpoint) throws IOException {
        AgentCheckpoint saved = checkpoint.load().orElse(null);
        if (saved == null) {
            return new DeltaStream();
        }
        for (VolumeState v : saved.getVolumesList()) {
            String name = v.getSpec().getName();
            try {
                Volume volume = registry.restore(name, v.getSpec().getBackend(), v.getSpec().getReadOnly(),
                        new StatsJournal.VolumeCheckpoint(name, v.getGeneration(), CounterSet.fromProto(v.getCumulativeList()),
                                CounterSet.fromProto(v.getBaselineList())));
                if (v.getSpec().getKernel()) {
                    kernel.reattach(name, new Export(name, volume.backend(), volume.stats(), volume.readOnly()), volume.size(),
                            v.getSpec().getKernelTimeoutSeconds());
                }
            } catch (VolumeException e) {
                LOG.errorf("volume %s from the checkpoint cannot be served again: %s", name, e.getMessage());
            }
        }
        LOG.infof("restored %d volumes from %s (run %s, last delta %d, %d unacknowledged)",
                registry.list().size(), checkpoint.path(), saved.getRunId(), saved.getLastSeq(), saved.getUnackedCount());
        return saved.getRunId().isEmpty() ? new DeltaStream()
                : new DeltaStream(saved.getRunId(), saved.getLastSeq(), saved.getUnackedList());
    }

    void stop(@Observes ShutdownEvent event) {
        // I/O stops first, so the last checkpoint holds every request that was answered: the kernel's
        // devices are detached (flushed), then the NBD listeners close.
        kernel.close();
        closeNbd();
        if (reporter != null) {
            reporter.close();
        }
        if (link != null) {
            link.close();
        }
        registry.close();
    }

    private synchronized void closeNbd() {
        try {
            if (nbd != null) {
                nbd.close();
            }
            if (nbdTcp != null) {
                nbdTcp.close();
            }
            if (nbdUncounted != null) {
                nbdUncounted.close();
            }
        } catch (IOException e) {
            LOG.warnf("closing the NBD server: %s", e);
        }
    }

    /**
     * What the pod's preStop hook asks before Kubernetes sends SIGTERM ({@code POST /lifecycle/drain}):
     * detach every device while the agent is whole, end the NBD connections, and hand the last counts
     * to the controller, waiting up to {@code ackWaitMillis} for its acknowledgement. The agent stays up
     * (not ready) until SIGTERM, which then has nothing left to do. Returns what was done, in words.
     */
    public synchronized String drain(long ackWaitMillis) throws InterruptedException {
        if (draining) {
            return "already drained";
        }
        draining = true;
        LOG.info("draining for shutdown: detaching devices, closing NBD connections, sending the last counts");
        List<String> devices = kernel.detachAll();
        closeNbd();
        StringBuilder out = new StringBuilder();
        out.append("detached ").append(devices.size()).append(devices.size() == 1 ? " device" : " devices")
                .append(devices.isEmpty() ? "" : " " + String.join(" ", devices))
                .append("; NBD connections closed; ");
        reporter.tick();
        if (link == null) {
            out.append("standalone: counts saved in the checkpoint");
        } else if (reporter.deltas().awaitAcked(ackWaitMillis)) {
            out.append("the controller acknowledged every count (delta ").append(reporter.deltas().lastSeq()).append(')');
        } else {
            out.append("the controller did not acknowledge within ").append(ackWaitMillis / 1000)
                    .append(" s; the unsent counts are in the checkpoint and go out when the agent starts again");
        }
        LOG.infof("drained: %s", out);
        return out.toString();
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

    public KernelAttacher kernel() {
        return kernel;
    }

    public HostOperations operations() {
        return operations;
    }

    /** True once the NBD socket listens (the checkpoint's volumes are restored before it opens), until a drain. */
    public boolean ready() {
        return nbd != null && !draining;
    }

    public boolean draining() {
        return draining;
    }

    /** The volumes changed without the controller asking: save the checkpoint and tell the controller (when there is one). */
    public void volumesChanged() {
        ControllerLink l = link;
        if (l != null) {
            l.announce();
        } else if (reporter != null) {
            // Standalone: the checkpoint still follows at once, so a killed agent restarts with this volume.
            reporter.volumesChanged();
            reporter.tick();
        }
    }

    /** A device failed on its own (its connection kept dying): the controller learns it now, not at the next Hello. */
    private void attachmentFailed(dev.dmp.agent.kernel.Attachment a) {
        Volume v = registry.get(a.volume());
        ControllerLink l = link;
        if (v != null && l != null) {
            l.volumeChanged(describe(v));
        }
    }

    /** The volume as the API shows it. */
    public dev.dmp.proto.v1.Volume describe(Volume volume) {
        var b = dev.dmp.proto.v1.Volume.newBuilder()
                .setHost(settings.hostId())
                .setName(volume.name())
                .setBackend(volume.spec())
                .setSizeBytes(volume.size())
                .setNbdUri("nbd+unix:///" + volume.name() + "?socket=" + settings.nbdSocket())
                .setReadOnly(volume.readOnly());
        kernel.describe(volume.name(), b);
        return b.build();
    }
}
