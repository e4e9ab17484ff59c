package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.SparseBackend.PAGE;
import static dev.dmp.agent.nbd.SparseBackend.pattern;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static dev.dmp.agent.protocol.Wire.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The READs of {@link StructuredReadTest}, on a connection that negotiated nothing (the kernel's nbd
 * driver): the same sparse volume answers with simple replies, holes as zeroes inline, errors without
 * a payload; what needs structured replies (DF, BLOCK_STATUS) is refused.
 */
class SimpleReadTest {
    @TempDir
    Path dir;

    private final SparseBackend backend = SparseBackend.dataInPagesOneAndThree();
    private ClientEnd nbd;

    @BeforeEach
    void connect() throws Exception {
        nbd = new ClientEnd(dir, Session.simple(new Export("sparse", backend, false, () -> RequestObserver.NONE)));
    }

    @AfterEach
    void disconnect() throws Exception {
        nbd.close();
    }

    @Test
    void holesAndDataComeInlineAfterOneHeader() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x41, 0, 4 * PAGE);
        nbd.expect("67446698 00000000 0000000000000041");
        assertArrayEquals(
                concat(new byte[PAGE], pattern(PAGE, PAGE), new byte[PAGE], pattern(3 * PAGE, PAGE)),
                nbd.receive(4 * PAGE));
    }

    @Test
    void errorsAreAHeaderWithNoPayload() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x42, (1 << 20) - 4096, 8192);
        nbd.expect("67446698 00000016 0000000000000042"); // NBD_EINVAL
        backend.failReads(3 * PAGE, 4 * PAGE, "medium error");
        nbd.request(0, NBD_CMD_READ, 0x43, 0, 4 * PAGE);
        nbd.expect("67446698 00000005 0000000000000043"); // NBD_EIO
    }

    @Test
    void whatNeedsStructuredRepliesIsEinval() throws Exception {
        // DF "MUST NOT be set unless the transmission flags include NBD_FLAG_SEND_DF"
        nbd.request(NBD_CMD_FLAG_DF, NBD_CMD_READ, 0x44, 0, 4096);
        nbd.expect("67446698 00000016 0000000000000044");
        nbd.request(0, NBD_CMD_BLOCK_STATUS, 0x45, 0, 4096);
        nbd.expect("67446698 00000016 0000000000000045");
    }

    @Test
    void aReadOfNothingIsAHeaderAlone() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x46, PAGE, 0);
        nbd.expect("67446698 00000000 0000000000000046");
    }
}
