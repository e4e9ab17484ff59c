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
import jdk.net.ExtendedSocketOptions;
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
    /** What all the agent's listeners draw from: open connections, payload in flight. */
    private final AgentLimits shared;

    private final ServerSocketChannel listener;
    /**
     * Requests run on platform threads, pooled: a virtual thread that writes a reply would switch the
     * socket to non-blocking for good, and every read and write after that would go read, EAGAIN,
     * poll, read (and a virtual thread's file I/O wakes a compensating carrier); blocking sockets also
     * let large READs go out with sendfile. Measured: about a third less server CPU per 4 KiB write.
     */
    private final ExecutorService workers = Executors.newCachedThreadPool(
            Thread.ofPlatform().name("nbd-io-", 0).daemon().factory());
    /** At most one line per this many seconds about connections refused at the agent's limit. */
    private static final long REFUSAL_LOG_SECONDS = 10;

    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicLong refusedUnlogged = new AtomicLong();
    private volatile long lastRefusalLog = System.nanoTime() - TimeUnit.SECONDS.toNanos(REFUSAL_LOG_SECONDS);
    private final Watchdog watchdog;
    /**
     * Payload buffers shared by every connection of this listener, so that the memory kept for reuse is
     * bounded by this figure, not by the number of connections.
     */
    private final BufferPool buffers = new BufferPool(64L << 20);

    private final Thread acceptor;
    private boolean closed;

    private NbdServer(
            Path socketPath,
            String where,
            ExportCatalog catalog,
            NbdOptions options,
            AgentLimits shared,
            ServerSocketChannel listener) {
        this.socketPath = socketPath;
        this.where = where;
        this.catalog = catalog;
        this.options = options;
        this.shared = shared;
        this.listener = listener;
        this.watchdog = new Watchdog(where, connections, options.limits());
        this.acceptor = Thread.ofVirtual().name("nbd-accept").unstarted(this::acceptLoop);
    }

    /** Binds the socket (replacing a stale one left by a previous run) and starts accepting. */
    public static NbdServer start(Path socketPath, ExportCatalog catalog) throws IOException {
        return start(socketPath, catalog, NbdOptions.defaults());
    }

    /** As {@link #start(Path, ExportCatalog)}, with what the listener offers and allows, sharing no limit. */
    public static NbdServer start(Path socketPath, ExportCatalog catalog, NbdOptions options) throws IOException {
        return start(socketPath, catalog, options, new AgentLimits(options.limits()));
    }

    /** As {@link #start(Path, ExportCatalog)}; {@code shared} is what the agent's listeners draw from together. */
    public static NbdServer start(Path socketPath, ExportCatalog catalog, NbdOptions options, AgentLimits shared)
            throws IOException {
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
        NbdServer server = new NbdServer(socketPath, "unix socket " + socketPath, catalog, options, shared, listener);
        server.acceptor.start();
        LOG.infof("NBD server listening on %s", server.where);
        return server;
    }

    /** Listens on a TCP address (off unless configured: NBD has no authentication without TLS). */
    public static NbdServer startTcp(
            InetSocketAddress address, ExportCatalog catalog, NbdOptions options, AgentLimits shared)
            throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open(family(address));
        try {
            listener.bind(address, BACKLOG);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        NbdServer server = new NbdServer(null, "tcp " + listener.getLocalAddress(), catalog, options, shared, listener);
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
                if (!shared.open()) {
                    refuse(ch);
                    continue;
                }
                Connection c = new Connection(connectionIds.incrementAndGet(), ch, System.nanoTime());
                connections.add(c);
                try {
                    if (socketPath == null) {
                        tcpOptions(ch);
                    }
                    // The connection's reader is a platform thread: its blocking socket reads go straight
                    // to the kernel instead of through the virtual-thread poller, a hop that costs latency
                    // at queue depth 1.
                    Thread.ofPlatform().name("nbd-conn-" + c.id).daemon().start(() -> serve(c));
                } catch (IOException | RuntimeException | OutOfMemoryError e) {
                    // No thread for it (the system's limit), or a socket that failed at once.
                    LOG.warnf("%s: cannot serve it: %s", c.who(), e);
                    c.close();
                    ended(c);
                }
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.warnf("NBD accept failed: %s", e);
            }
        }
    }

    /**
     * Replies are written whole, so waiting to coalesce them only adds latency (TCP_NODELAY); keepalive
     * finds a peer that vanished (a host that died, a cut network) in about 2 minutes instead of never:
     * first probe after 60 s idle, then every 10 s, 6 unanswered close it. Unix connections need none:
     * their peer is on this host, and a kernel device's may be idle for hours.
     */
    private static void tcpOptions(SocketChannel ch) throws IOException {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        ch.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, 60);
        ch.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, 10);
        ch.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, 6);
    }

    /** Closes a connection past the agent's limit at once; logs the first, then a count now and then. */
    private void refuse(SocketChannel ch) {
        shared.refused();
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debugf("closing a refused connection: %s", e);
        }
        long refused = refusedUnlogged.incrementAndGet();
        long now = System.nanoTime();
        if (now - lastRefusalLog >= TimeUnit.SECONDS.toNanos(REFUSAL_LOG_SECONDS)) {
            lastRefusalLog = now;
            refusedUnlogged.addAndGet(-refused);
            LOG.warnf(
                    "NBD server on %s: refused %d connection%s: the agent has %d open, its limit "
                            + "(dmp.agent.nbd-max-connections)",
                    where, refused, refused == 1 ? "" : "s", shared.limits().maxConnections());
        }
    }

    /** Counts a volume's connection in at NBD_OPT_GO, unless the volume has its limit already. */
    private Handshake.Admission admission(Connection c) {
        int perVolume = options.limits().maxConnectionsPerVolume();
        return export -> {
            if (export.connections().join(c, perVolume)) {
                return null;
            }
            String why = "volume '" + export.name() + "' has " + perVolume
                    + " connections, its limit (dmp.agent.nbd-max-connections-per-volume)";
            shared.refused();
            LOG.infof("%s: refused: %s", c.who(), why);
            return why;
        };
    }

    private void serve(Connection c) {
        String who = c.who();
        SocketChannel ch = c.channel;
        try (ch) {
            Handshake handshake = new Handshake(ch, catalog, options, admission(c));
            Session session = handshake.negotiate();
            if (session == null) {
                LOG.debugf("%s: left during the handshake", who);
                return;
            }
            who += " to " + session.export().name();
            c.named(who);
            // Over TLS: no sendfile (the bytes must be encrypted on the way), and closing the channel
            // ends TLS (close_notify) before the socket closes.
            ByteChannel transport = handshake.channel();
            TransmissionLoop loop = new TransmissionLoop(
                    transport, session, workers, buffers, !handshake.encrypted(), shared.connectionBudget());
            if (!c.begin(loop)) {
                return;
            }
            LOG.debugf(
                    "%s: transmission begins (%s replies%s)",
                    who,
                    session.structuredReplies() ? "structured" : "simple",
                    session.blockStatus() ? ", base:allocation" : "");
            try (transport) {
                loop.run();
            }
            LOG.debugf("%s: closed", who);
        } catch (NbdProtocolException e) {
            LOG.infof("%s: protocol error, closing it: %s", who, e.getMessage());
        } catch (EOFException e) {
            LOG.infof("%s: client went away: %s", who, e.getMessage());
        } catch (IOException e) {
            if (c.stopping() || c.closedHere()) {
                // Closed here: by a stop, or by the watchdog, which said why.
                LOG.debugf("%s: closed: %s", who, e);
            } else {
                LOG.infof("%s: I/O error, closing it: %s", who, e);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            // Workers that refuse a request (the agent is stopping), direct memory that ran out for a
            // payload: this connection ends with its slots given back, the agent and the others go on.
            LOG.warnf("%s: closing it after a failure of the agent's own: %s", who, e);
        } finally {
            ended(c);
        }
    }

    private void ended(Connection c) {
        if (connections.remove(c)) {
            shared.closed();
        }
        c.ended();
    }

    /** Connections open on this listener now. */
    public int connections() {
        return connections.size();
    }

    /** Idempotent: a drain (preStop) closes the server and the shutdown that follows closes it again. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        listener.close();
        // Requests already running are answered and new ones get NBD_ESHUTDOWN, for a few seconds; then
        // the sockets close and requests still running are interrupted, so a stop never waits for ever
        // on a backend that stopped answering (an upstream NBD server going down at the same time waits
        // for us to close our connection to it: neither would move).
        int unanswered = Connection.stopAll(connections, "the agent is stopping");
        if (unanswered > 0) {
            LOG.warnf(
                    "NBD server on %s: requests still running after %d s on %d connection%s; closed them, "
                            + "interrupting the requests",
                    where, Connection.STOP_SECONDS, unanswered, unanswered == 1 ? "" : "s");
        }
        watchdog.close();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(1, TimeUnit.SECONDS)) {
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
