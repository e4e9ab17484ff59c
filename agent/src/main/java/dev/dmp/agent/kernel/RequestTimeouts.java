package dev.dmp.agent.kernel;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The kernel's timeouts a device gets: the agent's ({@code dmp.agent.kernel-timeout},
 * {@code dmp.agent.kernel-dead-conn-timeout}), with the request timeout of its volume instead when the
 * volume was created with one (CreateVolume.kernel_timeout_seconds). Those are remembered per volume
 * so that the checkpoint keeps them for the next start's attach.
 */
final class RequestTimeouts {
    private final KernelTimeouts agent;
    /** Volume -> its own request timeout in seconds; only volumes that have one. */
    private final ConcurrentMap<String, Long> own = new ConcurrentHashMap<>();

    RequestTimeouts(KernelTimeouts agent) {
        this.agent = agent;
    }

    /** The agent's timeouts, with a request timeout of {@code requestSeconds} when it is not 0. */
    KernelTimeouts with(long requestSeconds) {
        return requestSeconds > 0 ? new KernelTimeouts(requestSeconds, agent.deadConnSeconds()) : agent;
    }

    /** Keeps the volume's own request timeout, if it has one (0: it has none). */
    void remember(String volume, long requestSeconds) {
        if (requestSeconds > 0) {
            own.put(volume, requestSeconds);
        }
    }

    /** The volume's own request timeout, 0 when it uses the agent's. */
    long of(String volume) {
        return own.getOrDefault(volume, 0L);
    }

    void forget(String volume) {
        own.remove(volume);
    }
}
