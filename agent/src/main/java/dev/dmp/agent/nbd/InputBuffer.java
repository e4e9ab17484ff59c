package dev.dmp.agent.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Read-ahead for the transmission loop's reader: one read(2) takes in whatever the client has sent
 * so far, up to the buffer's size, so a client with many small requests in flight costs one system
 * call per batch instead of one or two per request. A payload larger than the buffer is read
 * straight into its own buffer after what was already buffered.
 */
final class InputBuffer {
    private final ReadableByteChannel ch;
    /** Unread bytes between position and limit. */
    private final ByteBuffer buf;

    InputBuffer(ReadableByteChannel ch, int size) {
        this.ch = ch;
        this.buf = ByteBuffer.allocateDirect(size).flip();
    }

    /** Bytes received and not yet taken. */
    int buffered() {
        return buf.remaining();
    }

    /**
     * Fills {@code dst}; returns false if the peer closed the connection before sending a single byte,
     * and throws {@link EOFException} if it closed part-way (a truncated frame).
     */
    boolean readFullyOrEof(ByteBuffer dst) throws IOException {
        int start = dst.position();
        while (dst.hasRemaining()) {
            if (buf.hasRemaining()) {
                take(dst);
            } else if (dst.remaining() >= buf.capacity()) {
                // Large payloads bypass the buffer: no copy.
                if (ch.read(dst) < 0) {
                    return eof(dst, start);
                }
            } else if (!fill()) {
                return eof(dst, start);
            }
        }
        return true;
    }

    void readFully(ByteBuffer dst) throws IOException {
        if (!readFullyOrEof(dst)) {
            throw new EOFException("connection closed where " + dst.remaining() + " more bytes were due");
        }
    }

    private static boolean eof(ByteBuffer dst, int start) throws EOFException {
        if (dst.position() == start) {
            return false;
        }
        throw new EOFException("connection closed after " + (dst.position() - start) + " of "
                + (dst.limit() - start) + " bytes of a frame");
    }

    private void take(ByteBuffer dst) {
        int n = Math.min(buf.remaining(), dst.remaining());
        int limit = buf.limit();
        dst.put(buf.limit(buf.position() + n));
        buf.limit(limit);
    }

    /** One read of whatever is available; false at EOF. Called only when the buffer is empty. */
    private boolean fill() throws IOException {
        buf.clear();
        int n = ch.read(buf);
        buf.flip();
        return n >= 0;
    }
}
