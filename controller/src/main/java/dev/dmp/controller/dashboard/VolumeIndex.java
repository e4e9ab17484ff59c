package dev.dmp.controller.dashboard;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The volumes of a {@link StatsSample} in order, with their hosts: where each volume's numbers are in
 * the sample's arrays. Successive samples of an unchanged fleet share one index, so a sample costs
 * its numbers only (at 16,000 volumes, keys and maps per sample were most of the dashboard's heap).
 */
public final class VolumeIndex {
    private final VolumeKey[] keys;
    private final Map<VolumeKey, Integer> positions = new HashMap<>();
    private final Map<String, Integer> hostPositions = new HashMap<>();
    private final int[] hostOf;

    private VolumeIndex(List<VolumeKey> keys) {
        this.keys = keys.toArray(VolumeKey[]::new);
        this.hostOf = new int[this.keys.length];
        for (int i = 0; i < this.keys.length; i++) {
            positions.put(this.keys[i], i);
            hostOf[i] = hostPositions.computeIfAbsent(this.keys[i].host(), h -> hostPositions.size());
        }
    }

    /** The index of {@code keys}: {@code previous} itself when it holds the same keys in the same order. */
    public static VolumeIndex of(List<VolumeKey> keys, VolumeIndex previous) {
        if (previous != null && previous.keys.length == keys.size()) {
            boolean same = true;
            for (int i = 0; i < previous.keys.length && same; i++) {
                same = previous.keys[i].equals(keys.get(i));
            }
            if (same) {
                return previous;
            }
        }
        return new VolumeIndex(keys);
    }

    public int size() {
        return keys.length;
    }

    public VolumeKey key(int i) {
        return keys[i];
    }

    /** Where the volume is, or -1. */
    public int position(VolumeKey key) {
        Integer i = positions.get(key);
        return i == null ? -1 : i;
    }

    public int hosts() {
        return hostPositions.size();
    }

    /** The position of volume {@code i}'s host among {@link #hosts()}. */
    public int hostOf(int i) {
        return hostOf[i];
    }

    /** Where the host is among {@link #hosts()}, or -1. */
    public int hostPosition(String host) {
        Integer i = hostPositions.get(host);
        return i == null ? -1 : i;
    }
}
