package dev.dmp.agent.nbd;

import dev.dmp.agent.nbd.tls.TlsMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The agent's NBD listeners: the unix socket always, TCP when configured, and the benchmark's
 * uncounted socket when configured (the same exports with no observers). Started together, closed
 * together; a failure to listen names the configuration key.
 */
public final class NbdListeners implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NbdListeners.class);

    private final List<NbdServer> servers = new ArrayList<>();
    private volatile boolean listening;
    /** What the listeners draw from together; null until they start. */
    private volatile AgentLimits shared;

    /**
     * Starts every listener.
     *
     * @param tcp       the TCP address, or null for none
     * @param uncounted the benchmark's uncounted socket, or null for none
     * @param options   what every listener offers and allows
     */
    public void start(Path socket, InetSocketAddress tcp, Path uncounted, ExportCatalog exports, NbdOptions options) {
        if (!options.structuredReplies()) {
            LOG.infof("dmp.agent.nbd-structured-replies=false: every client gets simple replies, no block status");
        }
        if (options.tls().credentials() != null) {
            LOG.infof(
                    "dmp.agent.nbd-tls=%s: %s",
                    options.tls().mode(), options.tls().credentials().describe());
        }
        if (tcp != null
                && !tcp.getAddress().isLoopbackAddress()
                && options.tls().mode() != TlsMode.REQUIRE) {
            LOG.warnf(
                    "dmp.agent.nbd-bind: %s is beyond loopback, and with dmp.agent.nbd-tls=%s plaintext clients are served",
                    tcp.getAddress().getHostAddress(), options.tls().mode());
        }
        shared = new AgentLimits(options.limits());
        try {
            servers.add(NbdServer.start(socket, exports, options, shared));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "dmp.agent.nbd-socket: cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        if (tcp != null) {
            try {
                servers.add(NbdServer.startTcp(tcp, exports, options, shared));
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "dmp.agent.nbd-port / dmp.agent.nbd-bind: cannot listen on " + tcp + ": " + e.getMessage(), e);
            }
        }
        if (uncounted != null) {
            try {
                servers.add(NbdServer.start(uncounted, exports.unobserved(), options, shared));
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "dmp.agent.benchmark-uncounted-socket: cannot listen on " + uncounted + ": " + e.getMessage(),
                        e);
            }
            LOG.warnf(
                    "dmp.agent.benchmark-uncounted-socket: %s serves every volume WITHOUT counting (a benchmark switch)",
                    uncounted);
        }
        listening = true;
    }

    /** NBD connections open on all listeners (the kernel's devices are not among them). */
    public int connections() {
        AgentLimits s = shared;
        return s == null ? 0 : s.connections();
    }

    /** Connections refused at a limit: the agent's (dmp.agent.nbd-max-connections) or a volume's. */
    public long refusals() {
        AgentLimits s = shared;
        return s == null ? 0 : s.refusals();
    }

    /** True once the unix socket listens, until the listeners close. */
    public boolean listening() {
        return listening;
    }

    /** Closes every listener and its connections. Idempotent (a drain, then the shutdown). */
    @Override
    public synchronized void close() {
        listening = false;
        for (NbdServer server : servers) {
            try {
                server.close();
            } catch (IOException e) {
                LOG.warnf("closing the NBD server: %s", e);
            }
        }
    }
}
