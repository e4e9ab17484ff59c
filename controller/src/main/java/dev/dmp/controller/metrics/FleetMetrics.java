package dev.dmp.controller.metrics;

import dev.dmp.controller.ControllerConfig;
import dev.dmp.controller.fleet.Fleet;
import dev.dmp.controller.fleet.FleetLedger;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The controller's metrics, per host and volume, named the node_exporter way. Per volume, a
 * {@link VolumeCollector} reads the ledger at each scrape (counters read the lifetime counts, which no
 * reset lowers; resets show in dmp_volume_resets_total). Per host, two gauges follow the ledger's
 * hosts: every {@link #SYNC_SECONDS} meters are added for new hosts. And the ledger's own health: the
 * acknowledgement lag and failed commits.
 */
@ApplicationScoped
public class FleetMetrics {
    static final long SYNC_SECONDS = 2;
    private static final Logger LOG = Logger.getLogger(FleetMetrics.class);

    private final MeterRegistry registry;
    private final Fleet fleet;
    private final Map<String, Meter> hostMeters = new HashMap<>();
    private final Map<String, FleetLedger.HostInfo> hosts = new ConcurrentHashMap<>();
    private ScheduledExecutorService timer;

    private final HistogramScope histograms;

    public FleetMetrics(MeterRegistry registry, Fleet fleet, ControllerConfig config) {
        this.registry = registry;
        this.fleet = fleet;
        this.histograms = config.metricsHistograms();
    }

    void start(@Observes StartupEvent event) {
        Optional<PrometheusMeterRegistry> prometheus = prometheus(registry);
        if (prometheus.isPresent()) {
            prometheus
                    .get()
                    .getPrometheusRegistry()
                    .register(new VolumeCollector(fleet.ledger(), histograms, fleet::exportsLedgerMetrics));
        } else {
            LOG.warn("no Prometheus registry: per-volume metrics are not exported");
        }
        Gauge.builder("dmp.controller.ack.lag.seconds", fleet, Fleet::ackLagSeconds)
                .description(
                        "Seconds the oldest delta not yet acknowledged has waited for the ledger commit that holds it.")
                .register(registry);
        FunctionCounter.builder("dmp.controller.ledger.commit.failures", fleet, Fleet::commitFailures)
                .description("Ledger commits that failed; their deltas' acknowledgements were held back.")
                .register(registry);
        timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("fleet-metrics").daemon().factory());
        timer.scheduleWithFixedDelay(this::sync, 0, SYNC_SECONDS, TimeUnit.SECONDS);
    }

    /** The Prometheus registry: the one given, or one inside it when it is a composite (Quarkus' global registry). */
    static Optional<PrometheusMeterRegistry> prometheus(MeterRegistry r) {
        if (r instanceof PrometheusMeterRegistry p) {
            return Optional.of(p);
        }
        if (r instanceof CompositeMeterRegistry c) {
            return c.getRegistries().stream()
                    .map(FleetMetrics::prometheus)
                    .flatMap(Optional::stream)
                    .findFirst();
        }
        return Optional.empty();
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /**
     * Adds the gauges of hosts seen for the first time; removes them all while another replica exports
     * the ledger's metrics (docs/replication.md, "/q/metrics").
     */
    synchronized void sync() {
        if (!fleet.exportsLedgerMetrics()) {
            hostMeters.values().forEach(registry::remove);
            hostMeters.clear();
            hosts.clear();
            return;
        }
        for (FleetLedger.HostInfo h : fleet.ledger().hosts()) {
            if (hosts.put(h.id(), h) == null) {
                Tags tags = Tags.of("host", h.id());
                hostMeters.put(
                        h.id() + "/up",
                        Gauge.builder("dmp.host.up", hosts, m -> m.get(h.id()).online() ? 1 : 0)
                                .description("1 while the host's agent is connected, else 0.")
                                .tags(tags)
                                .register(registry));
                hostMeters.put(
                        h.id() + "/seen",
                        Gauge.builder(
                                        "dmp.host.last.seen.timestamp.seconds",
                                        hosts,
                                        m -> m.get(h.id()).lastSeen().toEpochMilli() / 1e3)
                                .description(
                                        "When the controller last heard from the host's agent, in seconds since the epoch.")
                                .tags(tags)
                                .register(registry));
            }
        }
    }
}
