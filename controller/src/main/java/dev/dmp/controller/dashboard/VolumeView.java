package dev.dmp.controller.dashboard;

import dev.dmp.proto.v1.StatsRow;
import dev.dmp.proto.v1.Volume;

/** A volume's line of the dashboard: the volume as ListVolumes shows it, its QueryStats row and its recent rate. */
public record VolumeView(Volume volume, StatsRow stats, Rate rate) {
}
