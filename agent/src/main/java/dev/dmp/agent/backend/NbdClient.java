package dev.dmp.agent.backend;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.NbdUri;
import dev.dmp.agent.protocol.ReplyChunk;
import dev.dmp.agent.protocol.SimpleReply;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;

/**
 * A small NBD client on one connection: fixed newstyle, structured replies and the
 * {@code base:allocation} context when the server has them, NBD_OPT_GO. Any number of threads may send
 * requests at once; requests are written whole under a lock and one reader thread matches replies to
 * requests by cookie, reading READ payloads (simple, or structured data and holes) straight into the
 * caller's buffer. Every reply is checked against the request it answers: a server that sends a chunk
 * out of range, a length that does not add up or an unknown chunk type is dropped, as the spec allows.
 * When the connection breaks every request in flight, and every later one, fails with an IOException.
 */
public final class NbdClient implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NbdClient.class);

    /** Default block-size limits when the server sends no NBD_INFO_BLOCK_SIZE (spec: block size constraints). */
    private static final int DEFAULT_MAX_BLOCK = 32 * 1024 * 1024;

    private static final int HANDSHAKE_TIMEOUT_SECONDS = 10;

    private final NbdUri uri;
    private final SocketChannel ch;
    private final long size;
    private final int flags;
    private final int maxBlock;
    private final int minBlock;
    private final boolean structured;
    /** The id the server gave {@code base:allocation}, or -1 when it has none. */
    private final int allocationContext;

    private final ReentrantLock sendLock = new ReentrantLock();
    private final ConcurrentHashMap<Long, PendingRequest> pending = new ConcurrentHashMap<>();
    private final AtomicLong cookies = new AtomicLong();
    private volatile IOException broken;

    /** The server's answer: 0 or an NBD error, and the message of a structured error chunk (else ""). */
    public record Result(int error, String message) {
        static final Result OK = new Result(NBD_OK, "");
    }

    /** What the handshake learnt. */
    private record Negotiated(
            long size, int flags, int minBlock, int maxBlock, boolean structured, int allocationContext) {}

    private NbdClient(NbdUri uri, SocketChannel ch, Negotiated n) {
        this.uri = uri;
        this.ch = ch;
        this.size = n.size();
        this.flags = n.flags();
        this.minBlock = n.minBlock();
        this.maxBlock = n.maxBlock();
        this.structured = n.structured();
        this.allocationContext = n.allocationContext();
    }

    /** Connects, negotiates the export with NBD_OPT_GO and starts reading replies. */
    public static NbdClient connect(NbdUri uri) throws IOException {
        SocketChannel ch =
                uri.socket() != null ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        try {
            if (uri.socket() != null) {
                ch.connect(uri.address());
            } else {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.socket().connect((InetSocketAddress) uri.address(), HANDSHAKE_TIMEOUT_SECONDS * 1000);
            }
        } catch (IOException e) {
            ch.close();
            throw new IOException(uri + ": " + e.getMessage(), e);
        }
        // An upstream that accepts and then says nothing must not hold volume creation forever: the
        // handshake runs on its own thread and the socket is closed if it has not finished in time.
        CompletableFuture<NbdClient> handshake = new CompletableFuture<>();
        Thread.ofVirtual().name("nbd-client-handshake").start(() -> {
            try {
                handshake.complete(negotiate(uri, ch));
            } catch (IOException | RuntimeException e) {
                handshake.completeExceptionally(e);
            }
        });
        try {
            return handshake.get(HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            ch.close();
            throw new IOException(uri + ": no NBD handshake within " + HANDSHAKE_TIMEOUT_SECONDS + " s");
        } catch (ExecutionException e) {
            ch.close();
            throw e.getCause() instanceof IOException io
                    ? io
                    : new IOException(uri + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            ch.close();
            Thread.currentThread().interrupt();
            throw new IOException(uri + ": interrupted during the handshake", e);
        }
    }

    private static NbdClient negotiate(NbdUri uri, SocketChannel ch) throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        Channels.readFully(ch, greeting);
        greeting.flip();
        if (greeting.getLong() != NBDMAGIC || greeting.getLong() != IHAVEOPT) {
            throw new IOException(uri + ": not a newstyle NBD server");
        }
        int serverFlags = Short.toUnsignedInt(greeting.getShort());
        if ((serverFlags & NBD_FLAG_FIXED_NEWSTYLE) == 0) {
            throw new IOException(uri + ": the server does not speak fixed newstyle");
        }
        int clientFlags = NBD_FLAG_C_FIXED_NEWSTYLE | (serverFlags & NBD_FLAG_NO_ZEROES);
        Channels.writeFully(ch, ByteBuffer.allocate(4).putInt(clientFlags).flip());
        byte[] name = uri.export().getBytes(StandardCharsets.UTF_8);

        // Structured replies, then base:allocation: what lets block status pass through. A server
        // without them is served with simple replies and reports all data.
        option(ch, NBD_OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0));
        boolean structured = optionReplies(uri, ch, NBD_OPT_STRUCTURED_REPLY, (type, data) -> {}) == NBD_REP_ACK;
        int[] allocation = {-1};
        if (structured) {
            byte[] query = BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            option(
                    ch,
                    NBD_OPT_SET_META_CONTEXT,
                    ByteBuffer.allocate(4 + name.length + 4 + 4 + query.length)
                            .putInt(name.length)
                            .put(name)
                            .putInt(1)
                            .putInt(query.length)
                            .put(query)
                            .flip());
            optionReplies(uri, ch, NBD_OPT_SET_META_CONTEXT, (type, data) -> {
                if (type == NBD_REP_META_CONTEXT && data.remaining() >= 4) {
                    int id = data.getInt();
                    if (StandardCharsets.UTF_8.decode(data).toString().equals(BASE_ALLOCATION)) {
                        allocation[0] = id;
                    }
                }
            });
        }

        option(
                ch,
                NBD_OPT_GO,
                ByteBuffer.allocate(4 + name.length + 2 + 2)
                        .putInt(name.length)
                        .put(name)
                        .putShort((short) 1)
                        .putShort((short) NBD_INFO_BLOCK_SIZE)
                        .flip());
        long[] size = {-1};
        int[] info = {0, 1, DEFAULT_MAX_BLOCK}; // flags, minimum and maximum block size
        int go = optionReplies(uri, ch, NBD_OPT_GO, (type, data) -> {
            if (type == NBD_REP_INFO && data.remaining() >= 2) {
                int what = Short.toUnsignedInt(data.getShort());
                if (what == NBD_INFO_EXPORT && data.remaining() >= 10) {
                    size[0] = data.getLong();
                    info[0] = Short.toUnsignedInt(data.getShort());
                } else if (what == NBD_INFO_BLOCK_SIZE && data.remaining() >= 12) {
                    long min = Integer.toUnsignedLong(data.getInt());
                    data.getInt();
                    info[1] = min >= 1 && min <= 65536 && Long.bitCount(min) == 1 ? (int) min : 1;
                    info[2] = (int) Math.min(Integer.toUnsignedLong(data.getInt()), DEFAULT_MAX_BLOCK);
                }
            }
        });
        if (go != NBD_REP_ACK) {
            throw new IOException(uri + ": the server refused export '" + uri.export() + "'");
        }
        if (size[0] < 0) {
            throw new IOException(uri + ": the server did not send NBD_INFO_EXPORT");
        }
        NbdClient client = new NbdClient(
                uri,
                ch,
                new Negotiated(
                        size[0],
                        info[0],
                        info[1],
                        Math.max(info[2], Math.max(512, info[1])),
                        structured,
                        allocation[0]));
        Thread.ofVirtual().name("nbd-client-" + uri).start(client::readReplies);
        return client;
    }

    private static void option(SocketChannel ch, int option, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(16);
        header.putLong(IHAVEOPT).putInt(option).putInt(data.remaining());
        Channels.writeFully(ch, header.flip());
        Channels.writeFully(ch, data);
    }

    /** One reply of an option: its type and data. */
    private interface OptionReply {
        void take(int type, ByteBuffer data);
    }

    /**
     * Reads an option's replies up to its last: NBD_REP_ACK, or an error (its type is returned; NBD_OPT_GO's
     * error is raised with the server's message), passing each other reply to {@code each}.
     */
    private static int optionReplies(NbdUri uri, SocketChannel ch, int option, OptionReply each) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(20);
        while (true) {
            header.clear();
            Channels.readFully(ch, header);
            header.flip();
            if (header.getLong() != OPTION_REPLY_MAGIC) {
                throw new IOException(uri + ": bad option reply magic");
            }
            int replyTo = header.getInt();
            int type = header.getInt();
            int length = header.getInt();
            if (replyTo != option) {
                throw new IOException(
                        uri + ": a reply to option " + replyTo + " where " + optionName(option) + "'s was due");
            }
            if (length < 0 || length > MAX_OPTION_LENGTH) {
                throw new IOException(uri + ": option reply of " + Integer.toUnsignedString(length) + " bytes");
            }
            ByteBuffer data = ByteBuffer.allocate(length);
            Channels.readFully(ch, data);
            data.flip();
            if (type == NBD_REP_ACK) {
                return type;
            }
            if ((type & NBD_REP_FLAG_ERROR) != 0) {
                if (option == NBD_OPT_GO) {
                    throw new IOException(uri + ": the server refused export '" + uri.export() + "' (reply type 0x"
                            + Integer.toHexString(type) + "): " + StandardCharsets.UTF_8.decode(data));
                }
                return type;
            }
            each.take(type, data);
        }
    }

    public long size() {
        return size;
    }

    /** The export's transmission flags, as the server sent them. */
    public int flags() {
        return flags;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** The largest READ or WRITE payload this client sends in one request. */
    public int maxBlock() {
        return maxBlock;
    }

    /** The server's minimum block size (1 unless it said otherwise): requests must be multiples of it. */
    public int minBlock() {
        return minBlock;
    }

    /** True when the server has structured replies and {@code base:allocation}: block status passes through. */
    public boolean hasBlockStatus() {
        return structured && allocationContext >= 0;
    }

    /**
     * Sends one request and waits for its reply. For a READ, {@code data} receives the payload; for a
     * WRITE it is sent. Its length is the request's.
     */
    public Result request(int type, int cmdFlags, long offset, long length, ByteBuffer data) throws IOException {
        return send(
                new PendingRequest(type, offset, length, type == NBD_CMD_READ ? data : null, null),
                cmdFlags,
                type == NBD_CMD_WRITE ? data : null);
    }

    /** NBD_CMD_BLOCK_STATUS of {@code extents}' range: the server's base:allocation extents go into it. */
    public Result blockStatus(Extents extents) throws IOException {
        long length = Math.min(extents.remaining(), 0xffffffffL & ~(minBlock - 1L));
        return send(new PendingRequest(NBD_CMD_BLOCK_STATUS, extents.next(), length, null, extents), 0, null);
    }

    private Result send(PendingRequest p, int cmdFlags, ByteBuffer payload) throws IOException {
        long cookie = cookies.incrementAndGet();
        pending.put(cookie, p);
        if (broken != null) {
            pending.remove(cookie);
            throw new IOException(uri + ": connection lost: " + broken.getMessage(), broken);
        }
        ByteBuffer header = ByteBuffer.allocate(NbdRequest.SIZE);
        new NbdRequest(cmdFlags, p.type, cookie, p.offset, p.length).encode(header);
        header.flip();
        sendLock.lock();
        try {
            if (payload != null) {
                ByteBuffer[] both = {header, payload};
                while (payload.hasRemaining()) {
                    ch.write(both);
                }
            } else {
                Channels.writeFully(ch, header);
            }
        } catch (IOException e) {
            fail(e);
        } finally {
            sendLock.unlock();
        }
        try {
            return p.done.get();
        } catch (ExecutionException e) {
            throw new IOException(uri + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(uri + ": interrupted", e);
        }
    }

    private void readReplies() {
        // Every reply is at least a simple reply's 16 bytes, a chunk header 4 more: one read of 16 says
        // which it is, and a simple reply (every reply of a server without structured replies) needs no
        // second read.
        ByteBuffer header = ByteBuffer.allocate(ReplyChunk.SIZE);
        try {
            while (true) {
                header.clear().limit(SimpleReply.SIZE);
                if (!Channels.readFullyOrEof(ch, header)) {
                    throw new EOFException("the server closed the connection");
                }
                int m = header.getInt(0);
                if (m == NBD_SIMPLE_REPLY_MAGIC) {
                    SimpleReply reply = SimpleReply.decode(header.flip());
                    PendingRequest p = take(reply.cookie());
                    if (p.type == NBD_CMD_BLOCK_STATUS && reply.error() == NBD_OK) {
                        throw new IOException("a simple reply to BLOCK_STATUS");
                    }
                    if (p.dst != null && reply.error() == NBD_OK) {
                        Channels.readFully(ch, p.dst.duplicate());
                    }
                    pending.remove(reply.cookie());
                    p.done.complete(reply.error() == NBD_OK ? Result.OK : new Result(reply.error(), ""));
                } else if (m == NBD_STRUCTURED_REPLY_MAGIC && structured) {
                    Channels.readFully(ch, header.limit(ReplyChunk.SIZE));
                    ReplyChunk c = ReplyChunk.decodeAfterMagic(header.position(4));
                    PendingRequest p = take(c.cookie());
                    p.chunk(c, ch, allocationContext);
                    if (c.done()) {
                        // Judged while still pending: a reply that does not add up fails the connection,
                        // and with it this request (fail() completes what is pending).
                        Result result = p.result();
                        pending.remove(c.cookie());
                        p.done.complete(result);
                    }
                } else {
                    throw new IOException(String.format("bad reply magic 0x%08x", m));
                }
            }
        } catch (IOException e) {
            fail(e);
        } catch (NbdProtocolException e) {
            fail(new IOException(e.getMessage(), e));
        } catch (RuntimeException e) {
            // A reply this reader could not take in (a check it lacks): the connection is dropped as for
            // any broken reply; were the thread to die, every request in flight would wait for ever.
            LOG.errorf(e, "upstream %s: reply not understood", uri);
            fail(new IOException("the server's reply could not be read: " + e, e));
        }
    }

    /** The request a reply answers; an unknown cookie ends the connection. */
    private PendingRequest take(long cookie) throws IOException {
        PendingRequest p = pending.get(cookie);
        if (p == null) {
            throw new IOException("reply for unknown cookie " + cookie);
        }
        return p;
    }

    private void fail(IOException e) {
        if (broken == null) {
            broken = e;
            if (ch.isOpen()) {
                LOG.warnf("upstream %s: connection lost: %s", uri, e.getMessage());
            }
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // Closing is all that is left to do.
        }
        for (Long cookie : pending.keySet()) {
            PendingRequest p = pending.remove(cookie);
            if (p != null) {
                p.done.completeExceptionally(e);
            }
        }
    }

    @Override
    public String toString() {
        return uri.toString();
    }

    /** Sends NBD_CMD_DISC and closes the connection. */
    @Override
    public void close() throws IOException {
        if (broken == null && ch.isOpen()) {
            ByteBuffer header = ByteBuffer.allocate(NbdRequest.SIZE);
            new NbdRequest(0, NBD_CMD_DISC, 0, 0, 0).encode(header);
            sendLock.lock();
            try {
                Channels.writeFully(ch, header.flip());
            } catch (IOException ignored) {
                // The server went first; nothing to tell it.
            } finally {
                sendLock.unlock();
            }
        }
        IOException closed = new IOException("closed by dmp");
        broken = closed;
        fail(closed);
    }
}
