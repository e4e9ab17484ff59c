package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.ChunkFrames.error;
import static dev.dmp.agent.nbd.ChunkFrames.errorAt;
import static dev.dmp.agent.nbd.SparseBackend.PAGE;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.Extents;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD_CMD_BLOCK_STATUS of base:allocation on the wire: one BLOCK_STATUS chunk (DONE) carrying the
 * context id the handshake gave (7 here, so that it cannot be a constant), then (length, flags)
 * descriptors: 3 for a hole that reads as zeroes, 0 for data. The volume is 1 MiB of 64 KiB pages with
 * data in pages 1 and 3.
 */
class BlockStatusTest {
    private static final int CONTEXT = 7;

    @TempDir
    Path dir;

    private final SparseBackend backend = SparseBackend.dataInPagesOneAndThree();
    private ClientEnd nbd;

    @BeforeEach
    void connect() throws Exception {
        nbd = new ClientEnd(dir, session(backend, CONTEXT));
    }

    @AfterEach
    void disconnect() throws Exception {
        nbd.close();
    }

    private static Session session(Backend backend, int context) {
        return new Session(new Export("sparse", backend, false, () -> RequestObserver.NONE), true, context);
    }

    @Test
    void theWholeVolumeIsEveryExtentInOrder() throws Exception {
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x51, 0, 1 << 20);
        // 5 descriptors: length 4 + 40; the last hole is pages 4 to 15 merged
        nbd.expect("668e33ef 0001 0005 0000000000000051 0000002c 00000007"
                + " 00010000 00000003  00010000 00000000  00010000 00000003  00010000 00000000  000c0000 00000003");
    }

    @Test
    void aQueryInsidePagesIsCutAtBothEnds() throws Exception {
        // [4 KiB, 132 KiB): 60 KiB of hole, page 1, 4 KiB of page 2
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x52, 4096, 2 * PAGE);
        nbd.expect("668e33ef 0001 0005 0000000000000052 0000001c 00000007"
                + " 0000f000 00000003  00010000 00000000  00001000 00000003");
    }

    /** REQ_ONE: "exactly one descriptor ... MUST NOT be greater than the length of the request". */
    @Test
    void reqOneIsTheFirstExtentAlone() throws Exception {
        nbd.request(NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 0x53, 0, 1 << 20);
        nbd.expect("668e33ef 0001 0005 0000000000000053 0000000c 00000007 00010000 00000003");
        nbd.request(NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 0x54, PAGE, (1 << 20) - PAGE);
        nbd.expect("668e33ef 0001 0005 0000000000000054 0000000c 00000007 00010000 00000000");
        // within one hole: the descriptor is the request's length, not the hole's
        nbd.request(NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 0x55, 2 * PAGE + 4096, 8192);
        nbd.expect("668e33ef 0001 0005 0000000000000055 0000000c 00000007 00002000 00000003");
    }

    /** FUA "is valid for all commands, provided NBD_FLAG_SEND_FUA has been negotiated ... the server MUST accept" it. */
    @Test
    void fuaIsAcceptedAndIgnored() throws Exception {
        nbd.request(NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 0x56, PAGE, PAGE);
        nbd.expect("668e33ef 0001 0005 0000000000000056 0000000c 00000007 00010000 00000000");
    }

    /** "The server SHOULD return NBD_EINVAL if it receives a NBD_CMD_BLOCK_STATUS request including ... beyond the size". */
    @Test
    void pastTheEndIsEinval() throws Exception {
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x57, (1 << 20) - 4096, 8192);
        nbd.expect(error(
                0x57,
                NBD_EINVAL,
                "invalid request: BLOCK_STATUS: offset and count are out of range: offset=1044480 count=8192"
                        + " size=1048576"));
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x58, 0, 0);
        nbd.expect(error(0x58, NBD_EINVAL, "invalid request: BLOCK_STATUS: length 0"));
        nbd.request(NBD_CMD_FLAG_DF, NBD_CMD_BLOCK_STATUS, 0x59, 0, 4096);
        nbd.expect(error(0x59, NBD_EINVAL, "invalid request: BLOCK_STATUS: flags 0x4 are not valid for this command"));
    }

    @Test
    void aBackendThatCannotSayIsAnErrorAtTheQuerysStart() throws Exception {
        backend.failExtents("no map today");
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x5a, PAGE, PAGE);
        nbd.expect(errorAt(0x5a, NBD_EIO, "BLOCK_STATUS at offset 65536, length 65536 failed: no map today", PAGE));
    }

    /** "Servers SHOULD reply with NBD_EINVAL to clients sending NBD_CMD_BLOCK_STATUS without selecting ... a context." */
    @Test
    void withoutAContextSelectedItIsEinval() throws Exception {
        try (ClientEnd unselected = new ClientEnd(dir, session(backend, 0))) {
            unselected.request(0, NBD_CMD_BLOCK_STATUS, 0x5b, 0, 4096);
            unselected.expect(error(
                    0x5b,
                    NBD_EINVAL,
                    "invalid request: BLOCK_STATUS: no metadata context was selected"
                            + " (NBD_OPT_SET_META_CONTEXT base:allocation)"));
        }
    }

    /** At most 65536 descriptors in one reply (the spec's bound is 2^20): the client asks again from where it stops. */
    @Test
    void aReplyHoldsAtMost65536Extents() throws Exception {
        Backend zebra = new Backend() {
            @Override
            public long size() {
                return 1L << 30;
            }

            /** 4 KiB of data, 4 KiB of hole, over and over. */
            @Override
            public void extents(Extents extents) {
                while (extents.add(4096 - extents.next() % 4096, (int) (extents.next() / 4096 % 2) * 3)) {}
            }

            @Override
            public void read(long offset, ByteBuffer dst) {}

            @Override
            public void write(long offset, ByteBuffer src, boolean fua) {}

            @Override
            public void flush() {}

            @Override
            public String describe() {
                return "zebra";
            }

            @Override
            public void close() {}
        };
        try (ClientEnd striped = new ClientEnd(dir, session(zebra, 1))) {
            striped.request(0, NBD_CMD_BLOCK_STATUS, 0x5c, 0, 1L << 29);
            // 4 + 8 * 65536 bytes: 0x00080004
            striped.expect("668e33ef 0001 0005 000000000000005c 00080004 00000001");
            ByteBuffer descriptors = ByteBuffer.wrap(striped.receive(8 * 65536));
            for (int i = 0; i < 65536; i++) {
                assertEquals(4096, descriptors.getInt(), "length of extent " + i);
                assertEquals(i % 2 * 3, descriptors.getInt(), "flags of extent " + i);
            }
        }
    }
}
