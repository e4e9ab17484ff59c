package dev.dmp.agent;

import dev.dmp.agent.config.AgentConfig;
import dev.dmp.agent.config.AgentSettings;
import dev.dmp.agent.host.HostOperations;
import dev.dmp.agent.host.VolumeDescriber;
import dev.dmp.agent.kernel.KernelAttacher;
import dev.dmp.agent.kernel.NbdSysfs;
import dev.dmp.agent.lifecycle.Drain;
import dev.dmp.agent.link.CommandRunner;
import dev.dmp.agent.link.ControllerChannels;
import dev.dmp.agent.link.ControllerLink;
import dev.dmp.agent.link.LinkCredentials;
import dev.dmp.agent.link.StatsReporter;
import dev.dmp.agent.metrics.VolumeMetrics;
import dev.dmp.agent.nbd.NbdListeners;
import dev.dmp.agent.state.CheckpointFile;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.volume.AllowedPaths;
import dev.dmp.agent.volume.BackendFactory;
import dev.dmp.agent.volume.VolumeExports;
import dev.dmp.agent.volume.VolumeFactory;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.auth.TokenGuard;
import dev.dmp.proto.v1.AgentCheckpoint;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.tls.TlsConfigurationRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * The agent's composition root, and nothing else: it builds each part from the configuration, hands
 * each the parts it uses, offers them to the app's doors (gRPC, HTTP, health) as CDI beans, and starts
 * and stops them in order. No part is given the agent itself.
 *
 * <pre>
 *   NBD socket / TCP / /dev/nbdN
 *     -&gt; nbd: transmission loop -&gt; observer (stats: the volume's counters) -&gt; backend
 *   volume: a volume assembled from its spec (VolumeFactory), the registry of volumes
 *   host: what can be done to the volumes (HostOperations), how they are shown (VolumeDescriber)
 *   api, http, link: the doors (dmp.v1.Agent, /stat/volumes, the controller's commands)
 *   link: the counts streamed to the controller (StatsReporter -&gt; ControllerLink)
 *   kernel: volumes as /dev/nbdN; state: the checkpoint; lifecycle: the preStop drain
 * </pre>
 */
@ApplicationScoped
public class Agent {
    private static final Logger LOG = Logger.getLogger(Agent.class);
    private final AgentSettings settings;
    private final StatsJournal journal;
    private final VolumeRegistry registry;
    private final KernelAttacher kernel;
    private final NbdListeners listeners = new NbdListeners();
    private final VolumeDescriber describer;
    private final StatsReporter reporter;
    private final Drain drain;
    private final HostOperations operations;
    /** The link to the controller; null for a standalone agent. */
    private final ControllerLink link;

    private final AgentCheckpoint saved;
    private final CheckpointFile checkpoint;

    public Agent(
            AgentConfig config, PrometheusMeterRegistry prometheus, TokenGuard guard, TlsConfigurationRegistry tls) {
        settings = AgentSettings.from(config);
        journal = new StatsJournal(!settings.standalone());
        registry = new VolumeRegistry(
                journal,
                new VolumeFactory(settings.hostId(), new BackendFactory(new AllowedPaths(settings.allowedPaths()))));
        prometheus.getPrometheusRegistry().register(new VolumeMetrics(registry, config.metricsHistograms()));
        Gauge.builder("dmp.agent.nbd.connections", listeners, NbdListeners::connections)
                .description("NBD connections open on the agent's listeners (dmp.agent.nbd-max-connections)")
                .register(prometheus);
        FunctionCounter.builder("dmp.agent.nbd.connections.refused", listeners, NbdListeners::refusals)
                .description("NBD connections refused at the agent's or a volume's connection limit")
                .register(prometheus);
        kernel = new KernelAttacher(
                new NbdSysfs(Path.of("/sys")),
                settings.stateDir(),
                settings.hostId(),
                settings.kernelTimeouts(),
                settings.kernelIoctlOnly());
        describer = new VolumeDescriber(settings.hostId(), settings.nbdSocket(), kernel);
        checkpoint = new CheckpointFile(settings.stateDir());
        try {
            Files.createDirectories(settings.stateDir());
            saved = checkpoint.load().orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "dmp.agent.state-dir: cannot use " + settings.stateDir() + ": " + e.getMessage(), e);
        }
        reporter = new StatsReporter(
                registry, journal, Restore.deltas(saved), checkpoint, kernel::wanted, kernel::requestTimeout);
        drain = new Drain(kernel, listeners, reporter, !settings.standalone());
        operations = new HostOperations(settings.hostId(), registry, kernel, journal, drain::draining);
        link = settings.standalone()
                ? null
                : new ControllerLink(
                        ControllerChannels.startingAnywhere(
                                settings.controllers().targets(), LinkCredentials.of(config, guard.token(), tls)),
                        settings.hostId(),
                        registry,
                        describer,
                        new CommandRunner(operations, describer),
                        reporter);
    }

    void start(@Observes StartupEvent event) {
        kernel.clearStale();
        Restore.volumes(saved, registry, kernel, checkpoint.path().toString());
        kernel.releaseOrphans();
        listeners.start(
                settings.nbdSocket(),
                settings.nbdPort() == 0 ? null : new InetSocketAddress(settings.nbdBind(), settings.nbdPort()),
                settings.benchmarkUncountedSocket(),
                new VolumeExports(registry),
                settings.nbd());
        // The reporter first: a volume's checkpoint is saved before the controller is told of it.
        registry.addListener(reporter);
        if (link == null) {
            LOG.infof("agent %s is standalone (dmp.agent.controller is empty)", settings.hostId());
        } else {
            registry.addListener(link);
            // A device that failed on its own: the controller learns it now, not at the next Hello.
            kernel.onFailure(a -> {
                var volume = registry.get(a.volume());
                if (volume != null) {
                    link.volumeChanged(describer.describe(volume));
                }
            });
            link.start();
        }
        reporter.start();
    }

    void stop(@Observes ShutdownEvent event) {
        // I/O stops first, so the last checkpoint holds every request that was answered: the kernel's
        // devices are detached (flushed), then the NBD listeners close.
        kernel.close();
        listeners.close();
        reporter.close();
        if (link != null) {
            link.close();
        }
        registry.close();
    }

    @Produces
    AgentSettings settings() {
        return settings;
    }

    @Produces
    VolumeRegistry registry() {
        return registry;
    }

    @Produces
    StatsJournal journal() {
        return journal;
    }

    @Produces
    HostOperations operations() {
        return operations;
    }

    @Produces
    VolumeDescriber describer() {
        return describer;
    }

    @Produces
    NbdListeners listeners() {
        return listeners;
    }

    @Produces
    Drain drain() {
        return drain;
    }
}
