package dev.dmp.agent.backend;

import dev.dmp.agent.protocol.NbdProtocol;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A sparse volume in the heap, for tests and demos: pages of {@value #PAGE} bytes exist only once
 * written; a page never written, trimmed or zeroed whole reads as zeroes. Nothing is durable, so FLUSH
 * and FUA have nothing to do.
 *
 * <p>Concurrent requests on different bytes of one page are safe (Java writes bytes of an array
 * without tearing their neighbours); overlapping concurrent writes have no defined order in NBD either.
 */
public final class MemoryBackend implements Backend {
    static final int PAGE = 64 * 1024;

    private final long size;
    private final ConcurrentHashMap<Long, byte[]> pages = new ConcurrentHashMap<>();

    public MemoryBackend(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("memory backend size must be greater than 0, got " + size);
        }
        this.size = size;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        long position = offset;
        while (dst.hasRemaining()) {
            int inPage = (int) (position % PAGE);
            int n = Math.min(PAGE - inPage, dst.remaining());
            byte[] page = pages.get(position / PAGE);
            if (page == null) {
                dst.put(Zeroes.upTo(n));
            } else {
                dst.put(page, inPage, n);
            }
            position += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) {
        long position = offset;
        while (src.hasRemaining()) {
            int inPage = (int) (position % PAGE);
            int n = Math.min(PAGE - inPage, src.remaining());
            byte[] page = pages.computeIfAbsent(position / PAGE, k -> new byte[PAGE]);
            src.get(page, inPage, n);
            position += n;
        }
    }

    @Override
    public void flush() {}

    @Override
    public void trim(long offset, long length, boolean fua) {
        zero(offset, length, true, false, fua);
    }

    /** Whole pages are dropped, partial ones cleared: always fast, and never allocates. */
    @Override
    public void zero(long offset, long length, boolean mayTrim, boolean fast, boolean fua) {
        long position = offset;
        long end = offset + length;
        while (position < end) {
            int inPage = (int) (position % PAGE);
            int n = (int) Math.min(PAGE - inPage, end - position);
            if (n == PAGE) {
                pages.remove(position / PAGE);
            } else {
                byte[] page = pages.get(position / PAGE);
                if (page != null) {
                    Arrays.fill(page, inPage, inPage + n, (byte) 0);
                }
            }
            position += n;
        }
    }

    /** Its page map: a page never written (or trimmed, or zeroed whole) is a hole that reads as zeroes. */
    @Override
    public void extents(Extents extents) {
        while (extents.wantsMore()) {
            long position = extents.next();
            long inPage = position % PAGE;
            boolean present = pages.containsKey(position / PAGE);
            if (!extents.add(PAGE - inPage, present ? 0 : NbdProtocol.NBD_STATE_HOLE | NbdProtocol.NBD_STATE_ZERO)) {
                return;
            }
        }
    }

    /** Bytes of heap held by written pages (for logs and tests). */
    public long allocatedBytes() {
        return (long) pages.size() * PAGE;
    }

    @Override
    public String describe() {
        return "memory:" + size;
    }

    @Override
    public void close() {
        pages.clear();
    }
}
