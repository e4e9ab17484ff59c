package dev.dmp.controller.dashboard;

/** A volume by host and name, as the samples key their counts. */
public record VolumeKey(String host, String name) {}
