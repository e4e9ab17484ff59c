package dev.dmp.agent.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The transmission-phase codec against byte arrays written out by hand from the NBD spec (big-endian). */
class NbdWireTest {

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    /** NBD_CMD_WRITE with NBD_CMD_FLAG_FUA, cookie 0x0102030405060708, offset 1 MiB, length 4096. */
    private static final byte[] WRITE_FUA = bytes(
            0x25, 0x60, 0x95, 0x13, // NBD_REQUEST_MAGIC
            0x00, 0x01, // command flags: FUA
            0x00, 0x01, // type: NBD_CMD_WRITE
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // cookie
            0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, // offset 1048576
            0x00, 0x00, 0x10, 0x00); // length 4096

    @Test
    void decodesARequestHeader() throws Exception {
        NbdRequest r = NbdRequest.decode(ByteBuffer.wrap(WRITE_FUA));
        assertEquals(
                new NbdRequest(
                        NbdProtocol.NBD_CMD_FLAG_FUA, NbdProtocol.NBD_CMD_WRITE, 0x0102030405060708L, 1048576, 4096),
                r);
        assertEquals("WRITE", r.commandName());
    }

    @Test
    void encodesARequestHeader() {
        ByteBuffer out = ByteBuffer.allocate(NbdRequest.SIZE);
        new NbdRequest(NbdProtocol.NBD_CMD_FLAG_FUA, NbdProtocol.NBD_CMD_WRITE, 0x0102030405060708L, 1048576, 4096)
                .encode(out);
        assertArrayEquals(WRITE_FUA, out.array());
    }

    @Test
    void readsUnsignedFieldsInFull() throws Exception {
        byte[] wire = bytes(
                0x25, 0x60, 0x95, 0x13, 0x00, 0x00, 0x00, 0x00, // NBD_CMD_READ
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // cookie: opaque, all ones
                0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // offset 2^63: negative as a long
                0xff, 0xff, 0xff, 0xff); // length 2^32 - 1
        NbdRequest r = NbdRequest.decode(ByteBuffer.wrap(wire));
        assertEquals(-1L, r.cookie());
        assertEquals(Long.MIN_VALUE, r.offset());
        assertEquals(4294967295L, r.length());
    }

    @Test
    void rejectsABadRequestMagic() {
        byte[] wire = WRITE_FUA.clone();
        wire[0] = 0x26;
        NbdProtocolException e =
                assertThrows(NbdProtocolException.class, () -> NbdRequest.decode(ByteBuffer.wrap(wire)));
        assertEquals("bad request magic 0x26609513", e.getMessage());
    }

    @Test
    void encodesAndDecodesASimpleReply() throws Exception {
        byte[] wire = bytes(
                0x67, 0x44, 0x66, 0x98, // NBD_SIMPLE_REPLY_MAGIC
                0x00, 0x00, 0x00, 0x16, // error: NBD_EINVAL (22)
                0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08); // cookie
        ByteBuffer out = ByteBuffer.allocate(SimpleReply.SIZE);
        new SimpleReply(NbdProtocol.NBD_EINVAL, 0x0102030405060708L).encode(out);
        assertArrayEquals(wire, out.array());
        assertEquals(new SimpleReply(22, 0x0102030405060708L), SimpleReply.decode(ByteBuffer.wrap(wire)));
    }

    @Test
    void rejectsABadReplyMagic() {
        byte[] wire = new byte[SimpleReply.SIZE];
        NbdProtocolException e =
                assertThrows(NbdProtocolException.class, () -> SimpleReply.decode(ByteBuffer.wrap(wire)));
        assertEquals("bad reply magic 0x00000000", e.getMessage());
    }
}
