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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.protocol.Wire;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * NBD_REP_INFO replies to NBD_OPT_INFO and NBD_OPT_GO, byte for byte: NBD_INFO_NAME and
 * NBD_INFO_DESCRIPTION when asked for, NBD_INFO_BLOCK_SIZE always, with the export's minimum.
 */
class ExportInfoTest {
    private static final String DESCRIPTION = "dmp volume dmp1 on host h1: sparse:1048576";

    private final Export dmp1 =
            new Export("dmp1", new SparseBackend(1 << 20), false, () -> RequestObserver.NONE, DESCRIPTION);
    /** On a backend that takes 4 KiB requests at least (a 4Kn disk, an upstream that says so). */
    private final Export disk4k =
            new Export("disk4k", new SparseBackend(1 << 20, 4096), false, () -> RequestObserver.NONE);
    /** On a backend with the largest minimum the spec allows. */
    private final Export disk64k =
            new Export("disk64k", new SparseBackend(1 << 20, 65536), false, () -> RequestObserver.NONE);

    private final Catalog catalog = new Catalog(dmp1, disk4k, disk64k);

    private static ScriptedChannel client(byte[]... options) {
        return new ScriptedChannel(concat(hex(CLIENT_FLAGS), concat(options)));
    }

    private static final byte[] INFO_EXPORT = hex("0000 0000000000100000 0d6d");

    @Test
    void nameAndDescriptionAreSentWhenAskedFor() throws Exception {
        ScriptedChannel ch =
                client(option(NBD_OPT_GO, export("dmp1", NBD_INFO_NAME, NBD_INFO_BLOCK_SIZE, NBD_INFO_DESCRIPTION)));
        assertEquals(Session.simple(dmp1), new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(concat(
                        hex(GREETING),
                        reply(NBD_OPT_GO, NBD_REP_INFO, INFO_EXPORT),
                        reply(NBD_OPT_GO, NBD_REP_INFO, hex("0001"), text("dmp1")),
                        reply(NBD_OPT_GO, NBD_REP_INFO, hex("0002"), text(DESCRIPTION)),
                        reply(NBD_OPT_GO, NBD_REP_INFO, hex("0003 00000001 00001000 02000000")),
                        reply(NBD_OPT_GO, NBD_REP_ACK))),
                Wire.hex(ch.written()));
    }

    /** "The server MAY send information requests back which are not explicitly requested": dmp sends only block sizes. */
    @Test
    void nameAndDescriptionAreNotSentUnasked() throws Exception {
        ScriptedChannel ch = client(option(NBD_OPT_INFO, export("dmp1")));
        assertNull(new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(concat(
                        hex(GREETING),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, INFO_EXPORT),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, hex("0003 00000001 00001000 02000000")),
                        reply(NBD_OPT_INFO, NBD_REP_ACK))),
                Wire.hex(ch.written()));
    }

    /** The preferred size is at least the minimum ("MUST be a power of 2 at least as large as" it). */
    @Test
    void blockSizesCarryTheExportsMinimum() throws Exception {
        ScriptedChannel ch = client(
                option(NBD_OPT_INFO, export("disk4k", NBD_INFO_BLOCK_SIZE)),
                option(NBD_OPT_INFO, export("disk64k", NBD_INFO_BLOCK_SIZE)));
        assertNull(new Handshake(ch, catalog).negotiate());
        assertEquals(
                Wire.hex(concat(
                        hex(GREETING),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, INFO_EXPORT),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, hex("0003 00001000 00001000 02000000")),
                        reply(NBD_OPT_INFO, NBD_REP_ACK),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, INFO_EXPORT),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, hex("0003 00010000 00010000 02000000")),
                        reply(NBD_OPT_INFO, NBD_REP_ACK))),
                Wire.hex(ch.written()));
    }

    /** Strings are at most 4096 bytes (spec, "Conventions"): a longer description is cut there. */
    @Test
    void aDescriptionOverTheStringLimitIsCut() throws Exception {
        assertEquals("d".repeat(4096), new String(sentDescription("d".repeat(5000)), StandardCharsets.UTF_8));
    }

    /** The cut never splits a character: 4095 bytes of 'd' then 'é' (2 bytes) is cut before the 'é'. */
    @Test
    void theCutKeepsUtf8Whole() throws Exception {
        String longer = "d".repeat(4095) + "\u00e9" + "d".repeat(10);
        assertEquals("d".repeat(4095), new String(sentDescription(longer), StandardCharsets.UTF_8));
    }

    /**
     * The NBD_INFO_DESCRIPTION payload (after its 16-bit type) sent for an export described by
     * {@code description}, with the whole exchange checked byte for byte around it.
     */
    private static byte[] sentDescription(String description) throws Exception {
        Export wordy = new Export("wordy", new SparseBackend(1 << 20), false, () -> RequestObserver.NONE, description);
        ScriptedChannel ch = client(option(NBD_OPT_INFO, export("wordy", NBD_INFO_DESCRIPTION)));
        assertNull(new Handshake(ch, new Catalog(wordy)).negotiate());
        byte[] written = ch.written();
        ByteBuffer b = ByteBuffer.wrap(written);
        b.position(hex(GREETING).length + reply(NBD_OPT_INFO, NBD_REP_INFO, INFO_EXPORT).length);
        assertEquals(OPTION_REPLY_MAGIC, b.getLong());
        assertEquals(NBD_OPT_INFO, b.getInt());
        assertEquals(NBD_REP_INFO, b.getInt());
        int length = b.getInt();
        assertEquals(NBD_INFO_DESCRIPTION, b.getShort());
        byte[] payload = new byte[length - 2];
        b.get(payload);
        assertEquals(
                Wire.hex(concat(
                        hex(GREETING),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, INFO_EXPORT),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, hex("0002"), payload),
                        reply(NBD_OPT_INFO, NBD_REP_INFO, hex("0003 00000001 00001000 02000000")),
                        reply(NBD_OPT_INFO, NBD_REP_ACK))),
                Wire.hex(written));
        return payload;
    }

    private static String strictUtf8(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
    }

    /**
     * A description of multi-byte characters whose byte limit (4096) falls inside one is cut to the
     * largest prefix of whole characters: 3-byte '€' (1365 of them, 4095 bytes; the 1366th would end
     * at 4098), and a 4-byte character after one 'd' (1 + 1023 * 4 = 4093 bytes; the next spans
     * 4093..4096), a cut three bytes back.
     */
    @Test
    void aCutInsideAMultiByteCharacterKeepsTheLargestWholePrefix() throws Exception {
        assertEquals(4096, MAX_NAME_LENGTH);

        String euros = "\u20ac".repeat(2000);
        byte[] euroCut = sentDescription(euros);
        assertEquals(4095, euroCut.length);
        assertTrue(Arrays.equals(Arrays.copyOf(euros.getBytes(StandardCharsets.UTF_8), 4095), euroCut));
        assertEquals("\u20ac".repeat(1365), strictUtf8(euroCut));

        String faces = "d" + "\ud83d\ude00".repeat(1100); // U+1F600, 4 bytes in UTF-8
        byte[] faceCut = sentDescription(faces);
        assertEquals(4093, faceCut.length);
        assertEquals("d" + "\ud83d\ude00".repeat(1023), strictUtf8(faceCut));
    }
}
