package dev.dmp.agent.stats;

import dev.dmp.proto.CounterSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the volumes' running counters into deltas for the controller, and applies resets so that
 * every request lands in exactly one generation: a reset first closes the old generation with a last
 * delta, then opens the new one with an empty delta, in the order the controller will read them.
 * {@link #reported} is what the deltas handed out so far add up to; it is also what a checkpoint
 * saves, so a restarted agent goes on from exactly the counts the controller has (or will get).
 */
public final class StatsJournal {

    /** Counts of one volume in one generation, added since the previous delta; in-flight is a level. */
    public record Delta(String volume, long generation, CounterSet counts, long inFlight) {}

    /** A volume's state as a checkpoint records it. */
    public record VolumeCheckpoint(String volume, long generation, CounterSet reported, CounterSet baseline) {}

    private final Map<String, VolumeStats> volumes = new LinkedHashMap<>();
    private final Map<String, CounterSet> reported = new LinkedHashMap<>();
    private final Map<String, Long> reportedInFlight = new LinkedHashMap<>();
    private final List<Delta> pending = new ArrayList<>();
    private final boolean reporting;

    /** @param reporting false for a standalone agent: nobody reads the deltas, so none are queued */
    public StatsJournal(boolean reporting) {
        this.reporting = reporting;
    }

    private void queue(Delta delta) {
        if (reporting) {
            pending.add(delta);
        }
    }

    public synchronized void add(String name, VolumeStats stats) {
        volumes.put(name, stats);
        reported.put(name, stats.cumulative());
        reportedInFlight.put(name, 0L);
        queue(new Delta(name, stats.generation(), CounterSet.empty(), 0));
    }

    /**
     * Adds a volume of a previous run with the counts its checkpoint recorded as reported; they
     * become the volume's starting counts, so nothing is counted twice.
     */
    public synchronized void restore(String name, VolumeStats stats, VolumeCheckpoint saved) {
        stats.restore(saved.reported(), saved.baseline(), saved.generation());
        volumes.put(name, stats);
        reported.put(name, saved.reported().copy());
        reportedInFlight.put(name, 0L);
    }

    public synchronized void remove(String name) {
        volumes.remove(name);
        reported.remove(name);
        reportedInFlight.remove(name);
        pending.removeIf(d -> d.volume().equals(name));
    }

    /** Resets the named volumes; returns how many there were. Unknown names are skipped. */
    public synchronized int reset(List<String> names) {
        int n = 0;
        for (String name : names) {
            VolumeStats stats = volumes.get(name);
            if (stats == null) {
                continue;
            }
            CounterSet now = stats.cumulative();
            queue(new Delta(name, stats.generation(), now.minus(reported.get(name)), stats.inFlight()));
            long generation = stats.reset(now);
            reported.put(name, now);
            queue(new Delta(name, generation, CounterSet.empty(), stats.inFlight()));
            n++;
        }
        return n;
    }

    /** Everything counted since the previous call, reset boundaries included; empty when nothing changed. */
    public synchronized List<Delta> drain() {
        List<Delta> out = new ArrayList<>(pending);
        pending.clear();
        for (Map.Entry<String, VolumeStats> e : volumes.entrySet()) {
            String name = e.getKey();
            VolumeStats stats = e.getValue();
            CounterSet now = stats.cumulative();
            CounterSet delta = now.minus(reported.get(name));
            long inFlight = stats.inFlight();
            if (!delta.isZero() || inFlight != reportedInFlight.get(name)) {
                if (reporting) {
                    out.add(new Delta(name, stats.generation(), delta, inFlight));
                }
                reported.put(name, now);
                reportedInFlight.put(name, inFlight);
            }
        }
        return out;
    }

    /** What a checkpoint saves: per volume, the counts reported so far, the baseline and generation. */
    public synchronized List<VolumeCheckpoint> checkpoint() {
        List<VolumeCheckpoint> out = new ArrayList<>();
        volumes.forEach((name, stats) -> out.add(new VolumeCheckpoint(
                name, stats.generation(), reported.get(name).copy(), stats.baseline())));
        return out;
    }
}
