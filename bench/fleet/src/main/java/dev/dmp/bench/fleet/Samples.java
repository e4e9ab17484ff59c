package dev.dmp.bench.fleet;

import java.util.Arrays;

/** Durations in nanoseconds, recorded only while a measuring window is open; percentiles at the end. */
final class Samples {
    private long[] values = new long[1024];
    private int n;
    private volatile boolean recording;

    void recording(boolean on) {
        recording = on;
    }

    void add(long nanos) {
        if (!recording) {
            return;
        }
        synchronized (this) {
            if (n == values.length) {
                values = Arrays.copyOf(values, n * 2);
            }
            values[n++] = nanos;
        }
    }

    synchronized int count() {
        return n;
    }

    /** The q-quantile (nearest rank) in milliseconds; NaN without samples. */
    synchronized double quantileMs(double q) {
        if (n == 0) {
            return Double.NaN;
        }
        long[] s = Arrays.copyOf(values, n);
        Arrays.sort(s);
        int rank = (int) Math.ceil(q * n);
        return s[Math.max(rank, 1) - 1] / 1e6;
    }
}
