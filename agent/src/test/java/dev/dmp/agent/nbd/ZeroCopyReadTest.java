package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.ChunkFrames.errorAt;
import static dev.dmp.agent.nbd.SparseBackend.PAGE;
import static dev.dmp.agent.nbd.SparseBackend.pattern;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static dev.dmp.agent.protocol.Wire.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Structured READs sent from the backend straight into the socket (a file's sendfile): a data chunk's
 * header goes out before its bytes. A READ all of whose range the backend has is one chunk, the last;
 * one it cannot send whole (the file shrank), and every data chunk of a sparse READ, is not the last, so
 * that a transfer that stops part way is padded to the length announced and followed by ERROR_OFFSET at
 * the first byte not sent (spec: "the server MUST still complete the transmission of any current
 * chunk"). A failure nobody could foresee inside a last chunk cannot be framed: the connection closes.
 */
class ZeroCopyReadTest {
    @TempDir
    Path dir;

    private final SparseBackend backend = SparseBackend.dataInPagesOneAndThree();
    private ClientEnd nbd;

    @BeforeEach
    void connect() throws Exception {
        backend.transfer(-1);
        Export export = new Export("sparse", backend, false, () -> RequestObserver.NONE);
        nbd = new ClientEnd(dir, new Session(export, true, 1), true);
    }

    @AfterEach
    void disconnect() throws Exception {
        nbd.close();
    }

    @Test
    void dataAllThereIsOneChunkThatIsTheLast() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x31, PAGE, PAGE);
        nbd.expect("668e33ef 0001 0001 0000000000000031 00010008 0000000000010000");
        assertArrayEquals(pattern(PAGE, PAGE), nbd.receive(PAGE));
        // No NONE chunk follows: the next bytes are the next request's reply.
        nbd.request(0, NBD_CMD_FLUSH, 0x3f, 0, 0);
        nbd.expect("67446698 00000000 000000000000003f");
    }

    @Test
    void aFailureNotForeseenInsideTheLastChunkClosesTheConnection() throws Exception {
        backend.transferFailingUnforeseen(1000);
        nbd.request(0, NBD_CMD_READ, 0x36, PAGE, PAGE);
        nbd.expect("668e33ef 0001 0001 0000000000000036 00010008 0000000000010000");
        assertArrayEquals(pattern(PAGE, 1000), nbd.receive(1000));
        nbd.expectClosed();
    }

    @Test
    void holesAndTransferredDataThenNone() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x32, 0, 4 * PAGE);
        nbd.expect("668e33ef 0000 0002 0000000000000032 0000000c 0000000000000000 00010000");
        nbd.expect("668e33ef 0000 0001 0000000000000032 00010008 0000000000010000");
        assertArrayEquals(pattern(PAGE, PAGE), nbd.receive(PAGE));
        nbd.expect("668e33ef 0000 0002 0000000000000032 0000000c 0000000000020000 00010000");
        nbd.expect("668e33ef 0000 0001 0000000000000032 00010008 0000000000030000");
        assertArrayEquals(pattern(3 * PAGE, PAGE), nbd.receive(PAGE));
        nbd.expect("668e33ef 0001 0000 0000000000000032 00000000");
    }

    @Test
    void aTransferThatFailsPartWayIsPaddedAndEndedWithErrorOffset() throws Exception {
        backend.transfer(1000);
        nbd.request(0, NBD_CMD_READ, 0x33, PAGE, PAGE);
        nbd.expect("668e33ef 0000 0001 0000000000000033 00010008 0000000000010000");
        byte[] chunk = nbd.receive(PAGE);
        assertArrayEquals(concat(pattern(PAGE, 1000), new byte[PAGE - 1000]), chunk, "the bytes sent, then zeroes");
        nbd.expect(errorAt(0x33, NBD_EIO, "READ at offset 66536 failed: the disk went away", PAGE + 1000));

        // The connection is still framed: the next READ is answered as usual.
        backend.transfer(-1);
        nbd.request(0, NBD_CMD_READ, 0x34, 3 * PAGE, PAGE);
        nbd.expect("668e33ef 0001 0001 0000000000000034 00010008 0000000000030000");
        assertArrayEquals(pattern(3 * PAGE, PAGE), nbd.receive(PAGE));
    }

    /** In a sparse READ the failure ends the reply at the data part that failed; the holes before it went out. */
    @Test
    void aTransferThatFailsInASparseReadEndsItThere() throws Exception {
        backend.transfer(0);
        nbd.request(0, NBD_CMD_READ, 0x35, 0, 4 * PAGE);
        nbd.expect("668e33ef 0000 0002 0000000000000035 0000000c 0000000000000000 00010000");
        nbd.expect("668e33ef 0000 0001 0000000000000035 00010008 0000000000010000");
        byte[] padding = nbd.receive(PAGE);
        assertArrayEquals(new byte[PAGE], padding, Arrays.toString(Arrays.copyOf(padding, 16)));
        nbd.expect(errorAt(0x35, NBD_EIO, "READ at offset 65536 failed: the disk went away", PAGE));
    }
}
