package dev.dmp.agent.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** Whole-buffer reads and writes on blocking channels. */
public final class Channels {
    private Channels() {}

    /**
     * Fills {@code buf}; returns false if the peer closed the connection before sending a single byte,
     * and throws {@link EOFException} if it closed part-way (a truncated frame).
     */
    public static boolean readFullyOrEof(ReadableByteChannel ch, ByteBuffer buf) throws IOException {
        int start = buf.position();
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                if (buf.position() == start) {
                    return false;
                }
                throw new EOFException("connection closed after " + (buf.position() - start) + " of "
                        + (buf.limit() - start) + " bytes of a frame");
            }
        }
        return true;
    }

    public static void readFully(ReadableByteChannel ch, ByteBuffer buf) throws IOException {
        if (!readFullyOrEof(ch, buf)) {
            throw new EOFException("connection closed where " + buf.remaining() + " more bytes were due");
        }
    }

    /** Reads and drops {@code n} bytes, at most 64 KiB at a time; EOFException if the peer closes first. */
    public static void skip(ReadableByteChannel ch, long n) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(n, 64 << 10));
        for (long left = n; left > 0; left -= scratch.capacity()) {
            readFully(ch, scratch.clear().limit((int) Math.min(left, scratch.capacity())));
        }
    }

    public static void writeFully(WritableByteChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
