package dev.dmp.agent.protocol;

import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class NbdRequestTest {
    // magic, flags FUA, type WRITE, cookie, offset 1 MiB, length 4096
    private static final String WRITE_FUA = "25609513 0001 0001 0102030405060708 0000000000100000 00001000";

    @Test
    void decodesEveryField() throws Exception {
        NbdRequest r = NbdRequest.decode(ByteBuffer.wrap(hex(WRITE_FUA)));
        assertEquals(
                new NbdRequest(
                        NbdProtocol.NBD_CMD_FLAG_FUA, NbdProtocol.NBD_CMD_WRITE, 0x0102030405060708L, 1048576, 4096),
                r);
        assertEquals("WRITE", r.commandName());
    }

    @Test
    void encodesTheSameBytes() {
        ByteBuffer out = ByteBuffer.allocate(NbdRequest.SIZE);
        new NbdRequest(1, 1, 0x0102030405060708L, 1048576, 4096).encode(out);
        assertEquals(0, out.remaining());
        assertArrayEquals(hex(WRITE_FUA), out.array());
    }

    @Test
    void lengthIsUnsigned() throws Exception {
        // 0xfffffffe = 4294967294: past 2^31, it must not come out negative
        byte[] wire = hex("25609513 0000 0000 ffffffffffffffff 7ffffffffffff000 fffffffe");
        NbdRequest r = NbdRequest.decode(ByteBuffer.wrap(wire));
        assertEquals(4294967294L, r.length());
        assertEquals(0x7ffffffffffff000L, r.offset());
        assertEquals(-1L, r.cookie());
        ByteBuffer out = ByteBuffer.allocate(NbdRequest.SIZE);
        r.encode(out);
        assertArrayEquals(wire, out.array());
    }

    @Test
    void badMagicIsAProtocolError() {
        byte[] wire = hex("25609514 0000 0000 0000000000000001 0000000000000000 00000200");
        NbdProtocolException e =
                assertThrows(NbdProtocolException.class, () -> NbdRequest.decode(ByteBuffer.wrap(wire)));
        assertEquals("bad request magic 0x25609514", e.getMessage());
    }
}
