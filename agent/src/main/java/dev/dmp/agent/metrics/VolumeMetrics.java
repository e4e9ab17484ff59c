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
 */
public final class VolumeMetrics implements VolumeRegistry.Listener {
    private final MeterRegistry registry;
    private final Map<String, List<Meter>> meters = new ConcurrentHashMap<>();

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
                    v -> v.stats().cumulative().requests(o)));
            m.add(counter("dmp.volume.bytes", "Bytes read, written or covered by successful requests.", volume, opTags,
                    v -> v.stats().cumulative().bytes(o)));
            m.add(counter("dmp.volume.errors", "Requests answered with an NBD error.", volume, opTags,
                    v -> v.stats().cumulative().errors(o)));
            // Nanoseconds are counted; Prometheus wants base units.
            m.add(counter("dmp.volume.request.time.seconds", "Total time from receiving requests to replying, in seconds.",
                    volume, opTags, v -> v.stats().cumulative().latencyNs(o) / 1e9));
        }
        m.add(Gauge.builder("dmp.volume.requests.in.flight", volume, v -> v.stats().inFlight())
                .description("Requests received and not yet answered.").tags(tags).register(registry));
        m.add(counter("dmp.volume.resets", "Resets of the volume's old-view counters.", volume, tags,
                v -> v.stats().generation()));
        m.add(Gauge.builder("dmp.volume.size.bytes", volume, Volume::size)
                .description("Size of the volume in bytes.").tags(tags).register(registry));
        meters.put(volume.name(), m);
    }

    private FunctionCounter counter(String name, String help, Volume volume, Tags tags, ToDoubleFunction<Volume> f) {
        return FunctionCounter.builder(name, volume, f).description(help).tags(tags).register(registry);
    }

    @Override
    public void deleted(Volume volume) {
        List<Meter> m = meters.remove(volume.name());
        if (m != null) {
            m.forEach(registry::remove);
        }
    }
}
