package dev.dmp.controller.dashboard;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The old view's counts of every volume at one moment ({@code atMillis}, epoch milliseconds): four
 * numbers per volume ({@link Counts}' fields in order) at the volume's position in {@code index}.
 */
public final class StatsSample {
    static final int FIELDS = 4;

    private final long atMillis;
    private final VolumeIndex index;
    private final long[] counts;

    public StatsSample(long atMillis, VolumeIndex index, long[] counts) {
        if (counts.length != index.size() * FIELDS) {
            throw new IllegalArgumentException(counts.length + " counts for " + index.size() + " volumes");
        }
        this.atMillis = atMillis;
        this.index = index;
        this.counts = counts;
    }

    /** A sample from a map of volumes (tests, small fleets). */
    public StatsSample(long atMillis, Map<VolumeKey, Counts> volumes) {
        this(atMillis, indexOf(volumes), countsOf(volumes));
    }

    private static List<VolumeKey> sorted(Map<VolumeKey, Counts> volumes) {
        List<VolumeKey> keys = new ArrayList<>(volumes.keySet());
        keys.sort(Comparator.comparing(VolumeKey::host).thenComparing(VolumeKey::name));
        return keys;
    }

    private static VolumeIndex indexOf(Map<VolumeKey, Counts> volumes) {
        return VolumeIndex.of(sorted(volumes), null);
    }

    private static long[] countsOf(Map<VolumeKey, Counts> volumes) {
        List<VolumeKey> keys = sorted(volumes);
        long[] out = new long[keys.size() * FIELDS];
        for (int i = 0; i < keys.size(); i++) {
            Counts c = volumes.get(keys.get(i));
            out[i * FIELDS] = c.readRequests();
            out[i * FIELDS + 1] = c.readBytes();
            out[i * FIELDS + 2] = c.writeRequests();
            out[i * FIELDS + 3] = c.writeBytes();
        }
        return out;
    }

    public long atMillis() {
        return atMillis;
    }

    public VolumeIndex index() {
        return index;
    }

    /** Field {@code f} (0 read requests, 1 read bytes, 2 write requests, 3 write bytes) of volume {@code i}. */
    long get(int i, int f) {
        return counts[i * FIELDS + f];
    }

    /** The counts of one volume; zero when it had none (yet). */
    public Counts counts(VolumeKey volume) {
        int i = index.position(volume);
        return i < 0 ? Counts.ZERO : new Counts(get(i, 0), get(i, 1), get(i, 2), get(i, 3));
    }
}
