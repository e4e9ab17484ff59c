package dev.dmp.controller.dashboard;

import dev.dmp.proto.v1.StatsRow;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The fleet's QueryStats answers at one moment, for each scope (the rows the dashboard shows), and
 * the counts behind them (the sample its rates come from), with each volume's recent rate.
 */
public record FleetSnapshot(StatsSample sample, List<StatsRow> volumes, List<StatsRow> hosts, StatsRow fleet,
        Map<VolumeKey, Rate> rates) {

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
