package dev.dmp.agent.backend;

import static dev.dmp.agent.backend.ExtentsTest.held;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file backend remembers the last data run it found ({@link DataRun}): the answers built from it must
 * be the ones lseek gives, including after a TRIM or WRITE_ZEROES makes a hole inside the run. The file:
 * 4 MiB, data at [1 MiB, 2 MiB) only.
 */
class FileBackendDataRunTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final int HOLE = 3; // NBD_STATE_HOLE | NBD_STATE_ZERO

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void sparseFile() throws IOException {
        file = dir.resolve("sparse.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(4 * MIB);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(MIB).put(new byte[MIB]).flip().put(0, (byte) 1), MIB);
        }
        try (NativeFile f = NativeFile.open(file, true)) {
            assumeTrue(f != null, "skipped: libc cannot be bound here, so a file is all data");
        }
    }

    private static List<String> extents(FileBackend backend, long offset, long length) throws IOException {
        Extents e = new Extents(offset, length, 100);
        backend.extents(e);
        return held(e);
    }

    @Test
    void aQueryInsideTheRunFoundBeforeEndsWhereTheRunEnds() throws IOException {
        try (FileBackend backend = FileBackend.open(file, true)) {
            assertEquals(List.of(64 * KIB + "/0"), extents(backend, MIB, 64 * KIB));
            // From memory up to 2 MiB, then lseek again: the hole after it.
            assertEquals(List.of(512 * KIB + "/0", 512 * KIB + "/" + HOLE), extents(backend, MIB + 512 * KIB, MIB));
        }
    }

    @Test
    void aTrimInsideTheRunIsSeenByTheNextQuery() throws IOException {
        try (FileBackend backend = FileBackend.open(file, false)) {
            assertEquals(List.of(MIB + "/0"), extents(backend, MIB, MIB));
            backend.trim(MIB + 256 * KIB, 256 * KIB, false);
            assertEquals(
                    List.of(256 * KIB + "/0", 256 * KIB + "/" + HOLE, 512 * KIB + "/0"), extents(backend, MIB, MIB));
        }
    }

    @Test
    void aZeroedRangeThatBecameAHoleIsSeenByTheNextQuery() throws IOException {
        try (FileBackend backend = FileBackend.open(file, false)) {
            assertEquals(List.of(MIB + "/0"), extents(backend, MIB, MIB));
            backend.zero(MIB, 512 * KIB, true, false, false);
            assertEquals(List.of(512 * KIB + "/" + HOLE, 512 * KIB + "/0"), extents(backend, MIB, MIB));
        }
    }
}
