package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.Wire.concat;
import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.Wire;
import dev.dmp.agent.stats.VolumeStats;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The server side of the fixed newstyle handshake, byte for byte: the client's frames are written out
 * in hex, the server's whole output is compared with the frames the spec prescribes.
 */
class HandshakeTest {
    /** NBDMAGIC, IHAVEOPT, handshake flags FIXED_NEWSTYLE | NO_ZEROES. */
    private static final String GREETING = "4e42444d41474943 49484156454f5054 0003";

    private static final String CLIENT_FLAGS_NO_ZEROES = "00000003";
    private static final String CLIENT_FLAGS_FIXED_ONLY = "00000001";
    private static final String IHAVEOPT = "49484156454f5054";
    private static final String REPLY_MAGIC = "0003e889045565a9";
    /**
     * Size 1 MiB, transmission flags HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_TRIM | SEND_WRITE_ZEROES |
     * CAN_MULTI_CONN | SEND_CACHE | SEND_FAST_ZERO = 0x0d6d (a writable memory backend).
     */
    private static final String SIZE_AND_FLAGS = "0000000000100000 0d6d";

    private final Export dmp1 = new Export("dmp1", new MemoryBackend(1 << 20), false, new VolumeStats()::observer);
    private final Export dmp2 = new Export("dmp2", new MemoryBackend(512), false, new VolumeStats()::observer);
    private final ExportCatalog catalog = new ExportCatalog() {
        @Override
        public Export find(String name) {
            return switch (name) {
                case "dmp1" -> dmp1;
                case "dmp2" -> dmp2;
                default -> null;
            };
        }

        @Override
        public List<String> names() {
            return List.of("dmp1", "dmp2");
        }
    };

    private ScriptedChannel client(String... frames) {
        return new ScriptedChannel(hex(String.join("", frames)));
    }

    private static void assertWire(byte[] expected, ScriptedChannel ch) {
        assertEquals(Wire.hex(expected), Wire.hex(ch.written()));
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void greetsAndReturnsNothingWhenTheClientLeaves() throws Exception {
        ScriptedChannel ch = client();
        assertNull(new Handshake(ch, catalog).negotiate());
        assertWire(hex(GREETING), ch);
    }

    @Test
    void listNamesEveryExportThenAcks() throws Exception {
        ScriptedChannel ch = client(CLIENT_FLAGS_NO_ZEROES, IHAVEOPT, "00000003 00000000");
        assertNull(new Handshake(ch, catalog).negotiate());
        assertWire(
                hex(GREETING
                        + REPLY_MAGIC + "00000003 00000002 00000008" + "00000004 646d7031" // NBD_REP_SERVER "dmp1"
                        + REPLY_MAGIC + "00000003 00000002 00000008" + "00000004 646d7032" // NBD_REP_SERVER "dmp2"
                        + REPLY_MAGIC + "00000003 00000001 00000000"),
                ch); // NBD_REP_ACK
    }

    @Test
    void infoDescribesTheExportAndGoChoosesIt() throws Exception {
        ScriptedChannel ch = client(
                CLIENT_FLAGS_NO_ZEROES,
                IHAVEOPT,
                "00000006 0000000a",
                "00000004 646d7031 0000", // NBD_OPT_INFO "dmp1", no requests
                IHAVEOPT,
                "00000007 0000000c",
                "00000004 646d7031 0001 0003"); // NBD_OPT_GO "dmp1", asks BLOCK_SIZE
        assertEquals(Session.simple(dmp1), new Handshake(ch, catalog).negotiate());
        String infoExport = "0000000c 0000 " + SIZE_AND_FLAGS; // NBD_INFO_EXPORT
        String infoBlockSize = "0000000e 0003 00000001 00001000 02000000"; // min 1, preferred 4096, max 32 MiB
        assertWire(
                hex(GREETING
                        + REPLY_MAGIC + "00000006 00000003" + infoExport
                        + REPLY_MAGIC + "00000006 00000003" + infoBlockSize
                        + REPLY_MAGIC + "00000006 00000001 00000000"
                        + REPLY_MAGIC + "00000007 00000003" + infoExport
                        + REPLY_MAGIC + "00000007 00000003" + infoBlockSize
                        + REPLY_MAGIC + "00000007 00000001 00000000"),
                ch);
        assertEquals(0, ch.unread());
    }

    @Test
    void unknownExportGetsErrUnknownAndTheHandshakeGoesOn() throws Exception {
        ScriptedChannel ch = client(
                CLIENT_FLAGS_NO_ZEROES,
                IHAVEOPT,
                "00000007 0000000a",
                "00000004 6e6f7065 0000", // NBD_OPT_GO "nope"
                IHAVEOPT,
                "00000007 0000000a",
                "00000004 646d7032 0000"); // NBD_OPT_GO "dmp2"
        assertEquals(Session.simple(dmp2), new Handshake(ch, catalog).negotiate());
        byte[] message = text("no export named 'nope'");
        assertWire(
                concat(
                        hex(GREETING + REPLY_MAGIC + "00000007 80000006 00000016"),
                        message,
                        hex(REPLY_MAGIC + "00000007 00000003 0000000c 0000 0000000000000200 0d6d"
                                + REPLY_MAGIC + "00000007 00000003 0000000e 0003 00000001 00001000 02000000"
                                + REPLY_MAGIC + "00000007 00000001 00000000")),
                ch);
    }

    @Test
    void unknownOptionsGetErrUnsupAndTheirDataIsSkipped() throws Exception {
        ScriptedChannel ch = client(
                CLIENT_FLAGS_NO_ZEROES,
                IHAVEOPT,
                "00000005 00000000", // NBD_OPT_STARTTLS (TLS off: StartTlsOptionTest has the rest)
                IHAVEOPT,
                "00001234 00000003 aabbcc", // an option nobody defined, with 3 bytes of data
                IHAVEOPT,
                "00000002 00000000"); // NBD_OPT_ABORT
        assertNull(new Handshake(ch, catalog).negotiate());
        byte[] tls = text("TLS is turned off on this server (dmp.agent.nbd-tls=off)");
        byte[] unknown = text("OPT(4660) is not supported");
        assertWire(
                concat(
                        hex(GREETING + REPLY_MAGIC + "00000005 80000001 00000038"),
                        tls,
                        hex(REPLY_MAGIC + "00001234 80000001 0000001a"),
                        unknown,
                        hex(REPLY_MAGIC + "00000002 00000001 00000000")),
                ch);
    }

    @Test
    void exportNameWithNoZeroesSendsSizeAndFlagsOnly() throws Exception {
        ScriptedChannel ch = client(CLIENT_FLAGS_NO_ZEROES, IHAVEOPT, "00000001 00000004 646d7031");
        assertEquals(Session.simple(dmp1), new Handshake(ch, catalog).negotiate());
        assertWire(hex(GREETING + SIZE_AND_FLAGS), ch);
    }

    @Test
    void exportNameWithoutNoZeroesPadsWith124Zeroes() throws Exception {
        ScriptedChannel ch = client(CLIENT_FLAGS_FIXED_ONLY, IHAVEOPT, "00000001 00000004 646d7031");
        assertEquals(Session.simple(dmp1), new Handshake(ch, catalog).negotiate());
        assertWire(concat(hex(GREETING + SIZE_AND_FLAGS), new byte[124]), ch);
    }

    @Test
    void exportNameOfAnUnknownExportEndsTheHandshake() {
        ScriptedChannel ch = client(CLIENT_FLAGS_NO_ZEROES, IHAVEOPT, "00000001 00000004 6e6f7065");
        NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> new Handshake(ch, catalog).negotiate());
        assertEquals("NBD_OPT_EXPORT_NAME: no export named 'nope'", e.getMessage());
        assertWire(hex(GREETING), ch);
    }

