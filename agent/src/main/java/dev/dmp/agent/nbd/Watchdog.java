package dev.dmp.agent.nbd;

import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Drops a listener's connections whose client stalls the server: one still in its handshake at the
 * handshake timeout (a client that dawdles, or one of many that open sockets and send nothing), and
 * one whose reply write has blocked for the write timeout (a client that stopped reading: its workers
 * wait on the socket, and closing it frees them). One thread per listener looks a few times per
 * timeout, so a stalled client holds its connection thread at most a little past the deadline.
 */
final class Watchdog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Watchdog.class);

    private final Collection<Connection> connections;
    private final long handshakeNanos;
    private final long writeNanos;
    private final ScheduledExecutorService timer;

    Watchdog(String where, Collection<Connection> connections, NbdLimits limits) {
        this.connections = connections;
        this.handshakeNanos = limits.handshakeTimeout().toNanos();
        this.writeNanos = limits.writeTimeout().toNanos();
        this.timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("nbd-watchdog " + where).daemon().factory());
        long period = period(limits.handshakeTimeout(), limits.writeTimeout());
        timer.scheduleWithFixedDelay(this::look, period, period, TimeUnit.MILLISECONDS);
    }

    /** A quarter of the shorter timeout, between 20 ms and 1 s: a drop comes at most that late. */
    static long period(Duration handshake, Duration write) {
        long shorter = Math.min(handshake.toMillis(), write.toMillis());
        return Math.clamp(shorter / 4, 20, 1000);
    }

    private void look() {
        long now = System.nanoTime();
        for (Connection c : connections) {
            TransmissionLoop loop = c.loop();
            if (loop == null && !c.stopping() && now - c.acceptedNanos > handshakeNanos) {
                LOG.infof(
                        "%s: handshake not finished within %d ms (dmp.agent.nbd-handshake-timeout); dropping it",
                        c.who(), TimeUnit.NANOSECONDS.toMillis(handshakeNanos));
                c.close();
            } else if (loop != null && loop.replyBlockedFor(now) > writeNanos) {
                LOG.infof(
                        "%s: the client has not read its replies for %d ms (dmp.agent.nbd-write-timeout); "
                                + "disconnecting it",
                        c.who(), TimeUnit.NANOSECONDS.toMillis(writeNanos));
                c.close();
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
