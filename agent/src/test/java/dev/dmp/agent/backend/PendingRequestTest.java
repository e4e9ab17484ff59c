package dev.dmp.agent.backend;

import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dmp.agent.fuzz.HeapBudget;
import dev.dmp.agent.protocol.ReplyChunk;
import dev.dmp.agent.protocol.Wire;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.nio.channels.Channels;
import org.junit.jupiter.api.Test;

/** A structured chunk's payload is read as it arrives, not buffered whole on its length field's word. */
class PendingRequestTest {
    @Test
    void aBlockStatusChunkAnnouncingMoreThanItSendsIsNotBufferedWhole() {
        // The largest BLOCK_STATUS chunk the client takes (8 MiB of descriptors and the context id) is
        // announced; the server sends its context, one descriptor (2048 bytes of data) and closes. The
        // client took an 8 MiB buffer for the chunk before reading it; now it reads 8 KiB at a time, and
        // the chunk cut short fails the connection (EOFException) as before.
        byte[] sent = Wire.hex("00000007 00000800 00000000");
        assertThrows(
                EOFException.class,
                () -> HeapBudget.within(sent.length, "a BLOCK_STATUS chunk", () -> {
                    PendingRequest p =
                            new PendingRequest(NBD_CMD_BLOCK_STATUS, 0, 4096, null, new Extents(0, 4096, 64));
                    p.chunk(
                            new ReplyChunk(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, 1, (8 << 20) + 4),
                            Channels.newChannel(new ByteArrayInputStream(sent)),
                            7);
                    return null;
                }));
    }
}
