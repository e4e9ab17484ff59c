package dev.dmp.agent.stats;

import dev.dmp.agent.backend.Backend;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The counting link of a volume's chain: forwards each request to the next backend and, once it has
 * completed, records it. Failed requests are not counted as reads or writes. TRIM, WRITE_ZEROES and
 * CACHE move no payload and pass through uncounted, as the old module's read/write view never saw them.
 */
public final class StatsFilter implements Backend {
    private final Backend next;
    private final VolumeStats stats;

    public StatsFilter(Backend next, VolumeStats stats) {
        this.next = next;
        this.stats = stats;
    }

    @Override
    public long size() {
        return next.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int bytes = dst.remaining();
        next.read(offset, dst);
        stats.recordRead(bytes);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        int bytes = src.remaining();
        next.write(offset, src, fua);
        stats.recordWrite(bytes);
    }

    @Override
    public void flush() throws IOException {
        next.flush();
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        next.trim(offset, length, fua);
    }

    @Override
    public void zero(long offset, long length, boolean mayTrim, boolean fast, boolean fua) throws IOException {
        next.zero(offset, length, mayTrim, fast, fua);
    }

    @Override
    public void cache(long offset, long length) throws IOException {
        next.cache(offset, length);
    }

    @Override
    public boolean canMultiConn() {
        return next.canMultiConn();
    }

    @Override
    public boolean isReadOnly() {
        return next.isReadOnly();
    }

    @Override
    public String describe() {
        return next.describe();
    }

    @Override
    public void close() throws IOException {
        next.close();
    }
}
