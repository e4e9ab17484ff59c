package dev.dmp.controller.fleet;

import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.VolumeDelta;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The fleet's counts, per host and volume, built from the agents' numbered deltas. A delta is applied
 * at most once per agent run (by sequence number); a delta of a newer reset generation replaces what
 * the volume had before it. See docs/stats-protocol.md.
 */
public final class FleetLedger {

    private static final class VolumeEntry {
        long generation;
        Counts counts = Counts.ZERO;
    }

    private static final class HostEntry {
        String runId = "";
        long appliedSeq;
        final TreeMap<String, VolumeEntry> volumes = new TreeMap<>();
    }

    private final TreeMap<String, HostEntry> hosts = new TreeMap<>();

    /**
     * Starts (or resumes) an agent run. A new run id means a restarted agent: its numbering starts
     * again, as do its reset generations, and only the volumes it announces keep their counts.
     */
    public synchronized void hello(String host, String runId, Iterable<String> volumes) {
        HostEntry h = hosts.computeIfAbsent(host, k -> new HostEntry());
        boolean restarted = !h.runId.equals(runId);
        if (restarted) {
            h.runId = runId;
            h.appliedSeq = 0;
        }
        Map<String, VolumeEntry> kept = new HashMap<>();
        for (String v : volumes) {
            VolumeEntry entry = h.volumes.getOrDefault(v, new VolumeEntry());
            if (restarted) {
                // A new process counts its generations from 0 again: left at the old run's generation,
                // its deltas would all be dropped as older than the last reset.
                entry.generation = 0;
            }
            kept.put(v, entry);
        }
        h.volumes.clear();
        h.volumes.putAll(kept);
    }

    /** Applies a delta unless this run already applied its sequence number; returns whether it did. */
    public synchronized boolean apply(String host, String runId, StatsDelta delta) {
        HostEntry h = hosts.get(host);
        if (h == null || !h.runId.equals(runId) || delta.getSeq() <= h.appliedSeq) {
            return false;
        }
        for (VolumeDelta d : delta.getVolumesList()) {
            VolumeEntry v = h.volumes.computeIfAbsent(d.getVolume(), k -> new VolumeEntry());
            if (d.getGeneration() < v.generation) {
                continue; // counted before a reset that this ledger already applied
            }
            if (d.getGeneration() > v.generation) {
                v.generation = d.getGeneration();
                v.counts = Counts.ZERO;
            }
            v.counts = v.counts.plus(new Counts(d.getReadRequests(), d.getReadBytes(), d.getWriteRequests(), d.getWriteBytes()));
        }
        h.appliedSeq = delta.getSeq();
        return true;
    }

    public synchronized void addVolume(String host, String volume) {
        HostEntry h = hosts.get(host);
        if (h != null) {
            h.volumes.putIfAbsent(volume, new VolumeEntry());
        }
    }

    public synchronized void removeVolume(String host, String volume) {
        HostEntry h = hosts.get(host);
        if (h != null) {
            h.volumes.remove(volume);
        }
    }

    /** Counts of every volume, by host then volume name (sorted copies). */
    public synchronized TreeMap<String, TreeMap<String, Counts>> snapshot() {
        TreeMap<String, TreeMap<String, Counts>> out = new TreeMap<>();
        hosts.forEach((host, h) -> {
            TreeMap<String, Counts> vs = new TreeMap<>();
            h.volumes.forEach((name, v) -> vs.put(name, v.counts));
            out.put(host, vs);
        });
        return out;
    }
}
