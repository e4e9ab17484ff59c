package dev.dmp.agent.backend;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.ReplyChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * One request of {@link NbdClient} waiting for its reply, and the reading of the structured chunks that
 * answer it. Every chunk is held to the request it answers (spec, "Structured reply chunk message"): data
 * and holes within the request's range, block status of the context asked for, error messages within
 * their chunk. A chunk that breaks a rule is the server's fault and ends the connection (IOException);
 * an error chunk is the request's failure. A READ that ends without error must have been covered whole.
 */
final class PendingRequest {
    /** The most a chunk may carry beyond a READ's data: the spec lets a chunk exceed the maximum by its overhead. */
    private static final int MAX_BLOCK_STATUS = 4 + 8 * (1 << 20);
    /** How much of a BLOCK_STATUS chunk's descriptors is read at once (whole descriptors of 8 bytes). */
    private static final int DESCRIPTORS_READ = 8 << 10;

    final int type;
    final long offset;
    final long length;
    /** A READ's destination (its position is the request's offset), else null. */
    final ByteBuffer dst;
    /** A BLOCK_STATUS's destination, else null. */
    final Extents extents;

    final CompletableFuture<NbdClient.Result> done = new CompletableFuture<>();
    private long covered;
    /** The READ's ranges sent so far, start -> end (relative to its offset). */
    private java.util.TreeMap<Long, Long> sent;

    private int error;
    private String message = "";
    private boolean status;

    PendingRequest(int type, long offset, long length, ByteBuffer dst, Extents extents) {
        this.type = type;
        this.offset = offset;
        this.length = length;
        this.dst = dst;
        this.extents = extents;
    }

    /** Reads the payload of chunk {@code c} (its header already read) and takes in what it says. */
    void chunk(ReplyChunk c, ReadableByteChannel ch, int allocationContext) throws IOException {
        long n = c.payloadLength();
        switch (c.type()) {
            case NBD_REPLY_TYPE_NONE -> {
                require(n == 0 && c.done(), "a NONE chunk with a payload, or not the last");
            }
            case NBD_REPLY_TYPE_OFFSET_DATA -> {
                require(dst != null && n > 8 && n - 8 <= length, "an OFFSET_DATA chunk of " + n + " bytes");
                long at = readLong(ch) - offset;
                cover(at, n - 8);
                Channels.readFully(ch, dst.slice(dst.position() + (int) at, (int) (n - 8)));
            }
            case NBD_REPLY_TYPE_OFFSET_HOLE -> {
                require(dst != null && n == 12, "an OFFSET_HOLE chunk of " + n + " bytes");
                ByteBuffer b = read(ch, 12);
                long at = b.getLong() - offset;
                long size = Integer.toUnsignedLong(b.getInt());
                require(size > 0, "a hole of 0 bytes");
                cover(at, size);
                Zeroes.fill(dst.slice(dst.position() + (int) at, (int) size));
            }
            case NBD_REPLY_TYPE_BLOCK_STATUS -> {
                require(
                        extents != null && n >= 12 && (n - 4) % 8 == 0 && n <= MAX_BLOCK_STATUS,
                        "a BLOCK_STATUS chunk of " + n + " bytes");
                boolean ours = read(ch, 4).getInt() == allocationContext;
                require(!(ours && status), "two BLOCK_STATUS chunks for one context");
                status |= ours;
                // Descriptors are read 8 KiB at a time, as they arrive: a chunk that announces 8 MiB
                // and sends a few bytes must not cost 8 MiB.
                ByteBuffer b = ByteBuffer.allocate((int) Math.min(n - 4, DESCRIPTORS_READ));
                for (long left = n - 4; left > 0; left -= b.limit()) {
                    Channels.readFully(ch, b.clear().limit((int) Math.min(left, b.capacity())));
                    b.flip();
                    while (ours && b.hasRemaining()) {
                        long extent = Integer.toUnsignedLong(b.getInt());
                        int flags = b.getInt();
                        require(extent > 0, "an extent of 0 bytes");
                        extents.add(extent, flags & (NBD_STATE_HOLE | NBD_STATE_ZERO));
                    }
                }
            }
            default -> {
                require((c.type() & 0x8000) != 0, "chunk type " + c.type());
                // An error chunk (known or not): error, message, then fields of its type.
                require(n >= 6 && n <= 6 + 4096 + 8, "an error chunk of " + n + " bytes");
                ByteBuffer b = read(ch, (int) n);
                int e = b.getInt();
                int textLength = Short.toUnsignedInt(b.getShort());
                require(e != 0 && textLength <= b.remaining(), "an error chunk with error 0 or a message past its end");
                byte[] text = new byte[textLength];
                b.get(text);
                if (error == 0) {
                    error = e;
                    message = new String(text, StandardCharsets.UTF_8);
                }
            }
        }
    }

    /** Takes [at, at + n) of a READ (relative to its offset) as sent: within the READ, overlapping nothing sent before. */
    private void cover(long at, long n) throws IOException {
        // at + n could wrap past 2^63 for an offset far beyond the READ: compare without adding.
        require(at >= 0 && n <= length && at <= length - n, "data or a hole outside the READ");
        if (sent == null) {
            sent = new java.util.TreeMap<>();
        }
        var before = sent.floorEntry(at);
        var after = sent.ceilingEntry(at);
        require(
                (before == null || before.getValue() <= at) && (after == null || after.getKey() >= at + n),
                "data or holes that overlap");
        sent.put(at, at + n);
        covered += n;
    }

    /** The request's result once its last chunk came. */
    NbdClient.Result result() throws IOException {
        if (error != 0) {
            return new NbdClient.Result(error, message);
        }
        require(dst == null || covered == length, "a READ answered with " + covered + " of " + length + " bytes");
        require(extents == null || status, "a BLOCK_STATUS answered without the status of base:allocation");
        return NbdClient.Result.OK;
    }

    private static void require(boolean ok, String what) throws IOException {
        if (!ok) {
            throw new IOException("the server broke the protocol: " + what);
        }
    }

    private static long readLong(ReadableByteChannel ch) throws IOException {
        return read(ch, 8).getLong();
    }

    private static ByteBuffer read(ReadableByteChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        Channels.readFully(ch, b);
        return b.flip();
    }
}
