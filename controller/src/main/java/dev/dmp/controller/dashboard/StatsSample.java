package dev.dmp.controller.dashboard;

import java.util.Map;
import java.util.function.Predicate;

/** The counts of every volume at one moment ({@code atMillis}, epoch milliseconds). */
public record StatsSample(long atMillis, Map<VolumeKey, Counts> volumes) {
    public StatsSample {
        volumes = Map.copyOf(volumes);
    }

    /** The counts of one volume; zero when it had none (yet). */
    public Counts counts(VolumeKey volume) {
        return volumes.getOrDefault(volume, Counts.ZERO);
    }

    /** The sum of the counts of the volumes in scope. */
    public Counts sum(Predicate<VolumeKey> scope) {
        Counts sum = Counts.ZERO;
        for (Map.Entry<VolumeKey, Counts> v : volumes.entrySet()) {
            if (scope.test(v.getKey())) {
                sum = sum.plus(v.getValue());
            }
        }
        return sum;
    }
}
