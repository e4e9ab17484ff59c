package dev.dmp.agent.volume;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.proto.v1.Backend.KindCase;
import java.io.IOException;

/**
 * A named volume: its spec as created, its counters, and the {@link Export} that NBD connections and
 * the kernel's device serve, assembled by {@link VolumeFactory}.
 */
public final class Volume implements AutoCloseable {
    private final dev.dmp.proto.v1.Backend spec;
    private final Export export;
    private final VolumeStats stats;

    Volume(dev.dmp.proto.v1.Backend spec, Export export, VolumeStats stats) {
        this.spec = spec;
        this.export = export;
        this.stats = stats;
    }

    public String name() {
        return export.name();
    }

    public dev.dmp.proto.v1.Backend spec() {
        return spec;
    }

    public KindCase kind() {
        return spec.getKindCase();
    }

    /** True when writes are refused: created read-only, or the backend cannot write. */
    public boolean readOnly() {
        return export.refusesWrites();
    }

    public VolumeStats stats() {
        return stats;
    }

    /** What NBD connections and the kernel's device serve: the volume's chain of observer and backend. */
    public Export export() {
        return export;
    }

    public Backend backend() {
        return export.backend();
    }

    public long size() {
        return export.backend().size();
    }

    /**
     * Stops the volume's NBD connections (requests running are answered, new ones get NBD_ESHUTDOWN),
     * then closes its backend: a delete or the agent's stop never leaves a completed write unanswered.
     */
    @Override
    public void close() throws IOException {
        export.connections().stopAll("volume '" + name() + "' is being deleted");
        export.backend().close();
    }
}
