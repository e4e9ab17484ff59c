package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.Extents;
import dev.dmp.agent.protocol.ReplyChunks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * How one connection answers NBD_CMD_READ. With simple replies: the data, read into a buffer or, where
 * the loop may, sent with sendfile. With structured replies the backend is asked first what the range
 * holds (for READs of at least {@link #SPARSE_MIN}; below it a query costs more than it can save), and
 * what reads as zeroes goes as OFFSET_HOLE chunks, never as bytes; the data as OFFSET_DATA chunks. A
 * client that sets NBD_CMD_FLAG_DF gets one data chunk, zeroes included.
 */
final class Reads {
    private static final Logger LOG = Logger.getLogger(Reads.class);

    /** The smallest READ whose holes are looked for (one extents query: a system call or two). */
    static final int SPARSE_MIN = 64 << 10;
    /** At most this many chunks in one READ's reply: past it the rest goes as data. */
    static final int MAX_CHUNKS = 64;

    /** What a READ's reply sent: {@code error} 0 when it succeeded, and how many bytes went as holes. */
    record Sent(int error, long holeBytes) {}

    private final Backend backend;
    private final Replies replies;
    private final BufferPool buffers;
    /** READs of at least {@code transferMin} go from the backend straight into the socket. */
    private final boolean zeroCopy;

    private final int transferMin;

    Reads(Backend backend, Replies replies, BufferPool buffers, boolean zeroCopy, int transferMin) {
        this.backend = backend;
        this.replies = replies;
        this.buffers = buffers;
        this.zeroCopy = zeroCopy;
        this.transferMin = transferMin;
    }

    /** Answers a checked READ. */
    Sent serve(Received r) throws IOException {
        if (r.length() == 0 && replies.structured()) {
            // A content chunk describes at least one byte (OFFSET_DATA's length is at least 9): a READ of
            // nothing is answered with NONE, success without content.
            replies.chunks(ReplyChunks.none(r.cookie()));
            return new Sent(NBD_OK, 0);
        }
        boolean whole = !replies.structured() || (r.flags() & NBD_CMD_FLAG_DF) != 0 || r.length() < SPARSE_MIN;
        if (whole) {
            return data(r);
        }
        Extents extents = new Extents(r.offset(), r.length(), MAX_CHUNKS);
        try {
            backend.extents(extents);
        } catch (IOException | RuntimeException e) {
            // Not knowing where the holes are is no reason to fail a READ: all of it is data then.
            LOG.debugf(
                    "%s at offset %d, length %d: extents unknown (%s): sent as data",
                    r.commandName(), r.offset(), r.length(), e);
            return data(r);
        }
        if (extents.count() == 1 && !zero(extents.flags(0)) && extents.covered() == r.length()) {
            return data(r);
        }
        return sparse(r, extents);
    }

    private static boolean zero(int flags) {
        return (flags & NBD_STATE_ZERO) != 0;
    }

    /** The whole range as data: one simple reply or one data chunk. */
    private Sent data(Received r) throws IOException {
        if (zeroCopy && r.length() >= transferMin) {
            // With structured replies the one data chunk is the last when all of the range is there to
            // send: a NONE chunk after it would be a second write and, for a client waiting on this READ,
            // a second wake-up (12% of a sequential 1 MiB read at depth 1, bench/ab.sh). Where the file
            // ends before the range (it shrank), the chunk stays open so an error chunk can follow.
            boolean last = !replies.structured() || backend.transferable(r.offset(), r.length()) == r.length();
            boolean sent = replies.transfer(r, backend, r.offset(), r.length(), last);
            if (sent && !last) {
                replies.chunks(ReplyChunks.none(r.cookie()));
            }
            return new Sent(sent ? NBD_OK : NBD_EIO, 0);
        }
        ByteBuffer reply = buffers.take(replies.dataHeaderSize() + (int) r.length());
        try {
            try {
                backend.read(
                        r.offset(), reply.position(replies.dataHeaderSize()).slice());
            } catch (IOException | RuntimeException e) {
                int error = Failures.error(e);
                replies.errorAt(r, error, Failures.message(r, r.offset(), r.length(), e), r.offset());
                return new Sent(error, 0);
            }
            replies.data(r, reply);
            return new Sent(NBD_OK, 0);
        } finally {
            buffers.give(reply);
        }
    }

    /**
     * Holes as OFFSET_HOLE chunks, data as OFFSET_DATA chunks, in order, the last one marked done. The
     * data is read before anything is sent (with sendfile, as it is sent, no data chunk is the last, so
     * that a failure can still be told, and a NONE chunk ends the reply).
     */
    private Sent sparse(Received r, Extents extents) throws IOException {
        long holes = 0;
        List<long[]> parts = new ArrayList<>(extents.count() + 1); // offset, length, zero (1) or data (0)
        long at = r.offset();
        for (int i = 0; i < extents.count(); i++) {
            parts.add(new long[] {at, extents.length(i), zero(extents.flags(i)) ? 1 : 0});
            at += extents.length(i);
        }
        if (at < r.offset() + r.length()) {
            parts.add(new long[] {at, r.offset() + r.length() - at, 0}); // past the chunk limit: data
        }
        if (zeroCopy) {
            for (long[] p : parts) {
                if (p[2] == 1) {
                    replies.chunks(ReplyChunks.hole(r.cookie(), false, p[0], (int) p[1]));
                    holes += p[1];
                } else if (!replies.transfer(r, backend, p[0], p[1], false)) {
                    return new Sent(NBD_EIO, holes);
                }
            }
            replies.chunks(ReplyChunks.none(r.cookie()));
            return new Sent(NBD_OK, holes);
        }
        ByteBuffer data = buffers.take((int) r.length());
        try {
            ByteBuffer[] chunks = new ByteBuffer[parts.size() * 2];
            int n = 0;
            for (int i = 0; i < parts.size(); i++) {
                long[] p = parts.get(i);
                boolean last = i == parts.size() - 1;
                if (p[2] == 1) {
                    chunks[n++] = ReplyChunks.hole(r.cookie(), last, p[0], (int) p[1]);
                    holes += p[1];
                    continue;
                }
                ByteBuffer slice = data.slice((int) (p[0] - r.offset()), (int) p[1]);
                try {
                    backend.read(p[0], slice.duplicate());
                } catch (IOException | RuntimeException e) {
                    int error = Failures.error(e);
                    replies.errorAt(r, error, Failures.message(r, p[0], p[1], e), p[0]);
                    return new Sent(error, 0);
                }
                chunks[n++] = ReplyChunks.dataHeader(r.cookie(), last, p[0], (int) p[1]);
                chunks[n++] = slice;
            }
            replies.chunks(Arrays.copyOf(chunks, n));
            return new Sent(NBD_OK, holes);
        } finally {
            buffers.give(data);
        }
    }
}
