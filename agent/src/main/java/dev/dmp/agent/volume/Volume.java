package dev.dmp.agent.volume;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.proto.v1.Backend.KindCase;
import java.io.IOException;

/**
 * A named volume: its spec as created, its backend and its counters. The NBD transmission loop
 * counts each request when it answers it, the one place that knows both the NBD error and the time
 * from request to reply.
 */
public final class Volume implements AutoCloseable {
    private final String name;
    private final dev.dmp.proto.v1.Backend spec;
    private final VolumeStats stats = new VolumeStats();
    private final Backend backend;
    private final boolean readOnly;

    Volume(String name, dev.dmp.proto.v1.Backend spec, Backend backend, boolean readOnly) {
        this.name = name;
        this.spec = spec;
        this.backend = backend;
        this.readOnly = readOnly || backend.isReadOnly();
    }

    public String name() {
        return name;
    }

    public dev.dmp.proto.v1.Backend spec() {
        return spec;
    }

    public KindCase kind() {
        return spec.getKindCase();
    }

    /** True when writes are refused: created read-only, or the backend cannot write. */
    public boolean readOnly() {
        return readOnly;
    }

    public VolumeStats stats() {
        return stats;
    }

    public Backend backend() {
        return backend;
    }

    public long size() {
        return backend.size();
    }

    @Override
    public void close() throws IOException {
        backend.close();
    }
}
