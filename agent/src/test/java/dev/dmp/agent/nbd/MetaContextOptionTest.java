package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.OptionFrames.CLIENT_FLAGS;
import static dev.dmp.agent.nbd.OptionFrames.GREETING;
import static dev.dmp.agent.nbd.OptionFrames.export;
import static dev.dmp.agent.nbd.OptionFrames.metaContexts;
import static dev.dmp.agent.nbd.OptionFrames.option;
import static dev.dmp.agent.nbd.OptionFrames.reply;
import static dev.dmp.agent.nbd.OptionFrames.text;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static dev.dmp.agent.protocol.Wire.concat;
import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.dmp.agent.protocol.Wire;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT, byte for byte (spec, "Metadata querying" and
 * "The base: metadata namespace"): base:allocation is dmp's one context; LIST's ids are 0, SET's is the
 * id the session then puts in its BLOCK_STATUS replies.
 */
class MetaContextOptionTest {
    private final Export dmp1 = new Export("dmp1", new SparseBackend(1 << 20), false, () -> RequestObserver.NONE);
    private final Export dmp2 = new Export("dmp2", new SparseBackend(1 << 20), false, () -> RequestObserver.NONE);
    private final Catalog catalog = new Catalog(dmp1, dmp2);

    /** NBD_REP_META_CONTEXT's data: the id, then the name (no length: the reply's length says it). */
    private static byte[] context(int id) {
        return concat(hex(String.format("%08x", id)), text("base:allocation"));
    }

    private static ScriptedChannel client(byte[]... options) {
        return new ScriptedChannel(concat(hex(CLIENT_FLAGS), concat(options)));
    }

