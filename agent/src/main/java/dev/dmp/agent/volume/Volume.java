package dev.dmp.agent.volume;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.stats.StatsFilter;
import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.proto.v1.Backend.KindCase;
import java.io.IOException;

/**
 * A named volume: its spec as created, its counters, and the chain its requests go through
 * (stats filter, then the backend).
 */
public final class Volume implements AutoCloseable {
    private final String name;
    private final dev.dmp.proto.v1.Backend spec;
    private final VolumeStats stats = new VolumeStats();
    private final Backend chain;
    private final boolean readOnly;

    Volume(String name, dev.dmp.proto.v1.Backend spec, Backend backend, boolean readOnly) {
        this.name = name;
        this.spec = spec;
        this.readOnly = readOnly || backend.isReadOnly();
        this.chain = new StatsFilter(backend, stats);
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

    /** The head of the chain: what the NBD transmission loop calls. */
    public Backend chain() {
        return chain;
    }

    public long size() {
        return chain.size();
    }

    @Override
    public void close() throws IOException {
        chain.close();
    }
}
