package dev.dmp.controller.dashboard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The last samples of the fleet's counts (at most {@code capacity}) and the rates between them.
 * Counters only go up except at a reset; a volume whose counts went down between two samples was
 * reset, so what it counted since is its new count (its whole current count). A volume missing from
 * the earlier sample is new and counted from zero.
 *
 * <p>Only the newest sample is kept whole; of the others the ring keeps what each step between two
 * samples added: per volume as floats (charts and rates need no more than their 24-bit precision),
 * per host and for the fleet exactly. At 16,000 volumes and 300 steps that is 80 MB instead of the
 * 400 MB that full samples with their keys took.
 */
public final class StatsRing {
    private static final int F = StatsSample.FIELDS;

    /** What the volumes counted between two successive samples, the second taken at {@code atMillis}. */
    private record Step(long atMillis, long millis, VolumeIndex index, float[] volumes, long[] hosts, long[] fleet) {}

    private final int capacity;
    private final ArrayDeque<Step> steps = new ArrayDeque<>();
    private StatsSample newest;

    public StatsRing(int capacity) {
        if (capacity < 2) {
            throw new IllegalArgumentException("capacity must be at least 2 samples, was " + capacity);
        }
        this.capacity = capacity;
    }

    public synchronized void add(StatsSample sample) {
        if (newest != null) {
            if (steps.size() == capacity - 1) {
                steps.removeFirst();
            }
            steps.addLast(step(newest, sample));
        }
        newest = sample;
    }

    private static Step step(StatsSample before, StatsSample after) {
        VolumeIndex index = after.index();
        boolean sameIndex = before.index() == index;
        float[] volumes = new float[index.size() * F];
        long[] hosts = new long[index.hosts() * F];
        long[] fleet = new long[F];
        long[] inc = new long[F];
        for (int i = 0; i < index.size(); i++) {
            int j = sameIndex ? i : before.index().position(index.key(i));
            boolean reset = false;
            for (int f = 0; f < F; f++) {
                reset |= j >= 0 && after.get(i, f) < before.get(j, f);
            }
            for (int f = 0; f < F; f++) {
                inc[f] = j < 0 || reset ? after.get(i, f) : after.get(i, f) - before.get(j, f);
                volumes[i * F + f] = inc[f];
                hosts[index.hostOf(i) * F + f] += inc[f];
                fleet[f] += inc[f];
            }
        }
        return new Step(after.atMillis(), after.atMillis() - before.atMillis(), index, volumes, hosts, fleet);
    }

    public synchronized Optional<StatsSample> latest() {
        return Optional.ofNullable(newest);
    }

    /** One point per pair of successive samples: the rate of the volumes in scope between them. */
    public synchronized List<RatePoint> series(ChartScope scope) {
        List<RatePoint> out = new ArrayList<>(steps.size());
        for (Step s : steps) {
            out.add(point(s, scope));
        }
        return out;
    }

    /** The newest point of {@link #series}, if the ring has two samples. */
    public synchronized Optional<RatePoint> last(ChartScope scope) {
        return steps.isEmpty() ? Optional.empty() : Optional.of(point(steps.getLast(), scope));
    }

    private static RatePoint point(Step s, ChartScope scope) {
        double[] sum = new double[F];
        if (scope.host().isEmpty()) {
            for (int f = 0; f < F; f++) {
                sum[f] = s.fleet[f];
            }
        } else if (scope.volume().isEmpty()) {
            int h = s.index.hostPosition(scope.host());
            for (int f = 0; h >= 0 && f < F; f++) {
                sum[f] = s.hosts[h * F + f];
            }
        } else {
            int i = s.index.position(new VolumeKey(scope.host(), scope.volume()));
            for (int f = 0; i >= 0 && f < F; f++) {
                sum[f] = s.volumes[i * F + f];
            }
        }
        return new RatePoint(s.atMillis, perSecond(sum, s.millis));
    }

    /**
     * Each volume's rate over the last {@code seconds} samples (fewer when the ring has fewer); empty
     * until the ring has two samples. Rates add up, so a host's or the fleet's is the sum of these.
     * Resets inside the window count right: each step is reset-aware, and this sums the steps.
     */
    public synchronized Map<VolumeKey, Rate> recent(int seconds) {
        Map<VolumeKey, Rate> out = new HashMap<>();
        if (steps.isEmpty()) {
            return out;
        }
        List<Step> window = new ArrayList<>();
        long millis = 0;
        for (Iterator<Step> it = steps.descendingIterator(); it.hasNext() && window.size() < seconds; ) {
            Step s = it.next();
            window.add(s);
            millis += s.millis;
        }
        VolumeIndex index = steps.getLast().index;
        double[] sum = new double[F];
        for (int i = 0; i < index.size(); i++) {
            java.util.Arrays.fill(sum, 0);
            for (Step s : window) {
                int j = s.index == index ? i : s.index.position(index.key(i));
                for (int f = 0; j >= 0 && f < F; f++) {
                    sum[f] += s.volumes[j * F + f];
                }
            }
            out.put(index.key(i), perSecond(sum, millis));
        }
        return out;
    }

    /** Counts per field (Counts' order) as a Rate over {@code millis}. */
    private static Rate perSecond(double[] c, long millis) {
        if (millis <= 0) {
            return Rate.ZERO;
        }
        double secs = millis / 1000.0;
        return new Rate(c[0] / secs, c[2] / secs, c[1] / secs, c[3] / secs);
    }
}
