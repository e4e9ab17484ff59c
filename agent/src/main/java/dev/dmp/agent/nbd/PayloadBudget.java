package dev.dmp.agent.nbd;

import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Bytes of request payload that may be in flight: a connection's, drawn in turn from the agent's
 * (its {@code parent}), so that neither one client nor all of them together can make the agent
 * allocate past the bound. A request past it waits in {@link #take} on the connection's reader, which
 * then reads nothing more from its socket: the client is held back by TCP's (or the unix socket's)
 * own flow control, and memory stays bounded.
 */
final class PayloadBudget {
    /** How often a waiting reader looks whether its connection was closed meanwhile. */
    private static final long POLL_MILLIS = 100;

    private final Semaphore bytes;
    private final int capacity;
    private final PayloadBudget parent;

    PayloadBudget(int capacity, PayloadBudget parent) {
        this.bytes = new Semaphore(capacity);
        this.capacity = capacity;
        this.parent = parent;
    }

    /** An agent's budget, shared by its connections. */
    static PayloadBudget agent(int capacity) {
        return new PayloadBudget(capacity, null);
    }

    /** A connection's budget of {@code capacity} bytes, drawn from this one. */
    PayloadBudget connection(int capacity) {
        return new PayloadBudget(capacity, this);
    }

    /** Bytes not taken (for tests and logs). */
    int available() {
        return bytes.availablePermits();
    }

    /**
     * Takes {@code n} bytes (at most the capacity: a larger request is refused before it gets here),
     * waiting for them; a connection closed meanwhile ends the wait with ClosedChannelException.
     */
    void take(int n, Channel connection) throws IOException {
        if (n == 0) {
            return; // FLUSH, TRIM, BLOCK_STATUS...: no payload, no shared semaphore touched
        }
        acquire(n, connection);
        if (parent != null) {
            try {
                parent.take(n, connection);
            } catch (IOException | RuntimeException e) {
                bytes.release(n);
                throw e;
            }
        }
    }

    void give(int n) {
        if (n == 0) {
            return;
        }
        if (parent != null) {
            parent.give(n);
        }
        bytes.release(n);
    }

    private void acquire(int n, Channel connection) throws IOException {
        if (n > capacity) {
            throw new IllegalArgumentException(n + " bytes is over the budget's " + capacity);
        }
        try {
            while (!bytes.tryAcquire(n, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                if (!connection.isOpen()) {
                    throw new ClosedChannelException();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClosedChannelException();
        }
    }
}
