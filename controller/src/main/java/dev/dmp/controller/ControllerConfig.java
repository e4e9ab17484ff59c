package dev.dmp.controller;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The controller's settings, under {@code dmp.controller}. */
@ConfigMapping(prefix = "dmp.controller")
public interface ControllerConfig {

    /** Where the controller keeps its ledger (an MVStore file, ledger.mv.db); created if missing. */
    @WithDefault("/var/lib/dmp-controller")
    String dataDir();
}
