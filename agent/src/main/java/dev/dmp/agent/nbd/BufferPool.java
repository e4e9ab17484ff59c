package dev.dmp.agent.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * Direct buffers for request payloads, reused across requests and connections. Direct, because the
 * socket and file channels copy heap buffers through a temporary direct one; reused, because
 * allocating and zeroing a direct buffer per request costs more than the copy it saves.
 * Buffers come in power-of-two classes from 4 KiB up; at most {@code maxCachedBytes} are kept.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int CLASSES = 32 - MIN_SHIFT;

    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedQueue<ByteBuffer>[] free = new ConcurrentLinkedQueue[CLASSES];

    private final AtomicLong cachedBytes = new AtomicLong();
    private final long maxCachedBytes;
    /** Makes a new buffer of a class's capacity; a test's may fail as the JVM's does when direct memory runs out. */
    private final IntFunction<ByteBuffer> allocate;

    BufferPool(long maxCachedBytes) {
        this(maxCachedBytes, ByteBuffer::allocateDirect);
    }

    BufferPool(long maxCachedBytes, IntFunction<ByteBuffer> allocate) {
        this.maxCachedBytes = maxCachedBytes;
        this.allocate = allocate;
        for (int i = 0; i < CLASSES; i++) {
            free[i] = new ConcurrentLinkedQueue<>();
        }
    }

    /** A buffer with position 0 and limit {@code size}. */
    ByteBuffer take(int size) {
        int cls = classOf(size);
        ByteBuffer buf = free[cls].poll();
        if (buf == null) {
            buf = allocate.apply(1 << (cls + MIN_SHIFT));
        } else {
            cachedBytes.addAndGet(-buf.capacity());
        }
        return buf.clear().limit(size);
    }

    void give(ByteBuffer buf) {
        if (cachedBytes.addAndGet(buf.capacity()) <= maxCachedBytes) {
            free[classOf(buf.capacity())].offer(buf);
        } else {
            cachedBytes.addAndGet(-buf.capacity());
        }
    }

    private static int classOf(int size) {
        int shift = size <= 1 << MIN_SHIFT ? MIN_SHIFT : 32 - Integer.numberOfLeadingZeros(size - 1);
        return shift - MIN_SHIFT;
    }
}
