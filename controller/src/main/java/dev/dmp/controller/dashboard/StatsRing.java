package dev.dmp.controller.dashboard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The last samples of the fleet's counts (oldest first, at most {@code capacity}) and the rates
 * between them. Counters only go up except at a reset; a volume whose counts went down between two
 * samples was reset, so what it counted since is its new count (its whole current count). A volume
 * missing from the earlier sample is new and counted from zero.
 */
public final class StatsRing {
    private final int capacity;
    private final ArrayDeque<StatsSample> samples = new ArrayDeque<>();

    public StatsRing(int capacity) {
        if (capacity < 2) {
            throw new IllegalArgumentException("capacity must be at least 2 samples, was " + capacity);
        }
        this.capacity = capacity;
    }

    public synchronized void add(StatsSample sample) {
        if (samples.size() == capacity) {
            samples.removeFirst();
        }
        samples.addLast(sample);
    }

    public synchronized Optional<StatsSample> latest() {
        return Optional.ofNullable(samples.peekLast());
    }

    /** One point per pair of successive samples: the rate of the volumes in scope between them. */
    public synchronized List<RatePoint> series(Predicate<VolumeKey> scope) {
        List<RatePoint> out = new ArrayList<>(samples.size());
        StatsSample previous = null;
        for (StatsSample s : samples) {
            if (previous != null) {
                out.add(new RatePoint(s.atMillis(), rate(previous, s, scope)));
            }
            previous = s;
        }
        return out;
    }

    /** The newest point of {@link #series}, if the ring has two samples. */
    public synchronized Optional<RatePoint> last(Predicate<VolumeKey> scope) {
        if (samples.size() < 2) {
            return Optional.empty();
        }
        Iterator<StatsSample> newestFirst = samples.descendingIterator();
        StatsSample after = newestFirst.next();
        StatsSample before = newestFirst.next();
        return Optional.of(new RatePoint(after.atMillis(), rate(before, after, scope)));
    }

    /**
     * Each volume's rate over the last {@code seconds} samples (fewer when the ring has fewer); empty
     * until the ring has two samples. Rates add up, so a host's or the fleet's is the sum of these.
     */
    public synchronized Map<VolumeKey, Rate> recent(int seconds) {
        Map<VolumeKey, Rate> out = new HashMap<>();
        if (samples.size() < 2) {
            return out;
        }
        List<StatsSample> all = List.copyOf(samples);
        int from = Math.max(0, all.size() - 1 - seconds);
        StatsSample last = all.get(all.size() - 1);
        long millis = last.atMillis() - all.get(from).atMillis();
        for (VolumeKey k : last.volumes().keySet()) {
            // Resets inside the window: sum the steps, each reset-aware, rather than last minus first.
            Counts sum = Counts.ZERO;
            for (int i = from + 1; i < all.size(); i++) {
                sum = sum.plus(increase(all.get(i - 1).counts(k), all.get(i).counts(k)));
            }
            out.put(k, perSecond(sum, millis));
        }
        return out;
    }

    static Rate rate(StatsSample before, StatsSample after, Predicate<VolumeKey> scope) {
        return perSecond(increase(before, after, scope), after.atMillis() - before.atMillis());
    }

    private static Rate perSecond(Counts c, long millis) {
        if (millis <= 0) {
            return Rate.ZERO;
        }
        double secs = millis / 1000.0;
        return new Rate(c.readRequests() / secs, c.writeRequests() / secs, c.readBytes() / secs, c.writeBytes() / secs);
    }

    /** What the volumes in scope counted between two samples. */
    static Counts increase(StatsSample before, StatsSample after, Predicate<VolumeKey> scope) {
        Counts sum = Counts.ZERO;
        for (VolumeKey k : after.volumes().keySet()) {
            if (scope.test(k)) {
                sum = sum.plus(increase(before.counts(k), after.counts(k)));
            }
        }
        return sum;
    }

    static Counts increase(Counts before, Counts after) {
        boolean reset = after.readRequests() < before.readRequests() || after.writeRequests() < before.writeRequests()
                || after.readBytes() < before.readBytes() || after.writeBytes() < before.writeBytes();
        if (reset) {
            return after;
        }
        return new Counts(after.readRequests() - before.readRequests(), after.readBytes() - before.readBytes(),
                after.writeRequests() - before.writeRequests(), after.writeBytes() - before.writeBytes());
    }
}