    @Test
    void abortIsAcknowledgedAndNothingAfterItIsRead() throws Exception {
        ScriptedChannel ch =
                client(CLIENT_FLAGS_NO_ZEROES, IHAVEOPT, "00000002 00000000", IHAVEOPT, "00000003 00000000");
        assertNull(new Handshake(ch, catalog).negotiate());
        assertWire(hex(GREETING + REPLY_MAGIC + "00000002 00000001 00000000"), ch);
        assertEquals(16, ch.unread());
    }

    @Test
    void badOptionMagicEndsTheHandshake() {
        ScriptedChannel ch = client(CLIENT_FLAGS_NO_ZEROES, "49484156454f5055", "00000003 00000000");
        NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> new Handshake(ch, catalog).negotiate());
        assertEquals("bad option magic 0x49484156454f5055", e.getMessage());
        assertWire(hex(GREETING), ch);
    }

    @Test
    void oversizedOptionEndsTheHandshakeBeforeItsDataIsRead() {
        // 64 KiB + 1 is one over the limit; the data is not there: reading it would hit EOF instead
        ScriptedChannel ch = client(CLIENT_FLAGS_NO_ZEROES, IHAVEOPT, "00000007 00010001", "00000004 646d7031");
        NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> new Handshake(ch, catalog).negotiate());
        assertEquals("NBD_OPT_GO: option length 65537 is over the limit of 65536", e.getMessage());
        assertEquals(8, ch.unread());

        // past 2^31 the length must not wrap to a negative (or small) int
        ScriptedChannel huge = client(CLIENT_FLAGS_NO_ZEROES, IHAVEOPT, "00000003 ffffffff");
        e = assertThrows(NbdProtocolException.class, () -> new Handshake(huge, catalog).negotiate());
        assertEquals("NBD_OPT_LIST: option length 4294967295 is over the limit of 65536", e.getMessage());
    }

    @Test
    void unknownClientFlagsEndTheHandshake() {
        ScriptedChannel ch = client("00000007");
        NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> new Handshake(ch, catalog).negotiate());
        assertEquals("unknown client flags 0x00000007", e.getMessage());
    }
}
