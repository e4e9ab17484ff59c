package dev.dmp.agent.backend;

import java.nio.ByteBuffer;

/** dm-zero semantics: reads return zeroes, writes are accepted and dropped. */
public final class ZeroBackend implements Backend {
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();
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
        // Copy from a shared zero page rather than clearing dst byte by byte: put(ByteBuffer) is a memcpy.
        while (dst.hasRemaining()) {
            ByteBuffer zeroes = ZEROES.duplicate();
            zeroes.limit(Math.min(zeroes.capacity(), dst.remaining()));
            dst.put(zeroes);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) {
        src.position(src.limit());
    }

    @Override
    public void flush() {
    }

    @Override
    public String describe() {
        return "zero:" + size;
    }

    @Override
    public void close() {
    }
}
