package dev.dmp.controller;

import dev.dmp.controller.store.StoreKind;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * The controller's data directory ({@code dmp.controller.data-dir}): checked and created at start-up,
 * so that a bad value or an unwritable volume stops the controller with a message naming the key
 * instead of failing later, on the first write.
 */
@ApplicationScoped
public class DataDirectory {
    private static final Logger LOG = Logger.getLogger(DataDirectory.class);

    private final Path path;
    /** False with {@code dmp.controller.store=postgresql}: the ledger is in the database, nothing on disk. */
    private final boolean used;

    public DataDirectory(ControllerConfig config) {
        this.path = resolve(config.dataDir());
        this.used = config.store() == StoreKind.MVSTORE;
    }

    /** The checked, absolute, normalized path. */
    public Path path() {
        return path;
    }

    void start(@Observes StartupEvent event) {
        if (!used) {
            return;
        }
        try {
            Files.createDirectories(path);
        } catch (IOException e) {
            throw new IllegalStateException("dmp.controller.data-dir: cannot create '" + path + "': " + e, e);
        }
        if (!Files.isWritable(path)) {
            throw new IllegalStateException("dmp.controller.data-dir: '" + path + "' is not writable by this process");
        }
        LOG.infof("data directory %s", path);
    }

    static Path resolve(String value) {
        Path p = Path.of(value);
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException("dmp.controller.data-dir: '" + value + "' must be an absolute path");
        }
        return p.normalize();
    }
}
