package dev.dmp.controller.dashboard;

import java.util.List;

/**
 * Everything the dashboard shows at one moment ({@code time}, epoch milliseconds, when the stats were
 * sampled), plus the newest chart point of the scope the page asked for.
 */
public record Overview(long time, FleetView fleet, List<HostView> hosts, List<VolumeRow> volumes, RatePoint chart) {}
