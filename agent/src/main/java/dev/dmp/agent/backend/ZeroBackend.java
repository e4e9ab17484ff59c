package dev.dmp.agent.backend;

import dev.dmp.agent.protocol.NbdProtocol;
import java.nio.ByteBuffer;

/** dm-zero semantics: reads return zeroes, writes, trims and zeroing are accepted and dropped. */
public final class ZeroBackend implements Backend {
    private final long size;

    public ZeroBackend(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("zero backend size must be greater than 0, got " + size);
        }
        this.size = size;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        Zeroes.fill(dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) {
        src.position(src.limit());
    }

    @Override
    public void flush() {}

    @Override
    public void trim(long offset, long length, boolean fua) {}

    /** All of it is a hole that reads as zeroes. */
    @Override
    public void extents(Extents extents) {
        extents.add(extents.remaining(), NbdProtocol.NBD_STATE_HOLE | NbdProtocol.NBD_STATE_ZERO);
    }

    /** Always fast: there is nothing to do. */
    @Override
    public void zero(long offset, long length, boolean mayTrim, boolean fast, boolean fua) {}

    @Override
    public String describe() {
        return "zero:" + size;
    }

    @Override
    public void close() {}
}
