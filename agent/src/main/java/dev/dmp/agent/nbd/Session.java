package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

/**
 * What a connection's handshake settled: the export it serves, whether its replies are structured
 * (NBD_OPT_STRUCTURED_REPLY), and the id of {@code base:allocation} when it was selected for this export
 * (NBD_OPT_SET_META_CONTEXT; 0 when not, so NBD_CMD_BLOCK_STATUS is refused).
 */
public record Session(Export export, boolean structuredReplies, int allocationContext) {

    /** A connection that negotiated nothing: simple replies, no block status (the kernel's nbd driver). */
    public static Session simple(Export export) {
        return new Session(export, false, 0);
    }

    public boolean blockStatus() {
        return allocationContext != 0;
    }

    /** The export's transmission flags, with NBD_FLAG_SEND_DF when replies are structured. */
    public int transmissionFlags() {
        return export.transmissionFlags() | (structuredReplies ? NBD_FLAG_SEND_DF : 0);
    }
}
