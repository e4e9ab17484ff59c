package dev.dmp.metrics;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OpNames;
import io.prometheus.client.Collector;
import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.Collector.MetricFamilySamples.Sample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The per-volume metric families, named once for both apps (the agent labels them by volume, the
 * controller by host and volume), the node_exporter way: base units in the name, {@code _total} on
 * counters. Counters read lifetime counts, which no reset lowers; a reset shows as one more in
 * {@code dmp_volume_resets_total}. With histograms on, {@link HistogramFamilies} adds latency and size.
 *
 * <p>Use: one instance per scrape; {@link #add} each volume (it copies a few numbers, so a caller may
 * hold a lock around it), then {@link #families}. The samples are made as the writer reads them.
 */
public final class VolumeFamilies {
    public static final String REQUESTS = "dmp_volume_requests";
    public static final String BYTES = "dmp_volume_bytes";
    public static final String ERRORS = "dmp_volume_errors";
    public static final String REQUEST_TIME = "dmp_volume_request_time_seconds";
    public static final String IN_FLIGHT = "dmp_volume_requests_in_flight";
    public static final String RESETS = "dmp_volume_resets";
    public static final String SIZE_BYTES = "dmp_volume_size_bytes";
    public static final String READ_HOLE_BYTES = "dmp_volume_read_hole_bytes";

    /** Per operation row: requests, bytes, errors, latency ns. */
    private static final int REQ = 0, BYT = 1, ERR = 2, LAT_NS = 3, PER_OP_ROW = 4;
    /** Per volume row: in flight, generation, size, bytes of READs sent as holes. */
    private static final int PER_VOLUME_ROW = 4;

    private final List<String> labelNames;
    private final List<String> opLabelNames;
    private final boolean everyOp;
    private final HistogramFamilies histograms;
    private final boolean sizes;
    private final List<List<String>> volumeRows = new ArrayList<>();
    private final List<List<String>> opRows = new ArrayList<>();
    private long[] volumeNumbers = new long[16 * PER_VOLUME_ROW];
    private long[] opNumbers = new long[16 * PER_OP_ROW];

    /**
     * @param labelNames the labels that name a volume, sorted ({@code volume}, or {@code host, volume})
     * @param everyOp    expose every operation from the start, at 0 (the agent, whose volumes are few,
     *                   so that the first request shows in rate()), or only those that counted something
     *                   (the controller, with thousands of volumes)
     * @param histograms expose each volume's latency and size histograms
     * @param sizes      expose each volume's size (the agent; the controller's ledger does not keep it)
     */
    public VolumeFamilies(List<String> labelNames, boolean everyOp, boolean histograms, boolean sizes) {
        this.labelNames = List.copyOf(labelNames);
        this.opLabelNames = SampleRows.withOpName(labelNames);
        this.everyOp = everyOp;
        this.histograms = histograms ? new HistogramFamilies("dmp_volume", labelNames) : null;
        this.sizes = sizes;
    }

    /**
     * Adds one volume's series.
     *
     * @param labelValues in the order of the label names
     * @param lifetime    its counts since it was created (never reset); read here, not kept
     * @param sizeBytes   its size (ignored unless sizes are exposed)
     */
    public void add(List<String> labelValues, CounterSet lifetime, long generation, long inFlight, long sizeBytes) {
        int v = volumeRows.size() * PER_VOLUME_ROW;
        volumeNumbers = room(volumeNumbers, v + PER_VOLUME_ROW);
        volumeNumbers[v] = inFlight;
        volumeNumbers[v + 1] = generation;
        volumeNumbers[v + 2] = sizeBytes;
        volumeNumbers[v + 3] = lifetime.holeBytes(CounterSet.READ);
        volumeRows.add(labelValues);
        for (int op = 0; op < CounterSet.OPS; op++) {
            if (!everyOp && lifetime.requests(op) + lifetime.errors(op) == 0) {
                continue;
            }
            int o = opRows.size() * PER_OP_ROW;
            long[] n = opNumbers = room(opNumbers, o + PER_OP_ROW);
            n[o + REQ] = lifetime.requests(op);
            n[o + BYT] = lifetime.bytes(op);
            n[o + ERR] = lifetime.errors(op);
            n[o + LAT_NS] = lifetime.latencyNs(op);
            opRows.add(SampleRows.withOp(opLabelNames, labelValues, OpNames.of(op)));
        }
        if (histograms != null) {
            histograms.add(labelValues, lifetime, everyOp);
        }
    }

    /** The families of the volumes added, each present (if empty) so that its HELP and TYPE always show. */
    public List<MetricFamilySamples> families() {
        List<MetricFamilySamples> f = new ArrayList<>();
        f.add(volumeGauge(
                IN_FLIGHT,
                Collector.Type.GAUGE,
                IN_FLIGHT,
                "Requests received and not yet answered, as the agent last counted them.",
                0));
        f.add(volumeGauge(
                RESETS, Collector.Type.COUNTER, RESETS + "_total", "Resets of the volume's old-view counters.", 1));
        f.add(volumeGauge(
                READ_HOLE_BYTES,
                Collector.Type.COUNTER,
                READ_HOLE_BYTES + "_total",
                "Of the bytes read, those sent as holes (structured replies: zeroes never sent as data).",
                3));
        f.add(opCounter(REQUESTS, "Requests completed successfully.", REQ, 1));
        f.add(opCounter(BYTES, "Bytes read, written or covered by successful requests.", BYT, 1));
        f.add(opCounter(ERRORS, "Requests answered with an NBD error.", ERR, 1));
        // The counters keep nanoseconds; Prometheus wants base units.
        f.add(opCounter(REQUEST_TIME, "Total time from receiving requests to replying, in seconds.", LAT_NS, 1e9));
        if (histograms != null) {
            f.addAll(histograms.families());
        }
        if (sizes) {
            f.add(volumeGauge(SIZE_BYTES, Collector.Type.GAUGE, SIZE_BYTES, "Size of the volume in bytes.", 2));
        }
        return f;
    }

    private MetricFamilySamples volumeGauge(String family, Collector.Type type, String sample, String help, int field) {
        return new MetricFamilySamples(
                family,
                type,
                help,
                new SampleRows(
                        volumeRows,
                        1,
                        (row, k) -> new Sample(
                                sample, labelNames, volumeRows.get(row), volumeNumbers[row * PER_VOLUME_ROW + field])));
    }

    /** A counter per operation row, its value divided by {@code divisor} (nanoseconds to seconds). */
    private MetricFamilySamples opCounter(String name, String help, int field, double divisor) {
        return new MetricFamilySamples(
                name,
                Collector.Type.COUNTER,
                help,
                new SampleRows(
                        opRows,
                        1,
                        (row, k) -> new Sample(
                                name + "_total",
                                opLabelNames,
                                opRows.get(row),
                                opNumbers[row * PER_OP_ROW + field] / divisor)));
    }

    private static long[] room(long[] a, int needed) {
        return needed <= a.length ? a : Arrays.copyOf(a, Math.max(needed, a.length * 2));
    }
}
