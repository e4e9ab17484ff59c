package dev.dmp.controller.metrics;

import dev.dmp.controller.fleet.FleetLedger;
import dev.dmp.metrics.HistogramFamilies;
import dev.dmp.metrics.VolumeFamilies;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.VolumeAttachment;
import dev.dmp.proto.v1.AttachmentState;
import io.prometheus.client.Collector;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The per-volume series of the controller, read from the ledger at each scrape (names and help in
 * {@link VolumeFamilies}, shared with the agent), and the per-host latency and size histograms.
 * Registered meters cost ~6 KiB per volume in Micrometer (about 90 MB at 16,000 volumes) for numbers
 * the ledger already has; this holds nothing between scrapes. An operation's series appear once it has
 * counted something. Besides the agent's families: {@code dmp_volume_attachment_failed}, 1 for a volume
 * whose kernel device failed.
 */
final class VolumeCollector extends Collector implements Collector.Describable {
    static final String ATTACHMENT_FAILED = "dmp_volume_attachment_failed";
    private static final List<String> LABELS = List.of("host", "volume");
    private static final List<String> HOST_LABELS = List.of("host");

    private final FleetLedger ledger;
    private final HistogramScope histograms;
    /** False on every replica but one when replicas share the ledger: the fleet is exported once. */
    private final BooleanSupplier exporting;

    VolumeCollector(FleetLedger ledger, HistogramScope histograms) {
        this(ledger, histograms, () -> true);
    }

    VolumeCollector(FleetLedger ledger, HistogramScope histograms, BooleanSupplier exporting) {
        this.ledger = ledger;
        this.histograms = histograms;
        this.exporting = exporting;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        if (!exporting.getAsBoolean()) {
            return List.of();
        }
        VolumeFamilies volumes = new VolumeFamilies(LABELS, false, histograms == HistogramScope.VOLUME, false);
        HistogramFamilies hosts =
                histograms == HistogramScope.OFF ? null : new HistogramFamilies("dmp_host", HOST_LABELS);
        List<MetricFamilySamples.Sample> failed = new ArrayList<>();
        // The numbers are copied under the ledger's lock (one host at a time, hosts in order, so a
        // host's sum is done when the next host begins); the samples are made as the exposition is written.
        CounterSet[] hostSum = {null};
        String[] host = {null};
        ledger.forEachVolume((h, volume, generation, lifetime, atReset, inFlight) -> {
            List<String> labels = List.of(h, volume.getName());
            volumes.add(labels, lifetime, generation, inFlight, 0);
            failed.add(new MetricFamilySamples.Sample(
                    ATTACHMENT_FAILED,
                    LABELS,
                    labels,
                    VolumeAttachment.state(volume) == AttachmentState.ATTACHMENT_STATE_FAILED ? 1 : 0));
            if (hosts != null) {
                if (!h.equals(host[0])) {
                    addHost(hosts, host[0], hostSum[0]);
                    host[0] = h;
                    hostSum[0] = CounterSet.empty();
                }
                hostSum[0].add(lifetime);
            }
        });
        List<MetricFamilySamples> out = new ArrayList<>(volumes.families());
        out.add(attachmentFailed(failed));
        if (hosts != null) {
            addHost(hosts, host[0], hostSum[0]);
            out.addAll(hosts.families());
        }
        return out;
    }

    /** Adds a host's summed counts, if there is a host. */
    private static void addHost(HistogramFamilies hosts, String host, CounterSet sum) {
        if (host != null) {
            hosts.add(List.of(host), sum, false);
        }
    }

    @Override
    public List<MetricFamilySamples> describe() {
        List<MetricFamilySamples> out = new ArrayList<>(
                new VolumeFamilies(LABELS, false, histograms == HistogramScope.VOLUME, false).families());
        out.add(attachmentFailed(List.of()));
        if (histograms != HistogramScope.OFF) {
            out.addAll(new HistogramFamilies("dmp_host", HOST_LABELS).families());
        }
        return out;
    }

    private static MetricFamilySamples attachmentFailed(List<MetricFamilySamples.Sample> samples) {
        return new MetricFamilySamples(
                ATTACHMENT_FAILED,
                Type.GAUGE,
                "1 while the volume's kernel device (/dev/nbdN) has failed and was released, else 0.",
                samples);
    }
}
