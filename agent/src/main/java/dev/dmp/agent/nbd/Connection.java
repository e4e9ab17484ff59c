package dev.dmp.agent.nbd;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * One accepted NBD connection, as its listener's {@link Watchdog} and a stop see it: when it was
 * accepted, whether its handshake is over, the transmission loop serving it, and the volume it joined.
 * A stop ({@link #stop}, then {@link #finish}) lets the requests it already runs answer, refuses new
 * ones with NBD_ESHUTDOWN, and only then closes the socket.
 */
final class Connection {
    private static final Logger LOG = Logger.getLogger(Connection.class);

    final long id;
    final SocketChannel channel;
    final long acceptedNanos;

    private TransmissionLoop loop;
    private boolean stopping;
    private volatile String who;
    /** The volume's connections this one counts in (joined at NBD_OPT_GO), or null. */
    private volatile ExportConnections joined;

    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile boolean closedHere;

    Connection(long id, SocketChannel channel, long acceptedNanos) {
        this.id = id;
        this.channel = channel;
        this.acceptedNanos = acceptedNanos;
        this.who = "connection " + id;
    }

    String who() {
        return who;
    }

    void named(String who) {
        this.who = who;
    }

    /** The loop serving it, or null while the handshake runs. */
    synchronized TransmissionLoop loop() {
        return loop;
    }

    /** Hands the connection to its transmission loop; false when a stop came first. */
    synchronized boolean begin(TransmissionLoop loop) {
        if (stopping) {
            return false;
        }
        this.loop = loop;
        return true;
    }

    synchronized boolean stopping() {
        return stopping;
    }

    void joined(ExportConnections volume) {
        this.joined = volume;
    }

    /**
     * Begins a stop: a connection still in its handshake is closed now (nothing of it runs); one in
     * transmission refuses new requests with NBD_ESHUTDOWN and goes on answering those it runs.
     */
    void stop(String why) {
        TransmissionLoop serving;
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
            serving = loop;
        }
        if (serving == null) {
            close();
        } else {
            serving.stop(why);
        }
    }

    /**
     * Ends a stop begun by {@link #stop}: waits until the requests in flight are answered (until
     * {@code deadlineNanos} of System.nanoTime at most), then closes the socket and waits for the
     * connection's thread to finish. Returns false when it had to close with requests still running.
     */
    boolean finish(long deadlineNanos) {
        TransmissionLoop serving = loop();
        boolean answered = serving == null || serving.awaitAnswered(deadlineNanos - System.nanoTime());
        if (!answered) {
            LOG.warnf("%s: requests still running at the stop's deadline; closing it anyway", who);
        }
        close();
        try {
            ended.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return answered;
    }

    /** True once the agent closed the socket itself (a stop, the watchdog), which said why. */
    boolean closedHere() {
        return closedHere;
    }

    /** Closes the socket at once: blocked reads and writes on it end with an exception. */
    void close() {
        closedHere = true;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debugf("%s: close: %s", who, e);
        }
    }

    /** How long a stop lets requests in flight finish before it closes their connections. */
    static final long STOP_SECONDS = 5;

    /**
     * Stops {@code connections} together (each {@link #stop}, then each {@link #finish} within one
     * deadline of {@link #STOP_SECONDS}); returns how many had to be closed with requests still running.
     */
    static int stopAll(Collection<Connection> connections, String why) {
        List<Connection> stopping = List.copyOf(connections);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_SECONDS);
        stopping.forEach(c -> c.stop(why));
        int unanswered = 0;
        for (Connection c : stopping) {
            unanswered += c.finish(deadline) ? 0 : 1;
        }
        return unanswered;
    }

    /** Called once by the connection's thread when it is done with the connection. */
    void ended() {
        ExportConnections volume = joined;
        if (volume != null) {
            volume.leave(this);
        }
        ended.countDown();
    }
}
