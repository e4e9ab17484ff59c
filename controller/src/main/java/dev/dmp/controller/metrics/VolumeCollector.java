package dev.dmp.controller.metrics;

import dev.dmp.controller.fleet.FleetLedger;
import dev.dmp.metrics.VolumeFamilies;
import io.prometheus.client.Collector;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-volume series of the controller, read from the ledger at each scrape (names and help in
 * {@link VolumeFamilies}, shared with the agent). Registered meters cost ~6 KiB per volume in
 * Micrometer (about 90 MB at 16,000 volumes) for numbers the ledger already has; this holds nothing
 * between scrapes. An operation's series appear once it has counted something. Besides the agent's
 * families: {@code dmp_volume_attachment_failed}, 1 for a volume whose kernel device failed.
 */
final class VolumeCollector extends Collector implements Collector.Describable {
    static final String ATTACHMENT_FAILED = "dmp_volume_attachment_failed";
    private static final List<String> LABELS = List.of("host", "volume");

    private final FleetLedger ledger;
    private final boolean histograms;

    /** @param histograms expose the latency and size histograms ({@code dmp.controller.metrics-histograms}) */
    VolumeCollector(FleetLedger ledger, boolean histograms) {
        this.ledger = ledger;
        this.histograms = histograms;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        VolumeFamilies families = new VolumeFamilies(LABELS, false, histograms, false);
        List<MetricFamilySamples.Sample> failed = new ArrayList<>();
        // The numbers are copied under the ledger's lock (one host at a time); the samples are made as
        // the exposition is written.
        ledger.forEachVolume((host, volume, generation, lifetime, atReset, inFlight) -> {
            List<String> labels = List.of(host, volume.getName());
            families.add(labels, lifetime, generation, inFlight, 0);
            failed.add(new MetricFamilySamples.Sample(ATTACHMENT_FAILED, LABELS, labels,
                    volume.getAttachment().startsWith("failed") ? 1 : 0));
        });
        List<MetricFamilySamples> out = new ArrayList<>(families.families());
        out.add(attachmentFailed(failed));
        return out;
    }

    @Override
    public List<MetricFamilySamples> describe() {
        List<MetricFamilySamples> out = new ArrayList<>(new VolumeFamilies(LABELS, false, histograms, false).families());
        out.add(attachmentFailed(List.of()));
        return out;
    }

    private static MetricFamilySamples attachmentFailed(List<MetricFamilySamples.Sample> samples) {
        return new MetricFamilySamples(ATTACHMENT_FAILED, Type.GAUGE,
                "1 while the volume's kernel device (/dev/nbdN) has failed and was released, else 0.", samples);
    }
}
