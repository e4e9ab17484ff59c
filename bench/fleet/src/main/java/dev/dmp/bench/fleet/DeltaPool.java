package dev.dmp.bench.fleet;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.ErrorCount;
import dev.dmp.proto.v1.Op;
import dev.dmp.proto.v1.OpCounters;
import dev.dmp.proto.v1.VolumeDelta;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A fixed set of realistic one-second volume deltas (reads and writes with latency and size
 * histograms, the odd error), built once and shared by every simulated agent, so the generator
 * spends its CPU on the wire and not on making numbers. What was sent is kept as "how many times
 * each pool entry was sent", and the expected totals are computed from that at the end.
 */
final class DeltaPool {
    static final int SIZE = 64;

    private final List<List<OpCounters>> ops = new ArrayList<>();
    /** Prebuilt VolumeDelta per volume index and pool entry, generation 0. */
    private final VolumeDelta[][] byVolume;

    DeltaPool(List<String> volumeNames, long seed) {
        Random r = new Random(seed);
        for (int i = 0; i < SIZE; i++) {
            List<OpCounters> e = new ArrayList<>();
            e.add(op(r, Op.OP_READ, 50 + r.nextInt(2000), 12, 20)); // 4 KiB..1 MiB, ~64 us..1 ms
            e.add(op(r, Op.OP_WRITE, 20 + r.nextInt(800), 12, 22));
            ops.add(List.copyOf(e));
        }
        byVolume = new VolumeDelta[volumeNames.size()][SIZE];
        for (int v = 0; v < volumeNames.size(); v++) {
            for (int i = 0; i < SIZE; i++) {
                byVolume[v][i] = VolumeDelta.newBuilder()
                        .setVolume(volumeNames.get(v))
                        .addAllOps(ops.get(i))
                        .setInFlight(r.nextInt(8))
                        .build();
            }
        }
    }

    /** n requests spread over a few size buckets from 2^sizeLow and latency buckets around 2^latencyLow ns. */
    private static OpCounters op(Random r, Op op, int n, int sizeLow, int latencyLow) {
        long[] size = new long[sizeLow + 9];
        long[] latency = new long[latencyLow + 6];
        long bytes = 0, latencyNs = 0, requested = 0;
        int errors = r.nextInt(20) == 0 ? 1 + r.nextInt(3) : 0;
        for (int i = 0; i < n + errors; i++) {
            int sb = sizeLow + Math.min(8, (int) Math.abs(r.nextGaussian() * 3));
            int lb = latencyLow + Math.min(5, (int) Math.abs(r.nextGaussian() * 2));
            long length = 1L << sb;
            long ns = (1L << lb) + r.nextInt(1 << lb);
            size[sb]++;
            latency[lb]++;
            latencyNs += ns;
            requested += length;
            if (i < n) {
                bytes += length;
            }
        }
        OpCounters.Builder b = OpCounters.newBuilder()
                .setOp(op)
                .setRequests(n)
                .setBytes(bytes)
                .setLatencyNs(latencyNs)
                .setRequestedBytes(requested);
        if (errors > 0) {
            b.setErrors(errors)
                    .addErrorsByCode(ErrorCount.newBuilder().setError(5).setCount(errors));
        }
        for (long x : size) {
            b.addSizeHistogram(x);
        }
        for (long x : latency) {
            b.addLatencyHistogram(x);
        }
        return b.build();
    }

    /** The WatchStats probe's count: one FLUSH of 0 bytes in 1024 ns. */
    static final OpCounters PROBE_FLUSH = OpCounters.newBuilder()
            .setOp(Op.OP_FLUSH)
            .setRequests(1)
            .setLatencyNs(1024)
            .addAllLatencyHistogram(java.util.Collections.nCopies(10, 0L))
            .addLatencyHistogram(1)
            .addSizeHistogram(1)
            .build();

    int volumes() {
        return byVolume.length;
    }

    VolumeDelta delta(int volume, int entry) {
        return byVolume[volume][entry];
    }

    /** The counts of {@code uses[i]} sends of entry i, added up. */
    CounterSet total(long[] uses, long probes) {
        CounterSet c = times(CounterSet.fromProto(List.of(PROBE_FLUSH)), probes);
        for (int i = 0; i < SIZE; i++) {
            if (uses[i] != 0) {
                c.add(times(CounterSet.fromProto(ops.get(i)), uses[i]));
            }
        }
        return c;
    }

    /** c added to itself k times, by doubling (CounterSet has no multiply). */
    static CounterSet times(CounterSet c, long k) {
        CounterSet out = CounterSet.empty();
        CounterSet p = c.copy();
        while (k > 0) {
            if ((k & 1) != 0) {
                out.add(p);
            }
            p.add(p.copy());
            k >>= 1;
        }
        return out;
    }
}
