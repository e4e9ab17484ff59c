package dev.dmp.controller.dashboard;

/** One point of a chart: the rate over the second that ended at {@code time} (epoch milliseconds). */
public record RatePoint(long time, Rate rate) {}
