package dev.dmp.controller.dashboard;

import dev.dmp.proto.v1.StatsRow;

/** The fleet's line of the dashboard: its QueryStats row and its recent rate. */
public record FleetView(StatsRow stats, Rate rate) {}
