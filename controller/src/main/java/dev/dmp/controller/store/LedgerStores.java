package dev.dmp.controller.store;

import dev.dmp.controller.ControllerConfig;
import java.io.IOException;
import java.nio.file.Path;

/** Opens the store {@code dmp.controller.store} names; an error names the key to change. */
public final class LedgerStores {
    private LedgerStores() {}

    public static LedgerStore open(ControllerConfig config) {
        return switch (config.store()) {
            case MVSTORE -> openFile(Path.of(config.dataDir()));
            case POSTGRESQL -> PostgresLedgerStore.open(PostgresSettings.from(config));
        };
    }

    private static LedgerStore openFile(Path dir) {
        try {
            return MvStoreLedgerStore.open(dir);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(
                    "dmp.controller.data-dir: cannot open the ledger in " + dir + ": " + e.getMessage(), e);
        }
    }
}
