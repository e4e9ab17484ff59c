package dev.dmp.agent.nbd;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The NBD connections serving one volume, on every listener: counted against
 * {@code dmp.agent.nbd-max-connections-per-volume} when they choose it, and stopped cleanly (requests in
 * flight answered first) before the volume's backend closes on a delete.
 */
public final class ExportConnections {
    /** How long a delete lets requests in flight finish before it closes their connections. */
    static final long STOP_SECONDS = 5;

    private final Set<Connection> open = ConcurrentHashMap.newKeySet();

    /** Counts {@code c} in, unless the volume already has {@code limit} connections. */
    synchronized boolean join(Connection c, int limit) {
        if (open.size() >= limit) {
            return false;
        }
        open.add(c);
        c.joined(this);
        return true;
    }

    void leave(Connection c) {
        open.remove(c);
    }

    /** Connections open now. */
    public int count() {
        return open.size();
    }

    /**
     * Stops every connection: requests already running are answered, new ones get NBD_ESHUTDOWN, then
     * the sockets close. Waits at most {@link #STOP_SECONDS}; returns the connections it stopped.
     */
    public int stopAll(String why) {
        List<Connection> stopping = List.copyOf(open);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_SECONDS);
        stopping.forEach(c -> c.stop(why));
        stopping.forEach(c -> c.finish(deadline));
        return stopping.size();
    }
}
