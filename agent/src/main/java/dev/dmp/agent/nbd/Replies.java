package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.TransferException;
import dev.dmp.agent.protocol.ReplyChunk;
import dev.dmp.agent.protocol.ReplyChunks;
import dev.dmp.agent.protocol.SimpleReply;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * One connection's replies, simple or structured as its session negotiated, each written whole under
 * one lock so that replies of different requests never interleave mid-message. Success without a
 * payload is a simple reply either way (the spec allows it, and it is 16 bytes); with structured
 * replies an error is an error chunk carrying its message.
 */
final class Replies {
    private static final Logger LOG = Logger.getLogger(Replies.class);
    /** The size of an OFFSET_DATA chunk's header and offset: what precedes its data. */
    static final int DATA_HEADER = ReplyChunk.SIZE + 8;

    private final ByteChannel ch;
    private final boolean structured;
    private final ReentrantLock lock = new ReentrantLock();
    /** The header of a sendfile READ's reply: one per connection, used only under {@link #lock}. */
    private final ByteBuffer transferHeader = ByteBuffer.allocate(DATA_HEADER);
    /** Zeroes to pad a data chunk a failed sendfile left short. */
    private static final ByteBuffer PADDING = ByteBuffer.allocateDirect(64 << 10);

    /** The most one write call sends, so that a large reply to a slow reader still shows progress. */
    static final int WRITE_SLICE = 4 << 20;

    /** {@link #writingSince} when no write is under way. */
    private static final long IDLE = Long.MIN_VALUE;

    /** When the write under way began (the clock's nanoseconds), or {@link #IDLE}. */
    private volatile long writingSince = IDLE;

    private final LongSupplier clock;

    Replies(ByteChannel ch, boolean structured) {
        this(ch, structured, System::nanoTime);
    }

    Replies(ByteChannel ch, boolean structured, LongSupplier clock) {
        this.clock = clock;
        this.ch = ch;
        this.structured = structured;
    }

    boolean structured() {
        return structured;
    }

    /** What precedes a READ's data in its reply buffer: a simple reply's header, or a data chunk's. */
    int dataHeaderSize() {
        return structured ? DATA_HEADER : SimpleReply.SIZE;
    }

    /** Success with no payload. */
    void done(Received r) throws IOException {
        ByteBuffer reply = ByteBuffer.allocate(SimpleReply.SIZE);
        new SimpleReply(NBD_OK, r.cookie()).encode(reply);
        write(reply.flip());
    }

    /** The request failed: a simple reply with the error, or an ERROR chunk with the message. */
    void error(Received r, int error, String message) throws IOException {
        if (structured) {
            write(ReplyChunks.error(r.cookie(), error, message));
        } else {
            ByteBuffer reply = ByteBuffer.allocate(SimpleReply.SIZE);
            new SimpleReply(error, r.cookie()).encode(reply);
            write(reply.flip());
        }
    }

    /** The request failed at {@code offset}: ERROR_OFFSET (the last chunk) with structured replies. */
    void errorAt(Received r, int error, String message, long offset) throws IOException {
        if (structured) {
            write(ReplyChunks.errorAt(r.cookie(), true, error, message, offset));
        } else {
            error(r, error, message);
        }
    }

    /**
     * A READ's data, whole, from a buffer whose first {@link #dataHeaderSize} bytes are left for the
     * header: the simple reply, or one OFFSET_DATA chunk that is the last (the data is all read: no
     * error can follow).
     */
    void data(Received r, ByteBuffer reply) throws IOException {
        int length = reply.limit() - dataHeaderSize();
        if (structured) {
            ReplyChunks.dataHeader(reply.position(0), r.cookie(), true, r.offset(), length);
        } else {
            new SimpleReply(NBD_OK, r.cookie()).encode(reply.position(0));
        }
        write(reply.position(0));
    }

    /** Several chunks of one reply, in order, with nothing of other replies between them. */
    void chunks(ByteBuffer... chunks) throws IOException {
        lock.lock();
        try {
            for (ByteBuffer c : chunks) {
                send(c);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * A READ answered with sendfile, whole: the simple reply's header or an OFFSET_DATA chunk's (the
     * reply's last when {@code last}), then the bytes straight from the page cache. A failure after the
     * header: with simple replies, or after a last chunk, the stream can no longer be framed and the
     * connection is closed; in a chunk that is not the last, the chunk is completed with zeroes and an
     * ERROR_OFFSET chunk says where it failed (the client discards the data), and the connection goes
     * on. Returns whether it was all sent.
     */
    boolean transfer(Received r, Backend backend, long offset, long length, boolean last) throws IOException {
        lock.lock();
        try {
            ByteBuffer header = transferHeader.clear();
            if (structured) {
                ReplyChunks.dataHeader(header, r.cookie(), last, offset, (int) length);
            } else {
                new SimpleReply(NBD_OK, r.cookie()).encode(header);
            }
            send(header.flip());
            try {
                began();
                backend.transferTo(offset, length, ch);
                return true;
            } catch (IOException | RuntimeException e) {
                if (!structured || last || !ch.isOpen() || !(e instanceof TransferException partial)) {
                    LOG.infof(
                            "%s at offset %d, length %d failed after its reply began, closing the connection: %s",
                            r.commandName(), offset, length, e);
                    ch.close();
                    throw e instanceof IOException io ? io : new IOException(e);
                }
                long sent = partial.transferred();
                LOG.infof(
                        "%s at offset %d, length %d failed after %d bytes: %s; the chunk is padded and an error "
                                + "chunk follows",
                        r.commandName(), offset, length, sent, e.getMessage());
                pad(length - sent);
                send(ReplyChunks.errorAt(
                        r.cookie(),
                        true,
                        NBD_EIO,
                        r.commandName() + " at offset " + (offset + sent) + " failed: " + e.getMessage(),
                        offset + sent));
                return false;
            }
        } finally {
            writingSince = IDLE;
            lock.unlock();
        }
    }

    /**
     * How long the write under way has blocked, in nanoseconds of {@code now}; 0 when none is. A client
     * that stops reading its replies shows here: the socket's buffers fill and the write waits.
     */
    long blockedFor(long now) {
        long since = writingSince;
        return since == IDLE ? 0 : Math.max(0, now - since);
    }

    private void began() {
        writingSince = clock.getAsLong();
    }

    /** Writes all of {@code buf} (under {@link #lock}), a slice at a time, each slice's start noted for the watchdog. */
    private void send(ByteBuffer buf) throws IOException {
        int end = buf.limit();
        try {
            while (buf.hasRemaining()) {
                began();
                buf.limit(Math.min(end, buf.position() + WRITE_SLICE));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                buf.limit(end);
            }
        } finally {
            buf.limit(end);
            writingSince = IDLE;
        }
    }

    private void pad(long n) throws IOException {
        while (n > 0) {
            ByteBuffer zeroes = PADDING.duplicate().clear().limit((int) Math.min(n, PADDING.capacity()));
            n -= zeroes.remaining();
            send(zeroes);
        }
    }

    private void write(ByteBuffer reply) throws IOException {
        lock.lock();
        try {
            send(reply);
        } finally {
            lock.unlock();
        }
    }
}
