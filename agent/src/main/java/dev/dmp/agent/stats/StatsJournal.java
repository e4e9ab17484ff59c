package dev.dmp.agent.stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the volumes' running counters into deltas for the controller, and applies resets so that
 * every request lands in exactly one generation: a reset first closes the old generation with a last
 * delta, then opens the new one with an empty delta, in the same order the controller will read them.
 */
public final class StatsJournal {

    /** Counts of one volume in one generation, added since the previous delta. */
    public record Delta(String volume, long generation, StatsSnapshot counts) {
    }

    private final Map<String, VolumeStats> volumes = new LinkedHashMap<>();
    private final Map<String, StatsSnapshot> reported = new LinkedHashMap<>();
    private final List<Delta> pending = new ArrayList<>();
    private final boolean reporting;

    /** @param reporting false for a standalone agent: nobody drains, so no reset boundaries are queued */
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
        reported.put(name, StatsSnapshot.ZERO);
        queue(new Delta(name, stats.generation(), StatsSnapshot.ZERO));
    }

    public synchronized void remove(String name) {
        volumes.remove(name);
        reported.remove(name);
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
            StatsSnapshot now = stats.cumulative();
            queue(new Delta(name, stats.generation(), now.minus(reported.get(name))));
            long generation = stats.reset(now);
            reported.put(name, now);
            queue(new Delta(name, generation, StatsSnapshot.ZERO));
            n++;
        }
        return n;
    }

    /** Everything counted since the previous call, reset boundaries included; empty when nothing changed. */
    public synchronized List<Delta> drain() {
        List<Delta> out = new ArrayList<>(pending);
        pending.clear();
        for (Map.Entry<String, VolumeStats> e : volumes.entrySet()) {
            StatsSnapshot now = e.getValue().cumulative();
            StatsSnapshot delta = now.minus(reported.get(e.getKey()));
            if (!delta.isZero()) {
                out.add(new Delta(e.getKey(), e.getValue().generation(), delta));
                reported.put(e.getKey(), now);
            }
        }
        return out;
    }
}
