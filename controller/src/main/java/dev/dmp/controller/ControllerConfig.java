package dev.dmp.controller;

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
     * Expose each volume's latency and request-size histograms on {@code /q/metrics}
     * ({@code dmp_volume_request_duration_seconds}, {@code dmp_volume_request_size_bytes}: 50 series per
     * volume and operation that has counted something). Off: the counters only. See docs/controller.md.
     */
    @WithDefault("true")
    boolean metricsHistograms();
}
