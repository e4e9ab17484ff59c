package dev.dmp.controller.dashboard;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The volumes of a {@link StatsSample} in order (by host, then name), with their hosts: where each
 * volume's numbers are in the sample's arrays. Successive samples of an unchanged fleet share one
 * index, so a sample costs its numbers only. An index is two arrays of references into the ledger's own
 * strings and two of ints (found by binary search, no maps): while a fleet is growing every second's
 * step has its own, so they must stay small (12 bytes a volume).
 */
public final class VolumeIndex {
    private final String[] hosts; // distinct, sorted
    private final int[] hostStart; // volumes of host h: [hostStart[h], hostStart[h + 1])
    private final int[] hostOf;
    private final String[] names;

    private VolumeIndex(List<VolumeKey> keys) {
        names = new String[keys.size()];
        hostOf = new int[keys.size()];
        List<String> hostList = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            VolumeKey k = keys.get(i);
            if (i > 0) {
                VolumeKey p = keys.get(i - 1);
                int c = p.host().compareTo(k.host());
                if (c > 0 || c == 0 && p.name().compareTo(k.name()) >= 0) {
                    throw new IllegalArgumentException("volumes not sorted by host and name: " + p + " before " + k);
                }
            }
            if (hostList.isEmpty() || !hostList.get(hostList.size() - 1).equals(k.host())) {
                hostList.add(k.host());
                starts.add(i);
            }
            names[i] = k.name();
            hostOf[i] = hostList.size() - 1;
        }
        hosts = hostList.toArray(String[]::new);
        hostStart = new int[hosts.length + 1];
        for (int h = 0; h < hosts.length; h++) {
            hostStart[h] = starts.get(h);
        }
        hostStart[hosts.length] = names.length;
    }

    /**
     * The index of {@code keys} (sorted by host, then name): {@code previous} itself when it holds the
     * same keys in the same order.
     */
    public static VolumeIndex of(List<VolumeKey> keys, VolumeIndex previous) {
        if (previous != null && previous.names.length == keys.size()) {
            boolean same = true;
            for (int i = 0; i < previous.names.length && same; i++) {
                VolumeKey k = keys.get(i);
                same = previous.names[i].equals(k.name()) && previous.hosts[previous.hostOf[i]].equals(k.host());
            }
            if (same) {
                return previous;
            }
        }
        return new VolumeIndex(keys);
    }

    public int size() {
        return names.length;
    }

    public VolumeKey key(int i) {
        return new VolumeKey(hosts[hostOf[i]], names[i]);
    }

    /** Where the volume is, or -1. */
    public int position(VolumeKey key) {
        int h = hostPosition(key.host());
        if (h < 0) {
            return -1;
        }
        int i = Arrays.binarySearch(names, hostStart[h], hostStart[h + 1], key.name());
        return i < 0 ? -1 : i;
    }

    public int hosts() {
        return hosts.length;
    }

    /** The position of volume {@code i}'s host among {@link #hosts()}. */
    public int hostOf(int i) {
        return hostOf[i];
    }

    /** Where the host is among {@link #hosts()}, or -1. */
    public int hostPosition(String host) {
        int h = Arrays.binarySearch(hosts, host);
        return h < 0 ? -1 : h;
    }
}
