package dev.dmp.agent.nbd;

import dev.dmp.agent.nbd.tls.NbdTls;

/**
 * What an agent's NBD listeners offer and allow, from the {@code dmp.agent.nbd-*} settings: one record
 * handed from the configuration to every listener, handshake and connection, so that a new setting is
 * one field here instead of one more parameter on each of them.
 *
 * @param structuredReplies false: NBD_OPT_STRUCTURED_REPLY is refused and every client gets simple
 *     replies (dmp.agent.nbd-structured-replies)
 * @param limits            what clients may take of the agent
 * @param tls               NBD_OPT_STARTTLS: off, on or required, and the credentials (dmp.agent.nbd-tls*)
 */
public record NbdOptions(boolean structuredReplies, NbdLimits limits, NbdTls tls) {

    /** What a user who sets nothing gets: structured replies, the default limits, no TLS. */
    public static NbdOptions defaults() {
        return new NbdOptions(true, NbdLimits.defaults(), NbdTls.off());
    }

    public NbdOptions withStructuredReplies(boolean on) {
        return new NbdOptions(on, limits, tls);
    }

    public NbdOptions withLimits(NbdLimits limits) {
        return new NbdOptions(structuredReplies, limits, tls);
    }

    public NbdOptions withTls(NbdTls tls) {
        return new NbdOptions(structuredReplies, limits, tls);
    }
}
