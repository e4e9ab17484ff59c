package dev.dmp.controller;

import dev.dmp.controller.metrics.HistogramScope;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The controller's settings, under {@code dmp.controller}. {@link DataDirectory} checks them at start-up. */
@ConfigMapping(prefix = "dmp.controller")
public interface ControllerConfig {

    /**
     * Where the controller keeps what must outlive a restart: its ledger (an MVStore file,
     * ledger.mv.db). Created at start-up when missing. On Kubernetes it is the mount point of the
     * controller's PersistentVolumeClaim (deploy/kubernetes).
     */
    @WithDefault("/var/lib/dmp-controller")
    String dataDir();

    /**
     * Which latency and request-size histograms {@code /q/metrics} has: {@code host} (per host and
     * operation, the host's volumes added up), {@code volume} (per volume as well) or {@code off}.
     * 50 series per operation each. See {@link HistogramScope} and docs/controller.md, "Metrics".
     */
    @WithDefault("host")
    HistogramScope metricsHistograms();
}
