package dev.dmp.controller.metrics;

import dev.dmp.controller.fleet.Fleet;
import dev.dmp.controller.fleet.FleetLedger;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OpNames;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The controller's metrics, per host and volume, named the node_exporter way. Counters read the
 * ledger's lifetime counts, which no reset lowers (resets show in dmp_volume_resets_total). The
 * meters follow the ledger: every {@link #SYNC_SECONDS} the latest numbers are copied out once and
 * meters are added for new volumes (and for an operation once it has counted something, to keep the
 * series few) and removed for volumes that are gone.
 */
@ApplicationScoped
public class FleetMetrics {
    static final long SYNC_SECONDS = 2;

    private final MeterRegistry registry;
    private final Fleet fleet;
    private final Map<String, List<Meter>> volumeMeters = new HashMap<>();
    private final Map<String, Meter> hostMeters = new HashMap<>();
    private volatile Map<String, Values> latest = Map.of();
    private final Map<String, FleetLedger.HostInfo> hosts = new ConcurrentHashMap<>();
    private ScheduledExecutorService timer;

    public FleetMetrics(MeterRegistry registry, Fleet fleet) {
        this.registry = registry;
        this.fleet = fleet;
    }

    void start(@Observes StartupEvent event) {
        timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("fleet-metrics").daemon().factory());
        timer.scheduleWithFixedDelay(this::sync, 0, SYNC_SECONDS, TimeUnit.SECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    private static String key(String host, String volume) {
        return host + "/" + volume;
    }

    /** Copies the ledger's numbers and brings the set of meters in line with it. */
    synchronized void sync() {
        Map<String, Values> values = new HashMap<>();
        List<String[]> newOps = new ArrayList<>();
        // Read in place under the ledger's lock: copying every volume's counters was most of this.
        fleet.ledger().forEachVolume((host, volume, generation, lifetime, atReset, inFlight) -> {
            String k = key(host, volume);
            values.put(k, Values.of(generation, inFlight, lifetime));
            if (!volumeMeters.containsKey(k)) {
                newOps.add(new String[] {host, volume, null});
            }
            for (int op = 0; op < CounterSet.OPS; op++) {
                if (counted(lifetime, op) && !volumeMeters.containsKey(k + "#" + op)) {
                    newOps.add(new String[] {host, volume, Integer.toString(op)});
                }
            }
        });
        latest = values;
        for (FleetLedger.HostInfo h : fleet.ledger().hosts()) {
            if (hosts.put(h.id(), h) == null) {
                Tags tags = Tags.of("host", h.id());
                hostMeters.put(h.id() + "/up", Gauge.builder("dmp.host.up", hosts, m -> m.get(h.id()).online() ? 1 : 0)
                        .description("1 while the host's agent is connected, else 0.").tags(tags).register(registry));
                hostMeters.put(h.id() + "/seen", Gauge.builder("dmp.host.last.seen.timestamp.seconds", hosts,
                        m -> m.get(h.id()).lastSeen().toEpochMilli() / 1e3)
                        .description("When the controller last heard from the host's agent, in seconds since the epoch.")
                        .tags(tags).register(registry));
            }
        }
        // Meters are registered outside the ledger's lock.
        for (String[] m : newOps) {
            String k = key(m[0], m[1]);
            if (m[2] == null) {
                volumeMeters.put(k, volumeLevelMeters(m[0], m[1]));
            } else {
                volumeMeters.put(k + "#" + m[2], opMeters(m[0], m[1], Integer.parseInt(m[2])));
            }
        }
        volumeMeters.entrySet().removeIf(e -> {
            String volumeKey = e.getKey().contains("#") ? e.getKey().substring(0, e.getKey().indexOf('#')) : e.getKey();
            if (values.containsKey(volumeKey)) {
                return false;
            }
            e.getValue().forEach(registry::remove);
            return true;
        });
    }

    private static boolean counted(CounterSet c, int op) {
        return c.requests(op) + c.errors(op) > 0;
    }

    private List<Meter> volumeLevelMeters(String host, String volume) {
        String k = key(host, volume);
        Tags tags = Tags.of("host", host, "volume", volume);
        List<Meter> m = new ArrayList<>();
        m.add(Gauge.builder("dmp.volume.requests.in.flight", this, s -> value(s, k, Values::inFlight))
                .description("Requests received and not yet answered, as last reported.").tags(tags).register(registry));
        m.add(FunctionCounter.builder("dmp.volume.resets", this, s -> value(s, k, Values::generation))
                .description("Resets of the volume's old-view counters.").tags(tags).register(registry));
        return m;
    }

    private List<Meter> opMeters(String host, String volume, int op) {
        String k = key(host, volume);
        Tags tags = Tags.of("host", host, "volume", volume, "op", OpNames.of(op));
        List<Meter> m = new ArrayList<>();
        m.add(counter("dmp.volume.requests", "Requests completed successfully.", tags, k, v -> v.lifetime(op, 0)));
        m.add(counter("dmp.volume.bytes", "Bytes read, written or covered by successful requests.", tags, k,
                v -> v.lifetime(op, 1)));
        m.add(counter("dmp.volume.errors", "Requests answered with an NBD error.", tags, k, v -> v.lifetime(op, 2)));
        // The ledger counts nanoseconds; Prometheus wants base units.
        m.add(counter("dmp.volume.request.time.seconds", "Total time from receiving requests to replying, in seconds.",
                tags, k, v -> v.lifetime(op, 3) / 1e9));
        return m;
    }

    private FunctionCounter counter(String name, String help, Tags tags, String k, ToDoubleFunction<Values> f) {
        return FunctionCounter.builder(name, this, s -> value(s, k, f)).description(help).tags(tags).register(registry);
    }

    private static double value(FleetMetrics s, String k, ToDoubleFunction<Values> f) {
        Values v = s.latest.get(k);
        return v == null ? Double.NaN : f.applyAsDouble(v);
    }

    /**
     * What the meters read of a volume: generation, in-flight level and, per operation, lifetime
     * requests, bytes, errors and latency. Kept instead of the ledger's copies (two 4 KiB CounterSets
     * per volume, 130 MB at 16,000 volumes) because the histograms are not exported.
     */
    private record Values(long generation, long inFlight, long[] perOp) {
        static Values of(long generation, long inFlight, CounterSet lifetime) {
            long[] a = new long[CounterSet.OPS * 4];
            for (int op = 0; op < CounterSet.OPS; op++) {
                a[op * 4] = lifetime.requests(op);
                a[op * 4 + 1] = lifetime.bytes(op);
                a[op * 4 + 2] = lifetime.errors(op);
                a[op * 4 + 3] = lifetime.latencyNs(op);
            }
            return new Values(generation, inFlight, a);
        }

        /** field: 0 requests, 1 bytes, 2 errors, 3 latency in ns. */
        long lifetime(int op, int field) {
            return perOp[op * 4 + field];
        }
    }
}
