package dev.dmp.agent.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.function.LongSupplier;

/**
 * Read-ahead for the transmission loop's reader: one read(2) takes in whatever the client has sent
 * so far, up to the buffer's size, so a client with many small requests in flight costs one system
 * call per batch instead of one or two per request. A payload larger than the buffer is read
 * straight into its own buffer after what was already buffered.
 *
 * <p>It notes the clock after each read(2): that is when the requests it brought in were received.
 * One clock read per batch, not per request, is most of what counting saves at depth 16
 * (docs/benchmarks.md, "Counting on versus off"); a request parsed later, after the ones before it in
 * the batch were dispatched, has waited in the agent since that moment, so the latency counted from
 * it is what the client sees.
 */
final class InputBuffer implements ReadableByteChannel {
    private final ReadableByteChannel ch;
    /** Unread bytes between position and limit. */
    private final ByteBuffer buf;

    private final LongSupplier clock;
    /** The clock after the last read(2) into the buffer. */
    private long filledNanos;

    /** {@code clock}: read after each read(2), for {@link #filledNanos} ({@link RequestObserver#clock}). */
    InputBuffer(ReadableByteChannel ch, int size, LongSupplier clock) {
        this.ch = ch;
        this.buf = ByteBuffer.allocateDirect(size).flip();
        this.clock = clock;
    }

    /** When the bytes most recently taken from the buffer were read from the channel. */
    long filledNanos() {
        return filledNanos;
    }

    /** Bytes received and not yet taken. */
    int buffered() {
        return buf.remaining();
    }

    /**
     * What is buffered first; when nothing is, a payload at least as large as the buffer is read
     * straight into {@code dst} (no copy), anything smaller takes one read(2) into the buffer.
     * {@link Channels#readFullyOrEof} frames on top of this as on any channel.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!buf.hasRemaining()) {
            if (dst.remaining() >= buf.capacity()) {
                return ch.read(dst);
            }
            if (!fill()) {
                return -1;
            }
        }
        return take(dst);
    }

    @Override
    public boolean isOpen() {
        return ch.isOpen();
    }

    /** The connection is closed by its owner, not through its read-ahead. */
    @Override
    public void close() {}

    private int take(ByteBuffer dst) {
        int n = Math.min(buf.remaining(), dst.remaining());
        int limit = buf.limit();
        dst.put(buf.limit(buf.position() + n));
        buf.limit(limit);
        return n;
    }

    /** One read of whatever is available; false at EOF. Called only when the buffer is empty. */
    private boolean fill() throws IOException {
        buf.clear();
        int n = ch.read(buf);
        buf.flip();
        filledNanos = clock.getAsLong();
        return n >= 0;
    }
}
