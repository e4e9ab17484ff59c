package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.ChunkFrames.error;
import static dev.dmp.agent.nbd.ChunkFrames.errorAt;
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
 * READs answered with structured replies, chunk by chunk on the wire (spec, NBD_CMD_READ "Structured
 * replies"). The volume is 1 MiB of 64 KiB pages with data in pages 1 and 3 only; READs of 64 KiB and
 * more ask where the holes are and send them as OFFSET_HOLE, smaller ones go as one data chunk.
 */
class StructuredReadTest {
    @TempDir
    Path dir;

    private final SparseBackend backend = SparseBackend.dataInPagesOneAndThree();
    private ClientEnd nbd;

    @BeforeEach
    void connect() throws Exception {
        nbd = new ClientEnd(
                dir, new Session(new Export("sparse", backend, false, () -> RequestObserver.NONE), true, 1));
    }

    @AfterEach
    void disconnect() throws Exception {
        nbd.close();
    }

    @Test
    void aHoleIsOneHoleChunkThatEndsTheReply() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x11, 0, PAGE);
        // flags DONE, type OFFSET_HOLE, length 12: offset 0, 64 KiB
        nbd.expect("668e33ef 0001 0002 0000000000000011 0000000c 0000000000000000 00010000");
    }

    @Test
    void holesAndDataAlternateInOrderAndTheLastChunkIsDone() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x12, 0, 4 * PAGE);
        nbd.expect("668e33ef 0000 0002 0000000000000012 0000000c 0000000000000000 00010000");
        nbd.expect("668e33ef 0000 0001 0000000000000012 00010008 0000000000010000");
        assertArrayEquals(pattern(PAGE, PAGE), nbd.receive(PAGE));
        nbd.expect("668e33ef 0000 0002 0000000000000012 0000000c 0000000000020000 00010000");
        nbd.expect("668e33ef 0001 0001 0000000000000012 00010008 0000000000030000");
        assertArrayEquals(pattern(3 * PAGE, PAGE), nbd.receive(PAGE));
    }

    @Test
    void aReadThatStartsAndEndsInsideHolesIsCutThere() throws Exception {
        // [32 KiB, 160 KiB): half of hole 0, page 1, half of hole 2
        nbd.request(0, NBD_CMD_READ, 0x13, PAGE / 2, 2 * PAGE);
        nbd.expect("668e33ef 0000 0002 0000000000000013 0000000c 0000000000008000 00008000");
        nbd.expect("668e33ef 0000 0001 0000000000000013 00010008 0000000000010000");
        assertArrayEquals(pattern(PAGE, PAGE), nbd.receive(PAGE));
        nbd.expect("668e33ef 0001 0002 0000000000000013 0000000c 0000000000020000 00008000");
    }

    /** "If this flag is set, the server MUST send at most one content chunk ... with the zeroes explicitly present." */
    @Test
    void dontFragmentIsOneDataChunkWithTheZeroesInIt() throws Exception {
        nbd.request(NBD_CMD_FLAG_DF, NBD_CMD_READ, 0x14, 0, 4 * PAGE);
        nbd.expect("668e33ef 0001 0001 0000000000000014 00040008 0000000000000000");
        assertArrayEquals(
                concat(new byte[PAGE], pattern(PAGE, PAGE), new byte[PAGE], pattern(3 * PAGE, PAGE)),
                nbd.receive(4 * PAGE));
    }

    @Test
    void allDataIsOneDataChunkThatEndsTheReply() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x15, PAGE, PAGE);
        nbd.expect("668e33ef 0001 0001 0000000000000015 00010008 0000000000010000");
        assertArrayEquals(pattern(PAGE, PAGE), nbd.receive(PAGE));
    }

    /** Below 64 KiB the holes are not looked for: a query would cost more than the zeroes it saves. */
    @Test
    void aSmallReadOfAHoleIsDataOfZeroes() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x16, 2 * PAGE, 4096);
        nbd.expect("668e33ef 0001 0001 0000000000000016 00001008 0000000000020000");
        assertArrayEquals(new byte[4096], nbd.receive(4096));
    }

    /** The data is read before anything is sent: the reply is the error alone, where the read failed. */
    @Test
    void aBackendFailureIsAnErrorOffsetChunkWithItsMessage() throws Exception {
        backend.failReads(3 * PAGE, 4 * PAGE, "medium error");
        nbd.request(0, NBD_CMD_READ, 0x17, 0, 4 * PAGE);
        nbd.expect(errorAt(0x17, NBD_EIO, "READ at offset 196608, length 65536 failed: medium error", 3 * PAGE));
        // a small READ: the whole range is one part, the error is at its start
        nbd.request(0, NBD_CMD_READ, 0x18, 3 * PAGE + 512, 512);
        nbd.expect(errorAt(0x18, NBD_EIO, "READ at offset 197120, length 512 failed: medium error", 3 * PAGE + 512));
        // the connection goes on
        nbd.request(0, NBD_CMD_READ, 0x19, PAGE, 8);
        nbd.expect("668e33ef 0001 0001 0000000000000019 00000010 0000000000010000");
        assertArrayEquals(pattern(PAGE, 8), nbd.receive(8));
    }

    /** Not knowing where the holes are is no reason to fail: the READ goes out as data. */
    @Test
    void aReadWhoseExtentsAreUnknownIsData() throws Exception {
        backend.failExtents("no map today");
        nbd.request(0, NBD_CMD_READ, 0x1a, 0, 2 * PAGE);
        nbd.expect("668e33ef 0001 0001 000000000000001a 00020008 0000000000000000");
        assertArrayEquals(concat(new byte[PAGE], pattern(PAGE, PAGE)), nbd.receive(2 * PAGE));
    }

    /** "MUST NOT use a simple reply for NBD_CMD_READ (even for the case of an early NBD_EINVAL ...)". */
    @Test
    void aReadPastTheEndIsAnErrorChunkWithEinval() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x1b, (1 << 20) - 4096, 8192);
        nbd.expect(error(
                0x1b,
                NBD_EINVAL,
                "invalid request: READ: offset and count are out of range: offset=1044480 count=8192 size=1048576"));
        nbd.request(NBD_CMD_FLAG_NO_HOLE, NBD_CMD_READ, 0x1c, 0, 512);
        nbd.expect(error(0x1c, NBD_EINVAL, "invalid request: READ: flags 0x2 are not valid for this command"));
    }

    /**
     * "The client SHOULD NOT request a read length of 0 ... the server SHOULD NOT disconnect": a data
     * chunk must describe at least one byte (length at least 9), so the answer is NONE: success, no content.
     */
    @Test
    void aReadOfNothingIsANoneChunk() throws Exception {
        nbd.request(0, NBD_CMD_READ, 0x1d, PAGE, 0);
        nbd.expect("668e33ef 0001 0000 000000000000001d 00000000");
    }
}
