package dev.dmp.proto;

import dev.dmp.proto.v1.Op;
import dev.dmp.proto.v1.OpCounters;
import java.util.Arrays;
import java.util.List;

/**
 * Every counter of a volume (or of a sum of volumes) in one flat {@code long[]}: per operation,
 * successful requests and their bytes, errors in total and per NBD error, total latency, the lengths of
 * all requests, the bytes of READs sent as holes, and log2 histograms of latency and request length. One layout for the agent's shards and snapshots, the
 * deltas on the wire and the controller's ledger, so adding and subtracting is a loop over an array.
 * The layout is this class's alone: {@link OpCountersCodec} encodes and decodes a set through the
 * per-operation methods at the end.
 *
 * <p>Instances are mutable accumulators; callers that share one guard it themselves, and hand out
 * {@link #copy()}s.
 */
public final class CounterSet {
    /** Operations, in {@link Op} order: index = Op number - 1. */
    public static final int READ = 0, WRITE = 1, FLUSH = 2, TRIM = 3, WRITE_ZEROES = 4, CACHE = 5, BLOCK_STATUS = 6;

    public static final int OPS = 7;

    /** NBD errors counted on their own; any other number is counted in the last slot (reported as 0). */
    private static final int[] ERROR_CODES = {1, 5, 12, 22, 28, 75, 95, 108};

    static final int ERROR_SLOTS = ERROR_CODES.length + 1;
    public static final int LATENCY_BUCKETS = 41;
    public static final int SIZE_BUCKETS = 33;

    private static final int REQUESTS = 0, BYTES = 1, ERRORS = 2, LATENCY_NS = 3, REQUESTED_BYTES = 4, HOLE_BYTES = 5;
    private static final int ERROR_BASE = 6;
    private static final int LATENCY_BASE = ERROR_BASE + ERROR_SLOTS;
    private static final int SIZE_BASE = LATENCY_BASE + LATENCY_BUCKETS;
    private static final int PER_OP = SIZE_BASE + SIZE_BUCKETS;

    private final long[] v;

    private CounterSet(long[] v) {
        this.v = v;
    }

    public static CounterSet empty() {
        return new CounterSet(new long[OPS * PER_OP]);
    }

    /**
     * Counts one answered request. {@code bytes} is added only when it succeeded ({@code nbdError} 0);
     * latency and length go to the histograms (and the length to the requested bytes) either way.
     */
    public void record(int op, long length, int nbdError, long latencyNs) {
        int base = op * PER_OP;
        v[base + REQUESTED_BYTES] += length;
        if (nbdError == 0) {
            v[base + REQUESTS]++;
            v[base + BYTES] += length;
        } else {
            v[base + ERRORS]++;
            v[base + ERROR_BASE + errorSlot(nbdError)]++;
        }
        v[base + LATENCY_NS] += latencyNs;
        v[base + LATENCY_BASE + log2Bucket(latencyNs, LATENCY_BUCKETS)]++;
        v[base + SIZE_BASE + log2Bucket(length, SIZE_BUCKETS)]++;
    }

    private static int errorSlot(int nbdError) {
        for (int i = 0; i < ERROR_CODES.length; i++) {
            if (ERROR_CODES[i] == nbdError) {
                return i;
            }
        }
        return ERROR_CODES.length;
    }

    /**
     * Counts one answered READ: as {@link #record}, and {@code holeBytes} of its length were sent as holes
     * (structured replies' OFFSET_HOLE chunks: read as zeroes, never sent as data).
     */
    public void recordRead(long length, long holeBytes, int nbdError, long latencyNs) {
        record(READ, length, nbdError, latencyNs);
        v[READ * PER_OP + HOLE_BYTES] += holeBytes;
    }

    /** floor(log2(x)) clamped to [0, buckets - 1]; 0 for x <= 1. */
    static int log2Bucket(long x, int buckets) {
        int b = x <= 1 ? 0 : 63 - Long.numberOfLeadingZeros(x);
        return Math.min(b, buckets - 1);
    }

    public void add(CounterSet o) {
        for (int i = 0; i < v.length; i++) {
            v[i] += o.v[i];
        }
    }

    /** this -= o, element by element: takes back counts that were {@link #add}ed. */
    public void subtract(CounterSet o) {
        for (int i = 0; i < v.length; i++) {
            v[i] -= o.v[i];
        }
    }

    public CounterSet copy() {
        return new CounterSet(v.clone());
    }

    /** this - o, element by element. */
    public CounterSet minus(CounterSet o) {
        long[] d = v.clone();
        for (int i = 0; i < d.length; i++) {
            d[i] -= o.v[i];
        }
        return new CounterSet(d);
    }

