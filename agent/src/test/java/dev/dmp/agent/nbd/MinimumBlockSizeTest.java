package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.ChunkFrames.error;
import static dev.dmp.agent.nbd.SparseBackend.PAGE;
import static dev.dmp.agent.nbd.SparseBackend.pattern;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An export whose backend takes nothing smaller than 4 KiB (a 4Kn disk, an upstream with that minimum):
 * NBD_INFO_BLOCK_SIZE says so, and dmp refuses what breaks it before the backend sees it, as "a server
 * that enforces stricter size constraints than the defaults MUST cleanly error commands" (NBD_EINVAL).
 */
class MinimumBlockSizeTest {
    @TempDir
    Path dir;

    private final SparseBackend backend = new SparseBackend(1 << 20, 4096).data(PAGE, PAGE);
    private ClientEnd nbd;

    @BeforeEach
    void connect() throws Exception {
        nbd = new ClientEnd(
                dir, new Session(new Export("disk4k", backend, false, () -> RequestObserver.NONE), true, 1));
    }

    @AfterEach
    void disconnect() throws Exception {
        nbd.close();
    }

    @Test
    void anUnalignedBlockStatusIsEinval() throws Exception {
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x61, 512, 4096);
        nbd.expect(error(
                0x61,
                NBD_EINVAL,
                "invalid request: BLOCK_STATUS: offset and count must be multiples of the minimum block size 4096:"
                        + " offset=512 count=4096"));
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x62, 0, 6144);
        nbd.expect(error(
                0x62,
                NBD_EINVAL,
                "invalid request: BLOCK_STATUS: offset and count must be multiples of the minimum block size 4096:"
                        + " offset=0 count=6144"));
    }

    @Test
    void anUnalignedReadIsEinval() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x63, PAGE + 512, 4096);
        nbd.expect(error(
                0x63,
                NBD_EINVAL,
                "invalid request: READ: offset and count must be multiples of the minimum block size 4096:"
                        + " offset=66048 count=4096"));
    }

    @Test
    void alignedRequestsAreServed() throws Exception {
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x64, PAGE - 4096, 8192);
        nbd.expect("668e33ef 0001 0005 0000000000000064 00000014 00000001 00001000 00000003 00001000 00000000");
        nbd.request(0, NBD_CMD_READ, 0x65, PAGE, 4096);
        nbd.expect("668e33ef 0001 0001 0000000000000065 00001008 0000000000010000");
        assertArrayEquals(pattern(PAGE, 4096), nbd.receive(4096));
    }
}
