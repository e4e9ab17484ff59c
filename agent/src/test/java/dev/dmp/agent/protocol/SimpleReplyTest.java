package dev.dmp.agent.protocol;

import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class SimpleReplyTest {
    // magic, error NBD_EINVAL (22), cookie
    private static final String EINVAL = "67446698 00000016 cafebabe00000001";

    @Test
    void encodes() {
        ByteBuffer out = ByteBuffer.allocate(SimpleReply.SIZE);
        new SimpleReply(NbdProtocol.NBD_EINVAL, 0xcafebabe00000001L).encode(out);
        assertEquals(0, out.remaining());
        assertArrayEquals(hex(EINVAL), out.array());
    }

    @Test
    void decodes() throws Exception {
        assertEquals(new SimpleReply(22, 0xcafebabe00000001L), SimpleReply.decode(ByteBuffer.wrap(hex(EINVAL))));
    }

    @Test
    void badMagicIsAProtocolError() {
        NbdProtocolException e = assertThrows(
                NbdProtocolException.class,
                () -> SimpleReply.decode(ByteBuffer.wrap(hex("668e33ef 00000000 0000000000000001"))));
        assertEquals("bad reply magic 0x668e33ef", e.getMessage());
    }
}
