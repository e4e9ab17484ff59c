package dev.dmp.agent.backend;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.NbdUri;
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
 * A small NBD client on one connection: fixed newstyle, NBD_OPT_GO, simple replies. Any number of
 * threads may send requests at once; requests are written whole under a lock and one reader thread
 * matches replies to requests by cookie, reading READ payloads straight into the caller's buffer.
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
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong cookies = new AtomicLong();
    private volatile IOException broken;

    private record Pending(ByteBuffer dst, CompletableFuture<Integer> done) {}

    private NbdClient(NbdUri uri, SocketChannel ch, long size, int flags, int maxBlock) {
        this.uri = uri;
        this.ch = ch;
        this.size = size;
        this.flags = flags;
        this.maxBlock = maxBlock;
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
        byte[] name = uri.export().getBytes(StandardCharsets.UTF_8);
        ByteBuffer go = ByteBuffer.allocate(4 + 16 + 4 + name.length + 2 + 2);
        go.putInt(clientFlags)
                .putLong(IHAVEOPT)
                .putInt(NBD_OPT_GO)
                .putInt(4 + name.length + 2 + 2)
                .putInt(name.length)
                .put(name)
                .putShort((short) 1)
                .putShort((short) NBD_INFO_BLOCK_SIZE);
        Channels.writeFully(ch, go.flip());

        long size = -1;
        int flags = 0;
        int maxBlock = DEFAULT_MAX_BLOCK;
        ByteBuffer header = ByteBuffer.allocate(20);
        while (true) {
            header.clear();
            Channels.readFully(ch, header);
            header.flip();
            if (header.getLong() != OPTION_REPLY_MAGIC) {
                throw new IOException(uri + ": bad option reply magic");
            }
            header.getInt();
            int type = header.getInt();
            int length = header.getInt();
            if (length < 0 || length > MAX_OPTION_LENGTH) {
                throw new IOException(uri + ": option reply of " + Integer.toUnsignedString(length) + " bytes");
            }
            ByteBuffer data = ByteBuffer.allocate(length);
            Channels.readFully(ch, data);
            data.flip();
            if (type == NBD_REP_ACK) {
                break;
            }
            if ((type & NBD_REP_FLAG_ERROR) != 0) {
                throw new IOException(uri + ": the server refused export '" + uri.export() + "' (reply type 0x"
                        + Integer.toHexString(type) + "): " + StandardCharsets.UTF_8.decode(data));
            }
            if (type == NBD_REP_INFO && length >= 2) {
                int info = Short.toUnsignedInt(data.getShort());
                if (info == NBD_INFO_EXPORT && length >= 12) {
                    size = data.getLong();
                    flags = Short.toUnsignedInt(data.getShort());
                } else if (info == NBD_INFO_BLOCK_SIZE && length >= 14) {
                    data.getInt();
                    data.getInt();
                    maxBlock = (int) Math.min(Integer.toUnsignedLong(data.getInt()), DEFAULT_MAX_BLOCK);
                }
            }
        }
        if (size < 0) {
            throw new IOException(uri + ": the server did not send NBD_INFO_EXPORT");
        }
        NbdClient client = new NbdClient(uri, ch, size, flags, Math.max(maxBlock, 512));
        Thread.ofVirtual().name("nbd-client-" + uri).start(client::readReplies);
        return client;
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

    /**
     * Sends one request and waits for its reply; returns the server's error (0 for success). For a
     * READ, {@code data} receives the payload; for a WRITE it is sent. Its length is the request's.
     */
    public int request(int type, int cmdFlags, long offset, long length, ByteBuffer data) throws IOException {
        long cookie = cookies.incrementAndGet();
        Pending p = new Pending(type == NBD_CMD_READ ? data : null, new CompletableFuture<>());
        pending.put(cookie, p);
        if (broken != null) {
            pending.remove(cookie);
            throw new IOException(uri + ": connection lost: " + broken.getMessage(), broken);
        }
        ByteBuffer header = ByteBuffer.allocate(NbdRequest.SIZE);
        new NbdRequest(cmdFlags, type, cookie, offset, length).encode(header);
        header.flip();
        sendLock.lock();
        try {
            if (type == NBD_CMD_WRITE) {
                ByteBuffer[] both = {header, data};
                while (data.hasRemaining()) {
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
            return p.done().get();
        } catch (ExecutionException e) {
            throw new IOException(uri + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(uri + ": interrupted", e);
        }
    }

    private void readReplies() {
        ByteBuffer header = ByteBuffer.allocate(SimpleReply.SIZE);
        try {
            while (true) {
                header.clear();
                if (!Channels.readFullyOrEof(ch, header)) {
                    throw new EOFException("the server closed the connection");
                }
                SimpleReply reply = SimpleReply.decode(header.flip());
                Pending p = pending.remove(reply.cookie());
                if (p == null) {
                    throw new IOException("reply for unknown cookie " + reply.cookie());
                }
                if (p.dst() != null && reply.error() == NBD_OK) {
                    Channels.readFully(ch, p.dst());
                }
                p.done().complete(reply.error());
            }
        } catch (IOException e) {
            fail(e);
        } catch (NbdProtocolException e) {
            fail(new IOException(e.getMessage(), e));
        }
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
            Pending p = pending.remove(cookie);
            if (p != null) {
                p.done().completeExceptionally(e);
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
