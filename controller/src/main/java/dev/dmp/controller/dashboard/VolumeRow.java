package dev.dmp.controller.dashboard;

import dev.dmp.proto.v1.StatsRow;
import dev.dmp.proto.v1.Volume;

/**
 * A volume's row of the dashboard's Volumes table (and its cards when the volume is chosen): the volume as
 * ListVolumes shows it, its QueryStats row and its recent rate.
 */
public record VolumeRow(Volume volume, StatsRow stats, Rate rate) {}