    public boolean isZero() {
        for (long x : v) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    public long requests(int op) {
        return v[op * PER_OP + REQUESTS];
    }

    public long bytes(int op) {
        return v[op * PER_OP + BYTES];
    }

    public long errors(int op) {
        return v[op * PER_OP + ERRORS];
    }

    public long latencyNs(int op) {
        return v[op * PER_OP + LATENCY_NS];
    }

    /** The lengths of all the operation's requests, failed ones included: the sum of its size histogram. */
    public long requestedBytes(int op) {
        return v[op * PER_OP + REQUESTED_BYTES];
    }

    /** Of the operation's bytes, those sent as holes (READ only; 0 for the others). */
    public long holeBytes(int op) {
        return v[op * PER_OP + HOLE_BYTES];
    }

    public long latencyBucket(int op, int i) {
        return v[op * PER_OP + LATENCY_BASE + i];
    }

    public long sizeBucket(int op, int i) {
        return v[op * PER_OP + SIZE_BASE + i];
    }

    /**
     * The latency below which a fraction {@code q} of the operation's requests completed, as the upper
     * bound of the histogram bucket it falls in (so within a factor of 2 above the truth); 0 when
     * nothing was counted.
     */
    public long latencyQuantileNs(int op, double q) {
        long total = 0;
        for (int i = 0; i < LATENCY_BUCKETS; i++) {
            total += latencyBucket(op, i);
        }
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < LATENCY_BUCKETS; i++) {
            seen += latencyBucket(op, i);
            if (seen >= Math.max(rank, 1)) {
                return 1L << (i + 1);
            }
        }
        return 1L << LATENCY_BUCKETS;
    }

    /** The non-empty operations as protobuf, trailing zero buckets left out; see {@link OpCountersCodec}. */
    public List<OpCounters> toProto() {
        return OpCountersCodec.toProto(this);
    }

    /** The sum of {@code ops}; see {@link OpCountersCodec#addProto}. */
    public static CounterSet fromProto(List<OpCounters> ops) {
        CounterSet c = empty();
        OpCountersCodec.addProto(c, ops);
        return c;
    }

    // What OpCountersCodec reads and adds, by operation, so that the layout of v stays in this class.

    /** Whether the operation counted nothing (it is left out of the encodings). */
    boolean isZero(int op) {
        int base = op * PER_OP;
        for (int i = base; i < base + PER_OP; i++) {
            if (v[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** The NBD error counted in error slot {@code slot} (0 for the last slot: any other error). */
    static int errorCode(int slot) {
        return slot < ERROR_CODES.length ? ERROR_CODES[slot] : 0;
    }

    /** Requests of the operation answered with the error of slot {@code slot} ({@link #errorCode}). */
    long errorCount(int op, int slot) {
        return v[op * PER_OP + ERROR_BASE + slot];
    }

    /** The number of latency buckets up to the last non-empty one: the histogram with trailing zeros left out. */
    int latencyBucketsUsed(int op) {
        return bucketsUsed(op * PER_OP + LATENCY_BASE, LATENCY_BUCKETS);
    }

    /** The number of size buckets up to the last non-empty one: the histogram with trailing zeros left out. */
    int sizeBucketsUsed(int op) {
        return bucketsUsed(op * PER_OP + SIZE_BASE, SIZE_BUCKETS);
    }

    private int bucketsUsed(int from, int buckets) {
        int n = buckets;
        while (n > 0 && v[from + n - 1] == 0) {
            n--;
        }
        return n;
    }

    /** Adds counts received from elsewhere to the operation's totals. */
    void addTotals(
            int op, long requests, long bytes, long errors, long latencyNs, long requestedBytes, long holeBytes) {
        int base = op * PER_OP;
        v[base + HOLE_BYTES] = plus(v[base + HOLE_BYTES], holeBytes);
        v[base + REQUESTS] = plus(v[base + REQUESTS], requests);
        v[base + BYTES] = plus(v[base + BYTES], bytes);
        v[base + ERRORS] = plus(v[base + ERRORS], errors);
        v[base + LATENCY_NS] = plus(v[base + LATENCY_NS], latencyNs);
        v[base + REQUESTED_BYTES] = plus(v[base + REQUESTED_BYTES], requestedBytes);
    }

    /**
     * a + b, held at the nearest end of the range instead of wrapping: counts received from elsewhere
     * are each within range (OpCountersCodec refuses more), but a peer may send many, and a total that
     * wrapped would go down.
     */
    private static long plus(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? (sum < 0 ? Long.MAX_VALUE : Long.MIN_VALUE) : sum;
    }

    /** Adds {@code count} requests answered with {@code nbdError} (one this build does not know: to the last slot). */
    void addErrors(int op, int nbdError, long count) {
        int i = op * PER_OP + ERROR_BASE + errorSlot(nbdError);
        v[i] = plus(v[i], count);
    }

    /** Adds to latency bucket {@code i}; a bucket past this layout's last (a newer peer's) adds to the last. */
    void addLatencyBucket(int op, int i, long count) {
        int at = op * PER_OP + LATENCY_BASE + Math.min(i, LATENCY_BUCKETS - 1);
        v[at] = plus(v[at], count);
    }

    /** Adds to size bucket {@code i}; a bucket past this layout's last (a newer peer's) adds to the last. */
    void addSizeBucket(int op, int i, long count) {
        int at = op * PER_OP + SIZE_BASE + Math.min(i, SIZE_BUCKETS - 1);
        v[at] = plus(v[at], count);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CounterSet c && Arrays.equals(v, c.v);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(v);
    }
}
