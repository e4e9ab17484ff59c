package dev.dmp.controller;

import dev.dmp.controller.metrics.HistogramScope;

/** A {@link ControllerConfig} for tests that start parts of the controller without Quarkus: defaults but the data dir. */
public record TestConfig(String dataDir) implements ControllerConfig {
    @Override
    public HistogramScope metricsHistograms() {
        return HistogramScope.HOST;
    }
}
