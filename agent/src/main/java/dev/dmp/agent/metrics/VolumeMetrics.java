package dev.dmp.agent.metrics;

import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OpNames;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The agent's per-volume metrics, named the node_exporter way (base units, {@code _total} on
 * counters). They read the volume's cumulative counters, which never go down: a reset shows as one
 * more in {@code dmp_volume_resets_total}, not as a drop, so Prometheus never mistakes it for a
 * restart or lost data.
 *
 * <p>A scrape reads some 26 meters per volume; adding the volume's shards up takes each connection's
 * stats lock, which the I/O path also takes, so the sum is made once per volume and scrape
 * ({@link #counts}) rather than once per meter.
 */
public final class VolumeMetrics implements VolumeRegistry.Listener {
    /** How long one sum of a volume's counters serves the meters that read it: well under any scrape interval. */
    static final long SNAPSHOT_NANOS = 200_000_000L;

    private final MeterRegistry registry;
    private final Map<String, List<Meter>> meters = new ConcurrentHashMap<>();
    private final Map<Volume, Snapshot> snapshots = new ConcurrentHashMap<>();

    private record Snapshot(long takenNanos, CounterSet counts) {
    }

    public VolumeMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void created(Volume volume) {
        List<Meter> m = new ArrayList<>();
        Tags tags = Tags.of("volume", volume.name());
        for (int op = 0; op < CounterSet.OPS; op++) {
            int o = op;
            Tags opTags = tags.and("op", OpNames.of(op));
            m.add(counter("dmp.volume.requests", "Requests completed successfully.", volume, opTags,
                    v -> counts(v).requests(o)));
            m.add(counter("dmp.volume.bytes", "Bytes read, written or covered by successful requests.", volume, opTags,
                    v -> counts(v).bytes(o)));
            m.add(counter("dmp.volume.errors", "Requests answered with an NBD error.", volume, opTags,
                    v -> counts(v).errors(o)));
            // Nanoseconds are counted; Prometheus wants base units.
            m.add(counter("dmp.volume.request.time.seconds", "Total time from receiving requests to replying, in seconds.",
                    volume, opTags, v -> counts(v).latencyNs(o) / 1e9));
        }
        m.add(Gauge.builder("dmp.volume.requests.in.flight", volume, v -> v.stats().inFlight())
                .description("Requests received and not yet answered.").tags(tags).register(registry));
        m.add(counter("dmp.volume.resets", "Resets of the volume's old-view counters.", volume, tags,
                v -> v.stats().generation()));
        m.add(Gauge.builder("dmp.volume.size.bytes", volume, Volume::size)
                .description("Size of the volume in bytes.").tags(tags).register(registry));
        meters.put(volume.name(), m);
    }

    /** The volume's cumulative counters, summed at most once per {@link #SNAPSHOT_NANOS}. */
    private CounterSet counts(Volume volume) {
        long now = System.nanoTime();
        Snapshot s = snapshots.get(volume);
        if (s == null || now - s.takenNanos() > SNAPSHOT_NANOS) {
            s = new Snapshot(now, volume.stats().cumulative());
            snapshots.put(volume, s);
        }
        return s.counts();
    }

    private FunctionCounter counter(String name, String help, Volume volume, Tags tags, ToDoubleFunction<Volume> f) {
        return FunctionCounter.builder(name, volume, f).description(help).tags(tags).register(registry);
    }

    @Override
    public void deleted(Volume volume) {
        snapshots.remove(volume);
        List<Meter> m = meters.remove(volume.name());
        if (m != null) {
            m.forEach(registry::remove);
        }
    }
}
