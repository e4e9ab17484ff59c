package dev.dmp.agent.metrics;

import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.metrics.VolumeFamilies;
import io.prometheus.client.Collector;
import java.util.List;

/**
 * The agent's per-volume metrics, read from its volumes at each scrape (names and help in
 * {@link VolumeFamilies}, shared with the controller). Every operation is exposed from the volume's
 * creation, at 0, so that Prometheus sees the first request as an increase.
 *
 * <p>Each volume's shards are added up once per scrape ({@link dev.dmp.agent.stats.VolumeStats#cumulative}
 * takes each connection's stats lock, which the I/O path also takes), not once per series.
 */
public final class VolumeMetrics extends Collector implements Collector.Describable {
    private static final List<String> LABELS = List.of("volume");

    private final VolumeRegistry registry;
    private final boolean histograms;

    /** @param histograms expose the latency and size histograms ({@code dmp.agent.metrics-histograms}) */
    public VolumeMetrics(VolumeRegistry registry, boolean histograms) {
        this.registry = registry;
        this.histograms = histograms;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        VolumeFamilies families = new VolumeFamilies(LABELS, true, histograms, true);
        for (Volume v : registry.list()) {
            families.add(
                    List.of(v.name()),
                    v.stats().cumulative(),
                    v.stats().generation(),
                    v.stats().inFlight(),
                    v.size());
        }
        return families.families();
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return new VolumeFamilies(LABELS, true, histograms, true).families();
    }
}
