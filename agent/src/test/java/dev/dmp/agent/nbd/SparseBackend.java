package dev.dmp.agent.nbd;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.Extents;
import dev.dmp.agent.backend.TransferException;
import dev.dmp.agent.protocol.Channels;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * A sparse volume for the structured-reply tests: the memory backend's page map (a page of
 * {@value #PAGE} bytes is a hole until written), a minimum block size, and failures where a test asks
 * for them: reads of a range, the extents query, or a transfer (sendfile) that stops part way.
 */
final class SparseBackend implements Backend {
    /** The memory backend's page. */
    static final int PAGE = 64 * 1024;

    private final dev.dmp.agent.backend.MemoryBackend pages;
    private final int minimumBlockSize;

    /** Reads touching [failFrom, failTo) fail with {@link #failure}. */
    private volatile long failFrom = -1;

    private volatile long failTo = -1;
    private volatile String failure;
    private volatile String extentsFailure;
    /** True: reads may go by {@link #transferTo}, which sends {@link #transferBytes} then fails (-1: never fails). */
    private volatile boolean transfers;

    private volatile long transferBytes = -1;
    /** True: {@link #transferable} tells of the failure beforehand (a file that shrank); false: it does not. */
    private volatile boolean foreseen = true;

    SparseBackend(long size, int minimumBlockSize) {
        this.pages = new dev.dmp.agent.backend.MemoryBackend(size);
        this.minimumBlockSize = minimumBlockSize;
    }

    SparseBackend(long size) {
        this(size, 1);
    }

    /** The volume most tests read: 1 MiB of {@value #PAGE}-byte pages, data in pages 1 and 3, holes elsewhere. */
    static SparseBackend dataInPagesOneAndThree() {
        return new SparseBackend(1 << 20).data(PAGE, PAGE).data(3 * PAGE, PAGE);
    }

    /** Fills [offset, offset + length) with bytes that are never zero (so data is never mistaken for a hole). */
    SparseBackend data(long offset, int length) {
        pages.write(offset, ByteBuffer.wrap(pattern(offset, length)), false);
        return this;
    }

    /** The bytes {@link #data} writes at {@code offset}. */
    static byte[] pattern(long offset, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (1 + (offset + i) % 251);
        }
        return b;
    }

    void failReads(long from, long to, String message) {
        failFrom = from;
        failTo = to;
        failure = message;
    }

    void failExtents(String message) {
        extentsFailure = message;
    }

    /** Reads go by transferTo; it sends {@code bytes} and then fails (-1: it never fails). */
    void transfer(long bytes) {
        transfers = true;
        transferBytes = bytes;
        foreseen = true;
    }

    /** As {@link #transfer}, but {@link #transferable} does not see the failure coming (a disk's EIO). */
    void transferFailingUnforeseen(long bytes) {
        transfer(bytes);
        foreseen = false;
    }

    @Override
    public long transferable(long offset, long length) {
        return foreseen && transferBytes >= 0 ? Math.min(transferBytes, length) : length;
    }

    @Override
    public long size() {
        return pages.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (offset < failTo && offset + dst.remaining() > failFrom) {
            throw new IOException(failure);
        }
        pages.read(offset, dst);
    }

    @Override
    public boolean canTransferTo() {
        return transfers;
    }

    @Override
    public void transferTo(long offset, long length, WritableByteChannel target) throws IOException {
        long n = transferBytes < 0 ? length : Math.min(transferBytes, length);
        ByteBuffer b = ByteBuffer.allocate((int) n);
        pages.read(offset, b);
        Channels.writeFully(target, b.flip());
        if (n < length) {
            throw new TransferException(n, new IOException("the disk went away"));
        }
    }

    @Override
    public void extents(Extents extents) throws IOException {
        if (extentsFailure != null) {
            throw new IOException(extentsFailure);
        }
        pages.extents(extents);
    }

    @Override
    public int minimumBlockSize() {
        return minimumBlockSize;
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) {
        pages.write(offset, src, fua);
    }

    @Override
    public void flush() {}

    @Override
    public String describe() {
        return "sparse:" + size();
    }

    @Override
    public void close() {}
}
