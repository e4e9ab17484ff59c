package dev.dmp.agent.nbd;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What all of an agent's NBD listeners draw from together: the count of open connections
 * ({@code dmp.agent.nbd-max-connections}) and the payload budget
 * ({@code dmp.agent.nbd-max-payload}). One per agent, shared by its listeners.
 */
public final class AgentLimits {
    private final NbdLimits limits;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong refused = new AtomicLong();
    private final PayloadBudget payload;

    public AgentLimits(NbdLimits limits) {
        this.limits = limits;
        this.payload = PayloadBudget.agent(limits.agentPayload());
    }

    NbdLimits limits() {
        return limits;
    }

    /** Counts a new connection in, unless {@link NbdLimits#maxConnections} are open already. */
    boolean open() {
        while (true) {
            int n = connections.get();
            if (n >= limits.maxConnections()) {
                return false;
            }
            if (connections.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void closed() {
        connections.decrementAndGet();
    }

    /** Counts a connection refused at a limit (the agent's or a volume's). */
    void refused() {
        refused.incrementAndGet();
    }

    /** Connections refused at a limit since the agent started. */
    public long refusals() {
        return refused.get();
    }

    /** Connections open now on all listeners. */
    public int connections() {
        return connections.get();
    }

    /** A new connection's payload budget, drawn from the agent's. */
    PayloadBudget connectionBudget() {
        return payload.connection(limits.connectionPayload());
    }

    /** Payload bytes the agent has not lent out (for tests). */
    int payloadAvailable() {
        return payload.available();
    }
}
