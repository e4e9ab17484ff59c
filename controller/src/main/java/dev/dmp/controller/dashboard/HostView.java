package dev.dmp.controller.dashboard;

import dev.dmp.proto.v1.Host;
import dev.dmp.proto.v1.StatsRow;

/** A host's line of the dashboard: the host as ListHosts shows it, its QueryStats row and its recent rate. */
public record HostView(Host host, StatsRow stats, Rate rate) {}
