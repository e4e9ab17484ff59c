package dev.dmp.agent.nbd;

/**
 * What an agent's NBD listeners offer and allow, from the {@code dmp.agent.nbd-*} settings: one record
 * handed from the configuration to every listener, handshake and connection, so that a new setting is
 * one field here instead of one more parameter on each of them.
 *
 * @param structuredReplies false: NBD_OPT_STRUCTURED_REPLY is refused and every client gets simple
 *     replies (dmp.agent.nbd-structured-replies)
 * @param limits            what clients may take of the agent
 */
public record NbdOptions(boolean structuredReplies, NbdLimits limits) {

    /** What a user who sets nothing gets. */
    public static NbdOptions defaults() {
        return new NbdOptions(true, NbdLimits.defaults());
    }

    public NbdOptions withLimits(NbdLimits limits) {
        return new NbdOptions(structuredReplies, limits);
    }
}
