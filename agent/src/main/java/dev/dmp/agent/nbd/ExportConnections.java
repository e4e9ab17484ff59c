package dev.dmp.agent.nbd;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The NBD connections serving one volume, on every listener: counted against
 * {@code dmp.agent.nbd-max-connections-per-volume} when they choose it, and stopped cleanly (requests in
 * flight answered first) before the volume's backend closes on a delete.
 */
public final class ExportConnections {
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
     * the sockets close. Waits at most {@link Connection#STOP_SECONDS}; returns how many it had to close
     * with requests still running.
     */
    public int stopAll(String why) {
        return Connection.stopAll(open, why);
    }
}
