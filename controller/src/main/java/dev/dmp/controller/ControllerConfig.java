package dev.dmp.controller;

import dev.dmp.controller.metrics.HistogramScope;
import dev.dmp.controller.store.StoreKind;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

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

    /**
     * Where the ledger is kept: {@code mvstore} (a file in {@link #dataDir}, one controller process) or
     * {@code postgresql} ({@link #postgresql}, shared by replicas). See docs/replication.md.
     */
    @WithDefault("mvstore")
    StoreKind store();

    /** The database of {@code dmp.controller.store=postgresql}; checked by {@code PostgresSettings}. */
    Postgresql postgresql();

    /** This replica's name in the ledger's {@code hosts.owner}; the host name when unset. */
    Optional<String> replicaId();

    /**
     * Where the other replicas reach this one ({@code host:port} of its gRPC port), for the commands
     * they forward to the replica holding a host's stream; with a shared store only. The host name
     * and {@code quarkus.http.port} when unset; the pod's IP on Kubernetes (deploy/replicated).
     */
    Optional<String> replicaAddress();

    /** {@code dmp.controller.postgresql.*}: all unset with the default store. */
    interface Postgresql {
        /** {@code jdbc:postgresql://HOST:PORT/DATABASE}. */
        Optional<String> jdbcUrl();

        Optional<String> user();

        Optional<String> password();

        /** A file holding the password (a mounted Kubernetes Secret), instead of {@link #password}. */
        Optional<String> passwordFile();
    }
}
