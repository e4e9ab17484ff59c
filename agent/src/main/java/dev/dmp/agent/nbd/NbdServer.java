package dev.dmp.agent.nbd;

import dev.dmp.agent.protocol.NbdProtocolException;
import java.io.EOFException;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Serves the exports of a catalog over NBD on a unix socket or a TCP address: one platform thread per
 * connection for the handshake and the request reader, and a pooled platform thread per request in
 * flight. Every thread that touches a connection's socket is a platform thread, so it stays blocking.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NbdServer.class);
    /**
     * Connections the kernel queues before they are accepted. Java's default (50) made libnbd clients
     * that open hundreds of connections at once fail with EAGAIN ("server backlog overflowed") on the
     * unix socket; the kernel caps this at net.core.somaxconn.
     */
    static final int BACKLOG = 1024;

    /** The unix socket, or null for a TCP listener. */
    private final Path socketPath;

    private final String where;
    private final ExportCatalog catalog;
    private final NbdOptions options;

    private final ServerSocketChannel listener;
    /**
     * Requests run on platform threads, pooled: a virtual thread that writes a reply would switch the
     * socket to non-blocking for good, and every read and write after that would go read, EAGAIN,
     * poll, read (and a virtual thread's file I/O wakes a compensating carrier); blocking sockets also
     * let large READs go out with sendfile. Measured: about a third less server CPU per 4 KiB write.
     */
    private final ExecutorService workers = Executors.newCachedThreadPool(
            Thread.ofPlatform().name("nbd-io-", 0).daemon().factory());
    /** How long {@link #close} lets requests in flight finish before it interrupts them. */
    private static final long DRAIN_SECONDS = 5;

    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    /**
     * Payload buffers shared by every connection of this listener, so that the memory kept for reuse is
     * bounded by this figure, not by the number of connections.
     */
    private final BufferPool buffers = new BufferPool(64L << 20);

    private final Thread acceptor;
    private boolean closed;

    private NbdServer(
            Path socketPath, String where, ExportCatalog catalog, NbdOptions options, ServerSocketChannel listener) {
        this.socketPath = socketPath;
        this.where = where;
        this.catalog = catalog;
        this.options = options;
        this.listener = listener;
        this.acceptor = Thread.ofVirtual().name("nbd-accept").unstarted(this::acceptLoop);
    }

    /** Binds the socket (replacing a stale one left by a previous run) and starts accepting. */
    public static NbdServer start(Path socketPath, ExportCatalog catalog) throws IOException {
        return start(socketPath, catalog, NbdOptions.defaults());
    }

    /** As {@link #start(Path, ExportCatalog)}, with what the listener offers and allows. */
    public static NbdServer start(Path socketPath, ExportCatalog catalog, NbdOptions options) throws IOException {
        Path dir = socketPath.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Files.deleteIfExists(socketPath);
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            listener.bind(UnixDomainSocketAddress.of(socketPath), BACKLOG);
            // Owner and group only: whoever can connect can read and write every volume.
            Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        NbdServer server = new NbdServer(socketPath, "unix socket " + socketPath, catalog, options, listener);
        server.acceptor.start();
        LOG.infof("NBD server listening on %s", server.where);
        return server;
    }

    /** Listens on a TCP address (off unless configured: NBD has no authentication without TLS). */
    public static NbdServer startTcp(InetSocketAddress address, ExportCatalog catalog, NbdOptions options)
            throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open(family(address));
        try {
            listener.bind(address, BACKLOG);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        NbdServer server = new NbdServer(null, "tcp " + listener.getLocalAddress(), catalog, options, listener);
        server.acceptor.start();
        LOG.infof("NBD server listening on %s", server.where);
        return server;
    }

    private static StandardProtocolFamily family(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET;
    }

    public Path socketPath() {
        return socketPath;
    }

    private void acceptLoop() {
        while (listener.isOpen()) {
            try {
                SocketChannel ch = listener.accept();
                if (socketPath == null) {
                    // Replies are written whole; waiting to coalesce them only adds latency.
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                }
                long id = connectionIds.incrementAndGet();
                connections.add(ch);
                // The connection's reader is a platform thread: its blocking socket reads go straight to
                // the kernel instead of through the virtual-thread poller, a hop that costs latency at
                // queue depth 1. Requests still run on virtual threads.
                Thread.ofPlatform().name("nbd-conn-" + id).daemon().start(() -> serve(id, ch));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.warnf("NBD accept failed: %s", e);
            }
        }
    }

    private void serve(long id, SocketChannel ch) {
        String who = "connection " + id;
        try (ch) {
            Handshake handshake = new Handshake(ch, catalog, options);
            Session session = handshake.negotiate();
            if (session == null) {
                LOG.debugf("%s: left during the handshake", who);
                return;
            }
            who += " to " + session.export().name();
            LOG.debugf(
                    "%s: transmission begins (%s replies%s)",
                    who,
                    session.structuredReplies() ? "structured" : "simple",
                    session.blockStatus() ? ", base:allocation" : "");
            // Over TLS: no sendfile (the bytes must be encrypted on the way), and closing the channel
            // ends TLS (close_notify) before the socket closes.
            try (ByteChannel transport = handshake.channel()) {
                new TransmissionLoop(transport, session, workers, buffers, !handshake.encrypted()).run();
            }
            LOG.debugf("%s: closed", who);
        } catch (NbdProtocolException e) {
            LOG.infof("%s: protocol error, closing it: %s", who, e.getMessage());
        } catch (EOFException e) {
            LOG.infof("%s: client went away: %s", who, e.getMessage());
        } catch (IOException e) {
            if (listener.isOpen()) {
                LOG.infof("%s: I/O error, closing it: %s", who, e);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            // Workers that refuse a request (the agent is stopping), direct memory that ran out for a
            // payload: this connection ends with its slots given back, the agent and the others go on.
            LOG.warnf("%s: closing it after a failure of the agent's own: %s", who, e);
        } finally {
            connections.remove(ch);
        }
    }

    /** Idempotent: a drain (preStop) closes the server and the shutdown that follows closes it again. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        listener.close();
        for (SocketChannel ch : connections) {
            ch.close();
        }
        // Requests still running get a few seconds to answer; then they are interrupted, so a shutdown
        // never waits for ever on a backend that stopped answering (an upstream NBD server going down
        // at the same time waits for us to close our connection to it: neither would move).
        workers.shutdown();
        try {
            if (!workers.awaitTermination(DRAIN_SECONDS, TimeUnit.SECONDS)) {
                LOG.warnf(
                        "NBD server on %s: requests still running after %d s; interrupting them", where, DRAIN_SECONDS);
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
        if (socketPath != null) {
            Files.deleteIfExists(socketPath);
        }
        LOG.infof("NBD server on %s stopped", where);
    }
}
