package dev.dmp.agent.backend;

import static dev.dmp.agent.backend.ExtentsTest.held;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A regular file's holes, as lseek(SEEK_DATA / SEEK_HOLE) reports them, on a sparse file made here:
 * 8 MiB with data at [1 MiB, 2 MiB) and [5 MiB, 5 MiB + 64 KiB). File systems allocate in blocks of 4
 * KiB (ext4, tmpfs, xfs, btrfs), so 64 KiB-aligned data is reported exactly. The data is not synced:
 * data still in the page cache must already count as data, or a READ would send it as a hole.
 */
class FileBackendExtentsTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final int HOLE = 3; // NBD_STATE_HOLE | NBD_STATE_ZERO
    private static final int DATA = 0;

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void sparseFile() throws IOException {
        file = dir.resolve("sparse.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(8 * MIB);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            write(ch, 1 * MIB, MIB);
            write(ch, 5 * MIB, 64 * KIB);
        }
        try (NativeFile f = NativeFile.open(file, true)) {
            assumeTrue(f != null, "skipped: libc cannot be bound here, so a file is all data");
        }
    }

    private static void write(FileChannel ch, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            b.put((byte) 0xa5);
        }
        ch.write(b.flip(), offset);
    }

    private List<String> extents(long offset, long length, int max) throws IOException {
        try (FileBackend backend = FileBackend.open(file, true)) {
            Extents e = new Extents(offset, length, max);
            backend.extents(e);
            return held(e);
        }
    }

    private static String e(long length, int flags) {
        return length + "/" + flags;
    }

    @Test
    void theWholeFileIsItsHolesAndItsData() throws IOException {
        assertEquals(
                List.of(e(MIB, HOLE), e(MIB, DATA), e(3 * MIB, HOLE), e(64 * KIB, DATA), e(3 * MIB - 64 * KIB, HOLE)),
                extents(0, 8 * MIB, 100));
    }

    @Test
    void aRangeThatStartsInAHole() throws IOException {
        // [512 KiB, 1.5 MiB): half a hole, half the first data
        assertEquals(List.of(e(512 * KIB, HOLE), e(512 * KIB, DATA)), extents(512 * KIB, MIB, 100));
    }

    @Test
    void aRangeThatStartsInData() throws IOException {
        // [1.5 MiB, 5.5 MiB): the end of the first data, the 3 MiB hole, the second data, part of the last hole
        assertEquals(
                List.of(e(512 * KIB, DATA), e(3 * MIB, HOLE), e(64 * KIB, DATA), e(448 * KIB, HOLE)),
                extents(MIB + 512 * KIB, 4 * MIB, 100));
    }

    @Test
    void aRangeWithinOneExtentIsThatExtentCut() throws IOException {
        assertEquals(List.of(e(4096, DATA)), extents(MIB + 8192, 4096, 100));
        assertEquals(List.of(e(4096, HOLE)), extents(7 * MIB, 4096, 100));
    }

    @Test
    void theCountBoundStopsEarly() throws IOException {
        assertEquals(List.of(e(MIB, HOLE), e(MIB, DATA)), extents(0, 8 * MIB, 2));
    }

    @Test
    void pastTheEndOfAFileThatShrankIsData() throws IOException {
        try (FileBackend backend = FileBackend.open(file, true)) {
            // The volume keeps the size it was opened with; the file loses the second half of its last data.
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(5 * MIB + 32 * KIB);
            }
            assertEquals(8L * MIB, backend.size());
            Extents e = new Extents(0, 8 * MIB, 100);
            backend.extents(e);
            // Past the new end nothing can be read: not zeroes but data, so that a structured READ
            // there fails as a simple one does.
            assertEquals(List.of(e(MIB, HOLE), e(MIB, DATA), e(3 * MIB, HOLE), e(3 * MIB, DATA)), held(e));
            // A range wholly past the new end: one data extent.
            Extents past = new Extents(6 * MIB, MIB, 100);
            backend.extents(past);
            assertEquals(List.of(e(MIB, DATA)), held(past));
        }
    }

    /**
     * A 1 MiB file with data in its first 64 KiB, cut to 256 KiB under a backend that keeps its 1 MiB:
     * the data, a hole up to the new end, and past that data again (nothing there can be read, so it
     * is never said to read as zeroes).
     */
    @Test
    void aFileShrunkUnderItsBackendIsAHoleOnlyUpToItsNewEnd() throws IOException {
        Path shrinking = dir.resolve("shrinking.img");
        try (RandomAccessFile f = new RandomAccessFile(shrinking.toFile(), "rw")) {
            f.setLength(MIB);
        }
        try (FileChannel ch = FileChannel.open(shrinking, StandardOpenOption.WRITE)) {
            write(ch, 0, 64 * KIB);
        }
        try (FileBackend backend = FileBackend.open(shrinking, true)) {
            try (RandomAccessFile f = new RandomAccessFile(shrinking.toFile(), "rw")) {
                f.setLength(256 * KIB);
            }
            assertEquals(256L * KIB, Files.size(shrinking));
            assertEquals(1L * MIB, backend.size(), "the backend keeps the size it was opened with");

            Extents whole = new Extents(0, MIB, 100);
            backend.extents(whole);
            assertEquals(List.of(e(65536, DATA), e(196608, HOLE), e(786432, DATA)), held(whole));
            assertEquals(1L * MIB, whole.covered());

            // wholly past the new end: one data extent, not a hole
            Extents past = new Extents(512 * KIB, 64 * KIB, 100);
            backend.extents(past);
            assertEquals(List.of(e(65536, DATA)), held(past));
        }
    }

    @Test
    void aFileWithNoDataIsOneHole() throws IOException {
        Path empty = dir.resolve("empty.img");
        try (RandomAccessFile f = new RandomAccessFile(empty.toFile(), "rw")) {
            f.setLength(8 * MIB);
        }
        try (FileBackend backend = FileBackend.open(empty, false)) {
            Extents e = new Extents(0, 8 * MIB, 100);
            backend.extents(e);
            assertEquals(List.of(e(8 * MIB, HOLE)), held(e));
        }
        assertEquals(8L * MIB, Files.size(empty));
    }
}