    /** What the server wrote after its greeting and the ACK of NBD_OPT_STRUCTURED_REPLY. */
    private static String afterStructuredReplies(ScriptedChannel ch) {
        byte[] head = concat(hex(GREETING), reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK));
        byte[] all = ch.written();
        assertEquals(Wire.hex(head), Wire.hex(Arrays.copyOf(all, head.length)));
        return Wire.hex(Arrays.copyOfRange(all, head.length, all.length));
    }

    /** The server's replies to GO dmp1 or dmp2 (both 1 MiB) once structured replies are on: DF is offered. */
    private static byte[] go() {
        return concat(
                reply(NBD_OPT_GO, NBD_REP_INFO, hex("0000 0000000000100000 0ded")),
                reply(NBD_OPT_GO, NBD_REP_INFO, hex("0003 00000001 00001000 02000000")),
                reply(NBD_OPT_GO, NBD_REP_ACK));
    }

    @Test
    void listWithNoQueryOffersBaseAllocationWithTheReservedId() throws Exception {
        ScriptedChannel ch =
                client(option(NBD_OPT_STRUCTURED_REPLY), option(NBD_OPT_LIST_META_CONTEXT, metaContexts("dmp1")));
        assertNull(new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(concat(
                        reply(NBD_OPT_LIST_META_CONTEXT, NBD_REP_META_CONTEXT, context(0)),
                        reply(NBD_OPT_LIST_META_CONTEXT, NBD_REP_ACK))),
                afterStructuredReplies(ch));
    }

    /** "base:" is the namespace's wildcard, which LIST MUST support; the full name lists itself. */
    @Test
    void listOfTheBaseNamespaceOrOfTheContextOffersIt() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_LIST_META_CONTEXT, metaContexts("dmp1", "base:")),
                option(NBD_OPT_LIST_META_CONTEXT, metaContexts("dmp1", "base:allocation")));
        assertNull(new Handshake(ch, catalog).negotiate());
        byte[] offered = concat(
                reply(NBD_OPT_LIST_META_CONTEXT, NBD_REP_META_CONTEXT, context(0)),
                reply(NBD_OPT_LIST_META_CONTEXT, NBD_REP_ACK));
        assertEquals(Wire.hex(concat(offered, offered)), afterStructuredReplies(ch));
    }

    /** Queries of an unknown namespace, or of an unknown leaf of base:, MUST be ignored: an ACK alone. */
    @Test
    void listOfWhatDmpDoesNotHaveOffersNothing() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_LIST_META_CONTEXT, metaContexts("dmp1", "x-dmp:dirty")),
                option(NBD_OPT_LIST_META_CONTEXT, metaContexts("dmp1", "base:dirty", "qemu:dirty-bitmap:")));
        assertNull(new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(concat(
                        reply(NBD_OPT_LIST_META_CONTEXT, NBD_REP_ACK), reply(NBD_OPT_LIST_META_CONTEXT, NBD_REP_ACK))),
                afterStructuredReplies(ch));
    }

    @Test
    void setSelectsBaseAllocationAndTheSessionCarriesItsId() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_SET_META_CONTEXT, metaContexts("dmp1", "x-dmp:dirty", "base:allocation")),
                option(NBD_OPT_GO, export("dmp1")));
        assertEquals(new Session(dmp1, true, 1), new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(concat(
                        reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_META_CONTEXT, context(1)),
                        reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_ACK),
                        go())),
                afterStructuredReplies(ch));
    }

    /** "This option MUST NOT be requested unless structured replies have been negotiated first ... SHOULD send NBD_REP_ERR_INVALID". */
    @Test
    void setBeforeStructuredRepliesIsRefusedAndSelectsNothing() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_SET_META_CONTEXT, metaContexts("dmp1", "base:allocation")),
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_GO, export("dmp1")));
        assertEquals(new Session(dmp1, true, 0), new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(concat(
                        hex(GREETING),
                        reply(
                                NBD_OPT_SET_META_CONTEXT,
                                NBD_REP_ERR_INVALID,
                                text("NBD_OPT_SET_META_CONTEXT needs NBD_OPT_STRUCTURED_REPLY first")),
                        reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK),
                        go())),
                Wire.hex(ch.written()));
    }

    /** An unknown namespace is ignored, and "base:" MUST be ignored by SET: nothing selected, no error. */
    @Test
    void setOfWhatDmpDoesNotHaveSelectsNothing() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_SET_META_CONTEXT, metaContexts("dmp1", "x-dmp:dirty", "base:")),
                option(NBD_OPT_GO, export("dmp1")));
        assertEquals(new Session(dmp1, true, 0), new Handshake(ch, catalog).negotiate());
        assertEquals(Wire.hex(concat(reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_ACK), go())), afterStructuredReplies(ch));
    }

    /** "Issuing this command replaces all previously-set metadata contexts": a later SET of nothing clears it. */
    @Test
    void aLaterSetReplacesTheSelection() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_SET_META_CONTEXT, metaContexts("dmp1", "base:allocation")),
                option(NBD_OPT_SET_META_CONTEXT, metaContexts("dmp1")),
                option(NBD_OPT_GO, export("dmp1")));
        assertEquals(new Session(dmp1, true, 0), new Handshake(ch, catalog).negotiate());
    }

    /** "... even when it fails": a SET refused for its export still clears the earlier selection. */
    @Test
    void aFailedSetClearsTheSelectionToo() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_SET_META_CONTEXT, metaContexts("dmp1", "base:allocation")),
                option(NBD_OPT_SET_META_CONTEXT, metaContexts("nope", "base:allocation")),
                option(NBD_OPT_GO, export("dmp1")));
        assertEquals(new Session(dmp1, true, 0), new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(concat(
                        reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_META_CONTEXT, context(1)),
                        reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_ACK),
                        reply(NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_UNKNOWN, text("no export named 'nope'")),
                        go())),
                afterStructuredReplies(ch));
    }

    /** BLOCK_STATUS needs the selection made for "the same export name that was ultimately selected". */
    @Test
    void theSelectionHoldsForItsExportOnly() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_SET_META_CONTEXT, metaContexts("dmp1", "base:allocation")),
                option(NBD_OPT_GO, export("dmp2")));
        assertEquals(new Session(dmp2, true, 0), new Handshake(ch, catalog).negotiate());
    }

    /** "a query length that would require reading beyond the original length ... MUST fail ... NBD_REP_ERR_INVALID". */
    @Test
    void aQueryLongerThanTheOptionIsRefused() throws Exception {
        // export "dmp1", 1 query, announced as 16 bytes, 4 sent
        ScriptedChannel ch = client(
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_LIST_META_CONTEXT, hex("00000004 646d7031 00000001 00000010 62617365")));
        assertNull(new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(
                        reply(
                                NBD_OPT_LIST_META_CONTEXT,
                                NBD_REP_ERR_INVALID,
                                text(
                                        "NBD_OPT_LIST_META_CONTEXT: the export name or a query does not fit the option's length"))),
                afterStructuredReplies(ch));
    }
}
