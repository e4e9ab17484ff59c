package dev.dmp.metrics;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OpNames;
import io.prometheus.client.Collector;
import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.Collector.MetricFamilySamples.Sample;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The per-volume metric families, named once for both apps (the agent labels them by volume, the
 * controller by host and volume), the node_exporter way: base units in the name, {@code _total} on
 * counters. Counters read lifetime counts, which no reset lowers; a reset shows as one more in
 * {@code dmp_volume_resets_total}.
 *
 * <p>Latency and request size are also Prometheus histograms, made from the counters' log2 buckets
 * (bucket i holds the integers 2^i to 2^(i+1) - 1, nanoseconds or bytes). Each {@code le} is the
 * largest value its bucket holds, 2^(i+1) - 1, so a 4096-byte request is counted under
 * {@code le="8191"} and not under {@code le="4095"}, exactly as Prometheus defines {@code le}. Only the
 * boundaries that matter for NBD are exposed (the buckets below the first are included in it, those
 * above the last in {@code +Inf}): latency from about 1 µs to 34 s, size from 511 bytes to 64 MiB.
 * Native histograms are not offered: their buckets (2^(i-1), 2^i] do not line up with these, and the
 * Prometheus client Quarkus renders with (simpleclient) has none.
 *
 * <p>Use: one instance per scrape; {@link #add} each volume (it copies a few numbers, so a caller may
 * hold a lock around it), then {@link #families}. The samples are made as the exposition writer reads
 * them, not kept: at 16,000 volumes a scrape would otherwise hold a million sample objects at once.
 */
public final class VolumeFamilies {
    public static final String REQUESTS = "dmp_volume_requests";
    public static final String BYTES = "dmp_volume_bytes";
    public static final String ERRORS = "dmp_volume_errors";
    public static final String REQUEST_TIME = "dmp_volume_request_time_seconds";
    public static final String DURATION = "dmp_volume_request_duration_seconds";
    public static final String SIZE = "dmp_volume_request_size_bytes";
    public static final String IN_FLIGHT = "dmp_volume_requests_in_flight";
    public static final String RESETS = "dmp_volume_resets";
    public static final String SIZE_BYTES = "dmp_volume_size_bytes";

    /** Latency buckets exposed: le from 2^10 - 1 ns (about 1 µs) to 2^35 - 1 ns (about 34 s). */
    static final int LATENCY_FIRST = 9, LATENCY_LAST = 34;
    /** Size buckets exposed: le from 511 bytes to 2^26 - 1 (a 32 MiB request, NBD's usual maximum, is under it). */
    static final int SIZE_FIRST = 8, SIZE_LAST = 25;
    private static final String[] LATENCY_LE = bounds(LATENCY_FIRST, LATENCY_LAST, 1e9);
    private static final String[] SIZE_LE = bounds(SIZE_FIRST, SIZE_LAST, 1);
    /** Samples of one histogram: its buckets, +Inf, _count and _sum. */
    private static final int LATENCY_SAMPLES = LATENCY_LE.length + 3, SIZE_SAMPLES = SIZE_LE.length + 3;
    /** Series per volume and operation with histograms on. */
    public static final int HISTOGRAM_SERIES_PER_OP = LATENCY_SAMPLES + SIZE_SAMPLES;

    /** Per operation row: requests, bytes, errors, latency ns, requested bytes, then the cumulative buckets. */
    private static final int REQ = 0, BYT = 1, ERR = 2, LAT_NS = 3, REQUESTED = 4, LAT_CUM = 5;
    private static final int SIZE_CUM = LAT_CUM + LATENCY_LE.length + 1, PER_OP_ROW = SIZE_CUM + SIZE_LE.length + 1;
    /** Per volume row: in flight, generation, size. */
    private static final int PER_VOLUME_ROW = 3;

    private final List<String> labelNames;
    private final List<String> opLabelNames;
    private final List<String> bucketLabelNames;
    private final boolean everyOp;
    private final boolean histograms;
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
     * @param histograms expose the latency and size histograms ({@code dmp.*.metrics-histograms})
     * @param sizes      expose each volume's size (the agent; the controller's ledger does not keep it)
     */
    public VolumeFamilies(List<String> labelNames, boolean everyOp, boolean histograms, boolean sizes) {
        this.labelNames = List.copyOf(labelNames);
        List<String> withOp = new ArrayList<>(labelNames);
        withOp.add("op");
        withOp.sort(null);
        this.opLabelNames = List.copyOf(withOp);
        withOp.add("le");
        this.bucketLabelNames = List.copyOf(withOp);
        this.everyOp = everyOp;
        this.histograms = histograms;
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
            n[o + REQUESTED] = lifetime.requestedBytes(op);
            long cumulative = 0;
            for (int i = 0; i < CounterSet.LATENCY_BUCKETS; i++) {
                cumulative += lifetime.latencyBucket(op, i);
                n[o + LAT_CUM + Math.min(Math.max(i - LATENCY_FIRST, 0), LATENCY_LE.length)] = cumulative;
            }
            n[o + LAT_CUM + LATENCY_LE.length] = cumulative;
            cumulative = 0;
            for (int i = 0; i < CounterSet.SIZE_BUCKETS; i++) {
                cumulative += lifetime.sizeBucket(op, i);
                n[o + SIZE_CUM + Math.min(Math.max(i - SIZE_FIRST, 0), SIZE_LE.length)] = cumulative;
            }
            n[o + SIZE_CUM + SIZE_LE.length] = cumulative;
            opRows.add(withOp(labelValues, OpNames.of(op)));
        }
    }

    /** The families of the volumes added, each present (if empty) so that its HELP and TYPE always show. */
    public List<MetricFamilySamples> families() {
        List<MetricFamilySamples> f = new ArrayList<>();
        f.add(family(IN_FLIGHT, Collector.Type.GAUGE, "Requests received and not yet answered, as the agent last counted them.",
                new Rows(volumeRows, 1, (row, k) -> sample(IN_FLIGHT, labelNames, volumeRows.get(row), volumeNumbers[row * PER_VOLUME_ROW]))));
        f.add(family(RESETS, Collector.Type.COUNTER, "Resets of the volume's old-view counters.",
                new Rows(volumeRows, 1, (row, k) -> sample(RESETS + "_total", labelNames, volumeRows.get(row),
                        volumeNumbers[row * PER_VOLUME_ROW + 1]))));
        f.add(opCounter(REQUESTS, "Requests completed successfully.", REQ, 1));
        f.add(opCounter(BYTES, "Bytes read, written or covered by successful requests.", BYT, 1));
        f.add(opCounter(ERRORS, "Requests answered with an NBD error.", ERR, 1));
        // The counters keep nanoseconds; Prometheus wants base units.
        f.add(opCounter(REQUEST_TIME, "Total time from receiving requests to replying, in seconds.", LAT_NS, 1e9));
        if (histograms) {
            f.add(family(DURATION, Collector.Type.HISTOGRAM,
                    "Time from receiving a request to replying, failed requests included, in seconds.",
                    new Rows(opRows, LATENCY_SAMPLES, (row, k) -> histogramSample(DURATION, row, k, LATENCY_LE, LAT_CUM, LAT_NS, 1e9))));
            f.add(family(SIZE, Collector.Type.HISTOGRAM, "Length of a request, failed requests included, in bytes.",
                    new Rows(opRows, SIZE_SAMPLES, (row, k) -> histogramSample(SIZE, row, k, SIZE_LE, SIZE_CUM, REQUESTED, 1))));
        }
        if (sizes) {
            f.add(family(SIZE_BYTES, Collector.Type.GAUGE, "Size of the volume in bytes.",
                    new Rows(volumeRows, 1, (row, k) -> sample(SIZE_BYTES, labelNames, volumeRows.get(row),
                            volumeNumbers[row * PER_VOLUME_ROW + 2]))));
        }
        return f;
    }

    /** A counter per operation row, its value divided by {@code divisor} (nanoseconds to seconds). */
    private MetricFamilySamples opCounter(String name, String help, int field, double divisor) {
        return family(name, Collector.Type.COUNTER, help, new Rows(opRows, 1,
                (row, k) -> sample(name + "_total", opLabelNames, opRows.get(row), opNumbers[row * PER_OP_ROW + field] / divisor)));
    }

    /** Sample k of a row's histogram: its buckets in order, +Inf, then _count and _sum. */
    private Sample histogramSample(String name, int row, int k, String[] le, int cumulativeAt, int sumAt, double divisor) {
        int o = row * PER_OP_ROW;
        List<String> values = opRows.get(row);
        if (k <= le.length) {
            return sample(name + "_bucket", bucketLabelNames, withLe(values, k < le.length ? le[k] : "+Inf"),
                    opNumbers[o + cumulativeAt + k]);
        }
        return k == le.length + 1
                ? sample(name + "_count", opLabelNames, values, opNumbers[o + cumulativeAt + le.length])
                : sample(name + "_sum", opLabelNames, values, opNumbers[o + sumAt] / divisor);
    }

    private static MetricFamilySamples family(String name, Collector.Type type, String help, List<Sample> samples) {
        return new MetricFamilySamples(name, type, help, samples);
    }

    private static Sample sample(String name, List<String> names, List<String> values, double value) {
        return new Sample(name, names, values, value);
    }

    private interface SampleMaker {
        Sample make(int row, int k);
    }

    /** A family's samples, {@code perRow} for each row, made when read. */
    private static final class Rows extends AbstractList<Sample> {
        private final List<?> rows;
        private final int perRow;
        private final SampleMaker maker;

        Rows(List<?> rows, int perRow, SampleMaker maker) {
            this.rows = rows;
            this.perRow = perRow;
            this.maker = maker;
        }

        @Override
        public Sample get(int index) {
            return maker.make(index / perRow, index % perRow);
        }

        @Override
        public int size() {
            return rows.size() * perRow;
        }
    }

    private List<String> withOp(List<String> labelValues, String op) {
        List<String> v = new ArrayList<>(opLabelNames.size());
        int at = 0;
        for (String name : opLabelNames) {
            v.add(name.equals("op") ? op : labelValues.get(at++));
        }
        return v;
    }

    private static List<String> withLe(List<String> values, String le) {
        List<String> v = new ArrayList<>(values.size() + 1);
        v.addAll(values);
        v.add(le);
        return v;
    }

    private static long[] room(long[] a, int needed) {
        return needed <= a.length ? a : Arrays.copyOf(a, Math.max(needed, a.length * 2));
    }

    /** The le of buckets first..last: 2^(i+1) - 1, divided by {@code divisor} (to seconds). */
    private static String[] bounds(int first, int last, double divisor) {
        String[] le = new String[last - first + 1];
        for (int i = first; i <= last; i++) {
            le[i - first] = Collector.doubleToGoString(((1L << (i + 1)) - 1) / divisor);
        }
        return le;
    }
}
