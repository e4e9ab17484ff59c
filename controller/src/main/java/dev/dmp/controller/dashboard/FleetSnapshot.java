package dev.dmp.controller.dashboard;

import java.util.Map;
import java.util.function.Predicate;

/** The fleet's counts at one moment (the sample its rates come from), with each volume's recent rate. */
public record FleetSnapshot(StatsSample sample, Map<VolumeKey, Rate> rates) {

    /** The recent rate of the volumes in scope: the sum of theirs. */
    public Rate rate(Predicate<VolumeKey> scope) {
        Rate sum = Rate.ZERO;
        for (Map.Entry<VolumeKey, Rate> r : rates.entrySet()) {
            if (scope.test(r.getKey())) {
                sum = sum.plus(r.getValue());
            }
        }
        return sum;
    }
}
