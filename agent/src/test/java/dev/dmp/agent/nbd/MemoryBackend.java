package dev.dmp.agent.nbd;

import dev.dmp.agent.backend.Backend;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A backend in a byte array, for tests; reads and writes can be held until the test lets them go. */
final class MemoryBackend implements Backend {
    final byte[] data;
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicInteger fuaWrites = new AtomicInteger();
    /** Counted down when a read starts. */
    final CountDownLatch readStarted = new CountDownLatch(1);
    /** Reads wait for this before copying. */
    volatile CountDownLatch readGate = new CountDownLatch(0);
    /** Counted down when a write starts. */
    final CountDownLatch writeStarted = new CountDownLatch(1);
    /** Writes wait for this before storing. */
    volatile CountDownLatch writeGate = new CountDownLatch(0);

    MemoryBackend(int size) {
        this.data = new byte[size];
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        readStarted.countDown();
        try {
            readGate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        synchronized (data) {
            dst.put(data, (int) offset, dst.remaining());
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) {
        writeStarted.countDown();
        try {
            writeGate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        synchronized (data) {
            src.get(data, (int) offset, src.remaining());
        }
        if (fua) {
            fuaWrites.incrementAndGet();
        }
    }

    @Override
    public void flush() {
        flushes.incrementAndGet();
    }

    @Override
    public String describe() {
        return "memory:" + data.length;
    }

    @Override
    public void close() {}
}
