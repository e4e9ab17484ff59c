package dev.dmp.agent.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dmp.agent.os.Errno;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generic netlink nbd messages, byte for byte, both ways. The expected bytes are written out by
 * hand from {@code <linux/netlink.h>}, {@code <linux/genetlink.h>} and {@code <linux/nbd-netlink.h>}
 * (little-endian, as on x86-64 and arm64).
 */
class NbdNetlinkTest {
    private static final HexFormat HEX = HexFormat.of();

    @BeforeEach
    void littleEndian() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the expected bytes are little-endian");
    }

    private static byte[] hex(String... parts) {
        return HEX.parseHex(String.join("", parts).replace(" ", ""));
    }

    @Test
    void aGenericMessageWithNoRoomForItsGenlHeaderIsMalformed() {
        // Found by NbdNetlinkFuzzTest: a message of 16 bytes (nlmsghdr only) of a family's type, where
        // the parser read the genlmsghdr past the end of what recv returned (BufferUnderflowException).
        byte[] shortMessage = hex("10000000 1b00 0000 07000000 00000000");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> NbdNetlink.parse(shortMessage, shortMessage.length));
        assertEquals("malformed generic netlink message: length 16", e.getMessage());
    }

    @Test
    void aMessageLengthThatOverflowsPastTheBufferIsMalformed() {
        // Found by NbdNetlinkFuzzTest: after a first message, a length near 2^31 made start + length
        // wrap to a negative number, which passed the bounds check; the parser then moved its buffer to a
        // negative position (IllegalArgumentException "newPosition < 0" from ByteBuffer, not its own).
        byte[] wrapping = hex(
                "14000000 0300 0000 01000000 00000000 00000000", // NLMSG_DONE, 20 bytes
                "f0ffff7f 0300 0000 02000000 00000000"); // NLMSG_DONE of 2^31 - 16 bytes, 16 sent
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> NbdNetlink.parse(wrapping, wrapping.length));
        assertEquals("malformed netlink message: length 2147483632 at 20 of 36 bytes", e.getMessage());
    }

    @Test
    void getFamilyAsksTheControllerForNbd() {
        assertArrayEquals(
                hex(
                        "1c000000 1000 0500 07000000 00000000", // nlmsghdr: 28 bytes, GENL_ID_CTRL, REQUEST|ACK, seq 7
                        "03 01 0000", // CTRL_CMD_GETFAMILY, version 1
                        "0800 0200 6e626400"), // CTRL_ATTR_FAMILY_NAME "nbd\0"
                NbdNetlink.getFamily(7, "nbd"));
    }

    @Test
    void connectCarriesEveryAttributeAndTheNestedSocket() {
        byte[] m = NbdNetlink.connect(0x1b, 8, new NbdNetlink.Connect(3, 64L << 20, 4096, 0x2d, 30, 600, "dmp:a:v", 9));
        assertEquals(
                HEX.formatHex(hex(
                        "74000000 1b00 0500 08000000 00000000", // 116 bytes, family 0x1b, REQUEST|ACK, seq 8
                        "01 01 0000", // NBD_CMD_CONNECT, NBD_GENL_VERSION
                        "0800 0100 03000000", // NBD_ATTR_INDEX 3
                        "0c00 0200 0000000400000000", // NBD_ATTR_SIZE_BYTES 67108864
                        "0c00 0300 0010000000000000", // NBD_ATTR_BLOCK_SIZE_BYTES 4096
                        "0c00 0500 2d00000000000000", // NBD_ATTR_SERVER_FLAGS 0x2d
                        "0c00 0400 1e00000000000000", // NBD_ATTR_TIMEOUT 30
                        "0c00 0800 5802000000000000", // NBD_ATTR_DEAD_CONN_TIMEOUT 600
                        "0c00 0a00 646d703a613a7600", // NBD_ATTR_BACKEND_IDENTIFIER "dmp:a:v\0"
                        "1000 0780 0c00 0180 0800 0100 09000000")), // SOCKETS { SOCK_ITEM { SOCK_FD 9 } }, NLA_F_NESTED
                HEX.formatHex(m));
    }

    @Test
    void aBackendIdentifierIsPaddedToFourBytes() {
        byte[] m = NbdNetlink.reconfigure(0x1b, 9, 0, "dmp:node-a:dmp2", 30, 120, 5);
        assertEquals(
                HEX.formatHex(hex(
                        "58000000 1b00 0500 09000000 00000000", // 88 bytes
                        "03 01 0000", // NBD_CMD_RECONFIGURE
                        "0800 0100 00000000", // NBD_ATTR_INDEX 0
                        "1400 0a00 646d703a6e6f64652d613a646d703200", // "dmp:node-a:dmp2\0": 16 bytes, no padding
                        // needed
                        "0c00 0400 1e00000000000000", // NBD_ATTR_TIMEOUT 30
                        "0c00 0800 7800000000000000", // NBD_ATTR_DEAD_CONN_TIMEOUT 120
                        "1000 0780 0c00 0180 0800 0100 05000000")),
                HEX.formatHex(m));
        byte[] odd = NbdNetlink.reconfigure(0x1b, 9, 0, "ab", 30, 120, 5);
        assertEquals(
                "0700 0a00 61620000".replace(" ", ""),
                HEX.formatHex(odd, 28, 36),
                "\"ab\\0\" is 7 bytes of attribute, padded with one zero");
    }

    @Test
    void disconnectNamesTheDevice() {
        assertArrayEquals(
                hex("1c000000 1b00 0500 0a000000 00000000", "02 01 0000", "0800 0100 05000000"),
                NbdNetlink.disconnect(0x1b, 10, 5));
    }

    @Test
    void anAckIsAnErrorMessageWithZero() {
        List<NbdNetlink.Reply> r = NbdNetlink.parse(ack(8, "00000000"), 36);
        assertEquals(1, r.size());
        assertEquals(NbdNetlink.NLMSG_ERROR, r.get(0).type());
        assertEquals(8, r.get(0).seq());
        assertEquals(0, r.get(0).errno());
    }

    @Test
    void anErrorCarriesTheNegativeErrno() {
        assertEquals(
                Errno.EBUSY, NbdNetlink.parse(ack(8, "f0ffffff"), 36).get(0).errno());
        assertEquals(
                Errno.EPERM, NbdNetlink.parse(ack(8, "ffffffff"), 36).get(0).errno());
    }

    @Test
    void theFamilyIdComesFromTheGetFamilyReply() {
        byte[] b = hex(
                "2c000000 1000 0000 07000000 d2040000", // 44 bytes, GENL_ID_CTRL, seq 7, port 1234
                "01 02 0000", // CTRL_CMD_NEWFAMILY, version 2
                "0600 0100 1b00 0000", // CTRL_ATTR_FAMILY_ID u16 0x1b, padded
                "0800 0200 6e626400", // CTRL_ATTR_FAMILY_NAME "nbd"
                "0800 0300 01000000"); // CTRL_ATTR_VERSION 1
        NbdNetlink.Reply r = NbdNetlink.parse(b, b.length).get(0);
        assertEquals(NbdNetlink.GENL_ID_CTRL, r.type());
        assertEquals(NbdNetlink.CTRL_CMD_NEWFAMILY, r.cmd());
        assertEquals(OptionalInt.of(0x1b), r.intAttr(NbdNetlink.CTRL_ATTR_FAMILY_ID));
        assertEquals(OptionalInt.of(1), r.intAttr(3));
        assertEquals(OptionalInt.empty(), r.intAttr(4));
    }

    @Test
    void theConnectReplyAndItsAckInOneRead() {
        byte[] reply = hex("1c000000 1b00 0000 08000000 d2040000", "01 01 0000", "0800 0100 03000000");
        byte[] both = new byte[reply.length + 36];
        System.arraycopy(reply, 0, both, 0, reply.length);
        System.arraycopy(ack(8, "00000000"), 0, both, reply.length, 36);
        List<NbdNetlink.Reply> r = NbdNetlink.parse(both, both.length);
        assertEquals(2, r.size());
        assertEquals(OptionalInt.of(3), r.get(0).intAttr(NbdNetlink.NBD_ATTR_INDEX));
        assertEquals(NbdNetlink.NLMSG_ERROR, r.get(1).type());
    }

    @Test
    void aTruncatedMessageIsRefused() {
        byte[] b = ack(8, "00000000");
        assertThrows(IllegalArgumentException.class, () -> NbdNetlink.parse(b, 30));
    }

    /** NLMSG_ERROR for request seq: the error, then the request's header (NLM_F_CAPPED: no payload). */
    private static byte[] ack(int seq, String error) {
        return hex(
                "24000000 0200 0001",
                String.format("%02x000000", seq),
                "d2040000",
                error,
                "1c000000 1b00 0500",
                String.format("%02x000000", seq),
                "00000000");
    }
}
