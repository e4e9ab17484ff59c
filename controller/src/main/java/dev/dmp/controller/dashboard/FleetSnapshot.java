package dev.dmp.controller.dashboard;

import dev.dmp.proto.v1.StatsRow;
import java.util.List;

/**
 * The fleet's QueryStats answers at one moment, for each scope (the rows the dashboard shows), and
 * the counts behind them (the sample its rates come from).
 */
public record FleetSnapshot(StatsSample sample, List<StatsRow> volumes, List<StatsRow> hosts, StatsRow fleet) {
}
