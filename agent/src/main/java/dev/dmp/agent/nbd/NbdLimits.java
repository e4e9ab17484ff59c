package dev.dmp.agent.nbd;

import java.time.Duration;

/**
 * What one client, or many, may take of an agent through its NBD listeners: each a
 * {@code dmp.agent.nbd-*} setting (docs/agent.md, "NBD limits"), checked by {@code AgentSettings}.
 *
 * @param maxConnections          connections open at once on all the agent's listeners; past it a new
 *     one is closed as soon as it is accepted
 * @param maxConnectionsPerVolume connections to one volume; past it NBD_OPT_GO gets NBD_REP_ERR_POLICY
 * @param handshakeTimeout        time from accept to the end of the handshake; a client still haggling
 *     then is dropped
 * @param maxOptions              options one handshake may send; the one past it drops the client
 * @param connectionPayload       bytes of READ and WRITE payload one connection may have in flight; a
 *     request past it waits (the connection reads nothing meanwhile)
 * @param agentPayload            the same for all connections together
 * @param writeTimeout            time one reply write may block; a client that stops reading its replies
 *     that long is disconnected, and its requests' workers freed
 */
public record NbdLimits(
        int maxConnections,
        int maxConnectionsPerVolume,
        Duration handshakeTimeout,
        int maxOptions,
        int connectionPayload,
        int agentPayload,
        Duration writeTimeout) {

    /** The defaults, as documented in docs/agent.md. */
    public static NbdLimits defaults() {
        return new NbdLimits(2048, 512, Duration.ofSeconds(10), 256, 64 << 20, 256 << 20, Duration.ofSeconds(60));
    }
}
