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
 * Request latency and request size as Prometheus histograms, per operation, made from the counters'
 * log2 buckets (bucket i holds the integers 2^i to 2^(i+1) - 1, nanoseconds or bytes):
 * {@code PREFIX_request_duration_seconds} and {@code PREFIX_request_size_bytes}, where the prefix is
 * {@code dmp_volume} (one series per volume) or {@code dmp_host} (a host's volumes added up).
 *
 * <p>Each {@code le} is the largest value its bucket holds, 2^(i+1) - 1, so a 4096-byte request is
 * counted under {@code le="8191"} and not under {@code le="4095"}, exactly as Prometheus defines
 * {@code le}. Only the boundaries that matter for NBD are exposed (the buckets below the first are
 * included in it, those above the last in {@code +Inf}): latency from about 1 µs to 34 s, size from
 * 511 bytes to 64 MiB. {@link #SERIES_PER_OP} series per operation. Native histograms are not offered:
 * their buckets (2^(i-1), 2^i] do not line up with these, and the Prometheus client Quarkus renders
 * with (simpleclient) has none.
 */
public final class HistogramFamilies {
    /** Latency buckets exposed: le from 2^10 - 1 ns (about 1 µs) to 2^35 - 1 ns (about 34 s). */
    static final int LATENCY_FIRST = 9, LATENCY_LAST = 34;
    /** Size buckets exposed: le from 511 bytes to 2^26 - 1 (a 32 MiB request, NBD's usual maximum, is under it). */
    static final int SIZE_FIRST = 8, SIZE_LAST = 25;

    private static final String[] LATENCY_LE = bounds(LATENCY_FIRST, LATENCY_LAST, 1e9);
    private static final String[] SIZE_LE = bounds(SIZE_FIRST, SIZE_LAST, 1);
    /** Samples of one histogram: its buckets, +Inf, _count and _sum. */
    private static final int LATENCY_SAMPLES = LATENCY_LE.length + 3, SIZE_SAMPLES = SIZE_LE.length + 3;
    /** Series per operation (both histograms). */
    public static final int SERIES_PER_OP = LATENCY_SAMPLES + SIZE_SAMPLES;

    /** Per row: latency ns, requested bytes, then the cumulative latency and size buckets (+Inf last). */
    private static final int LAT_NS = 0, REQUESTED = 1, LAT_CUM = 2;

    private static final int SIZE_CUM = LAT_CUM + LATENCY_LE.length + 1, PER_ROW = SIZE_CUM + SIZE_LE.length + 1;

    private final String duration;
    private final String size;
    private final List<String> opLabelNames;
    private final List<String> bucketLabelNames;
    private final List<List<String>> rows = new ArrayList<>();
    private long[] numbers = new long[16 * PER_ROW];

    /**
     * @param prefix     {@code dmp_volume} or {@code dmp_host}
     * @param labelNames the labels that name what is counted, sorted ({@code volume}; {@code host, volume}; {@code host})
     */
    public HistogramFamilies(String prefix, List<String> labelNames) {
        this.duration = prefix + "_request_duration_seconds";
        this.size = prefix + "_request_size_bytes";
        this.opLabelNames = SampleRows.withOpName(labelNames);
        List<String> withLe = new ArrayList<>(opLabelNames);
        withLe.add("le");
        this.bucketLabelNames = List.copyOf(withLe);
    }

    /** Adds the histograms of every operation of {@code counts} (read, not kept), or of those that counted something. */
    public void add(List<String> labelValues, CounterSet counts, boolean everyOp) {
        for (int op = 0; op < CounterSet.OPS; op++) {
            if (everyOp || counts.requests(op) + counts.errors(op) != 0) {
                addOp(SampleRows.withOp(opLabelNames, labelValues, OpNames.of(op)), counts, op);
            }
        }
    }

    private void addOp(List<String> values, CounterSet counts, int op) {
        int o = rows.size() * PER_ROW;
        if (o + PER_ROW > numbers.length) {
            numbers = Arrays.copyOf(numbers, Math.max(o + PER_ROW, numbers.length * 2));
        }
        long[] n = numbers;
        n[o + LAT_NS] = counts.latencyNs(op);
        n[o + REQUESTED] = counts.requestedBytes(op);
        long cumulative = 0;
        for (int i = 0; i < CounterSet.LATENCY_BUCKETS; i++) {
            cumulative += counts.latencyBucket(op, i);
            n[o + LAT_CUM + Math.min(Math.max(i - LATENCY_FIRST, 0), LATENCY_LE.length)] = cumulative;
        }
        n[o + LAT_CUM + LATENCY_LE.length] = cumulative;
        cumulative = 0;
        for (int i = 0; i < CounterSet.SIZE_BUCKETS; i++) {
            cumulative += counts.sizeBucket(op, i);
            n[o + SIZE_CUM + Math.min(Math.max(i - SIZE_FIRST, 0), SIZE_LE.length)] = cumulative;
        }
        n[o + SIZE_CUM + SIZE_LE.length] = cumulative;
        rows.add(values);
    }

    /** The two families, present (if empty) so that their HELP and TYPE always show. */
    public List<MetricFamilySamples> families() {
        return List.of(
                new MetricFamilySamples(
                        duration,
                        Collector.Type.HISTOGRAM,
                        "Time from receiving a request to replying, failed requests included, in seconds.",
                        new SampleRows(
                                rows,
                                LATENCY_SAMPLES,
                                (row, k) -> sample(duration, row, k, LATENCY_LE, LAT_CUM, LAT_NS, 1e9))),
                new MetricFamilySamples(
                        size,
                        Collector.Type.HISTOGRAM,
                        "Length of a request, failed requests included, in bytes.",
                        new SampleRows(
                                rows,
                                SIZE_SAMPLES,
                                (row, k) -> sample(size, row, k, SIZE_LE, SIZE_CUM, REQUESTED, 1))));
    }

    /** Sample k of a row's histogram: its buckets in order, +Inf, then _count and _sum (the order OpenMetrics wants). */
    private Sample sample(String name, int row, int k, String[] le, int cumulativeAt, int sumAt, double divisor) {
        int o = row * PER_ROW;
        List<String> values = rows.get(row);
        if (k <= le.length) {
            List<String> withLe = new ArrayList<>(values.size() + 1);
            withLe.addAll(values);
            withLe.add(k < le.length ? le[k] : "+Inf");
            return new Sample(name + "_bucket", bucketLabelNames, withLe, numbers[o + cumulativeAt + k]);
        }
        return k == le.length + 1
                ? new Sample(name + "_count", opLabelNames, values, numbers[o + cumulativeAt + le.length])
                : new Sample(name + "_sum", opLabelNames, values, numbers[o + sumAt] / divisor);
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
