package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.OptionFrames.CLIENT_FLAGS;
import static dev.dmp.agent.nbd.OptionFrames.GREETING;
import static dev.dmp.agent.nbd.OptionFrames.export;
import static dev.dmp.agent.nbd.OptionFrames.option;
import static dev.dmp.agent.nbd.OptionFrames.reply;
import static dev.dmp.agent.nbd.OptionFrames.text;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static dev.dmp.agent.protocol.Wire.concat;
import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.protocol.Wire;
import org.junit.jupiter.api.Test;

/**
 * NBD_OPT_STRUCTURED_REPLY, byte for byte: acknowledged once, and what it changes in the export's
 * transmission flags (NBD_FLAG_SEND_DF, which only means something with structured replies).
 */
class StructuredReplyOptionTest {
    private final Export dmp1 = new Export("dmp1", new SparseBackend(1 << 20), false, () -> RequestObserver.NONE);
    private final Catalog catalog = new Catalog(dmp1);

    /** NBD_INFO_EXPORT of dmp1: 1 MiB and its flags. */
    private static byte[] infoExport(String flags) {
        return hex("0000 0000000000100000" + flags);
    }

    private static final byte[] INFO_BLOCK_SIZE = hex("0003 00000001 00001000 02000000");
    /** HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_TRIM | SEND_WRITE_ZEROES | CAN_MULTI_CONN | SEND_CACHE | SEND_FAST_ZERO. */
    private static final String FLAGS = "0d6d";
    /** The same and NBD_FLAG_SEND_DF (1 << 7). */
    private static final String FLAGS_DF = "0ded";

    private static ScriptedChannel client(byte[]... options) {
        return new ScriptedChannel(concat(hex(CLIENT_FLAGS), concat(options)));
    }

    private static byte[] go(String flags) {
        return concat(
                reply(NBD_OPT_GO, NBD_REP_INFO, infoExport(flags)),
                reply(NBD_OPT_GO, NBD_REP_INFO, INFO_BLOCK_SIZE),
                reply(NBD_OPT_GO, NBD_REP_ACK));
    }

    private static void assertWire(byte[] expected, ScriptedChannel ch) {
        assertEquals(Wire.hex(expected), Wire.hex(ch.written()));
    }

    @Test
    void structuredRepliesAreAcknowledgedAndTheExportOffersDf() throws Exception {
        ScriptedChannel ch = client(option(NBD_OPT_STRUCTURED_REPLY), option(NBD_OPT_GO, export("dmp1")));
        assertEquals(new Session(dmp1, true, 0), new Handshake(ch, catalog).negotiate());
        assertWire(concat(hex(GREETING), reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK), go(FLAGS_DF)), ch);
    }

    @Test
    void withoutStructuredRepliesDfIsNotOffered() throws Exception {
        ScriptedChannel ch = client(option(NBD_OPT_GO, export("dmp1")));
        assertEquals(Session.simple(dmp1), new Handshake(ch, catalog).negotiate());
        assertWire(concat(hex(GREETING), go(FLAGS)), ch);
    }

    /**
     * The spec leaves a repeat open ("or with an error permitted elsewhere"); servers refuse it as a
     * duplicate (libnbd documents that a second request "returns false because the server detected a
     * duplicate request"), and the first one stands.
     */
    @Test
    void aSecondRequestIsRefusedAndTheFirstStands() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY), option(NBD_OPT_STRUCTURED_REPLY), option(NBD_OPT_GO, export("dmp1")));
        assertEquals(new Session(dmp1, true, 0), new Handshake(ch, catalog).negotiate());
        assertWire(
                concat(
                        hex(GREETING),
                        reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK),
                        reply(
                                NBD_OPT_STRUCTURED_REPLY,
                                NBD_REP_ERR_INVALID,
                                text("structured replies are already negotiated")),
                        go(FLAGS_DF)),
                ch);
    }

    /** dmp.agent.nbd-structured-replies=false: refused as unsupported, so the client goes on with simple replies. */
    @Test
    void anAgentWithStructuredRepliesOffRefusesThemAsUnsupported() throws Exception {
        ScriptedChannel ch = client(option(NBD_OPT_STRUCTURED_REPLY), option(NBD_OPT_GO, export("dmp1")));
        assertEquals(
                Session.simple(dmp1),
                new Handshake(ch, catalog, NbdOptions.defaults().withStructuredReplies(false)).negotiate());
        assertWire(
                concat(
                        hex(GREETING),
                        reply(
                                NBD_OPT_STRUCTURED_REPLY,
                                NBD_REP_ERR_UNSUP,
                                text(
                                        "structured replies are turned off on this agent (dmp.agent.nbd-structured-replies)")),
                        go(FLAGS)),
                ch);
    }

    /** "The client MUST NOT send any additional data with the option, and the server SHOULD reject" it. */
    @Test
    void theOptionWithDataIsRefusedAndNegotiatesNothing() throws Exception {
        ScriptedChannel ch = client(option(NBD_OPT_STRUCTURED_REPLY, hex("00")), option(NBD_OPT_GO, export("dmp1")));
        assertEquals(Session.simple(dmp1), new Handshake(ch, catalog).negotiate());
        assertWire(
                concat(
                        hex(GREETING),
                        reply(
                                NBD_OPT_STRUCTURED_REPLY,
                                NBD_REP_ERR_INVALID,
                                text("NBD_OPT_STRUCTURED_REPLY takes no data")),
                        go(FLAGS)),
                ch);
    }

    @Test
    void exportNameAfterStructuredRepliesOffersDfToo() throws Exception {
        ScriptedChannel ch = client(option(NBD_OPT_STRUCTURED_REPLY), option(NBD_OPT_EXPORT_NAME, text("dmp1")));
        assertEquals(new Session(dmp1, true, 0), new Handshake(ch, catalog).negotiate());
        // size and flags, no padding (NO_ZEROES)
        assertWire(
                concat(hex(GREETING), reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK), hex("0000000000100000" + FLAGS_DF)),
                ch);
    }
}
