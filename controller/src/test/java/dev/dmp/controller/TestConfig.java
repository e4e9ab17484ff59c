package dev.dmp.controller;

/** A {@link ControllerConfig} for tests that start parts of the controller without Quarkus: defaults but the data dir. */
public record TestConfig(String dataDir) implements ControllerConfig {
    @Override
    public boolean metricsHistograms() {
        return true;
    }
}
