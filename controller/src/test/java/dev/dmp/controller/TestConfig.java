package dev.dmp.controller;

import dev.dmp.controller.metrics.HistogramScope;
import dev.dmp.controller.store.StoreKind;
import java.util.Optional;

/**
 * A {@link ControllerConfig} for tests that start parts of the controller without Quarkus: defaults
 * (the MVStore ledger) but the data dir, or the PostgreSQL ledger with {@link #postgresql(Postgres, String)}.
 */
public record TestConfig(String dataDir, StoreKind store, Postgres postgresql, Optional<String> replicaId)
        implements ControllerConfig {

    public TestConfig(String dataDir) {
        this(dataDir, StoreKind.MVSTORE, new Postgres(null, null, null, null), Optional.empty());
    }

    /** The PostgreSQL ledger with these settings, as replica {@code replicaId}. */
    public static TestConfig postgresql(Postgres settings, String replicaId) {
        return new TestConfig("/nonexistent", StoreKind.POSTGRESQL, settings, Optional.of(replicaId));
    }

    /** Tests forward nothing between replicas' processes: the address is only written down. */
    @Override
    public Optional<String> replicaAddress() {
        return replicaId.map(id -> id + ":8080");
    }

    @Override
    public HistogramScope metricsHistograms() {
        return HistogramScope.HOST;
    }

    /** {@code dmp.controller.postgresql.*}; null for unset. */
    public record Postgres(String url, String userName, String secret, String secretFile)
            implements ControllerConfig.Postgresql {
        @Override
        public Optional<String> jdbcUrl() {
            return Optional.ofNullable(url);
        }

        @Override
        public Optional<String> user() {
            return Optional.ofNullable(userName);
        }

        @Override
        public Optional<String> password() {
            return Optional.ofNullable(secret);
        }

        @Override
        public Optional<String> passwordFile() {
            return Optional.ofNullable(secretFile);
        }
    }
}
