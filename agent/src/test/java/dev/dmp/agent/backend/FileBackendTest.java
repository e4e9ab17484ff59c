package dev.dmp.agent.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dmp.agent.os.Errno;
import dev.dmp.agent.protocol.NbdProtocol;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk is NBD_ENOSPC because the kernel said ENOSPC (or EDQUOT, EFBIG), not because an
 * exception's text says so: the writes below fail for real, in the kernel, and the errno is what
 * decides.
 */
class FileBackendTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private Path mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted != null) {
            run("umount", mounted.toString());
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        boolean ended = p.waitFor(30, TimeUnit.SECONDS);
        return ended && p.exitValue() == 0 ? null : String.join(" ", command) + ": " + (ended ? out : "timed out");
    }

    private static ByteBuffer bytes(int length) {
        ByteBuffer b = ByteBuffer.allocateDirect(length);
        while (b.hasRemaining()) {
            b.put((byte) 0x5a);
        }
        return b.flip();
    }

    /** The errno path needs Linux and libc bound; elsewhere the file backend writes through its channel. */
    private void assumeNative() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "skipped: Linux only (its errno values, /dev/full)");
        Path probe = Files.createFile(dir.resolve("probe"));
        try (NativeFile f = NativeFile.open(probe, false)) {
            assumeTrue(f != null, "skipped: libc cannot be bound here, so writes go through the channel");
        }
    }

    /** A 4 MiB file on a 1 MiB tmpfs: WRITE and WRITE_ZEROES run out of space in the kernel. Needs root. */
    @Test
    void aFullFileSystemAnswersNbdEnospc() throws Exception {
        assumeNative();
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        String refused = run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt.toString());
        assumeTrue(
                refused == null,
                "skipped: a full file system needs a small tmpfs, and mounting one needs root (" + refused
                        + "); the ENOSPC of /dev/full below still runs");
        mounted = mnt;
        Path file = mnt.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(4 * MIB); // sparse: the size is there, the blocks are not
        }
        try (FileBackend backend = FileBackend.open(file, false)) {
            backend.write(0, bytes(MIB / 2), true);

            BackendException write =
                    assertThrows(BackendException.class, () -> backend.write(MIB, bytes(2 * MIB), false));
            assertEquals(NbdProtocol.NBD_ENOSPC, write.nbdError());
            assertTrue(
                    write.getMessage().contains("pwrite") && write.getMessage().contains("ENOSPC (28)"),
                    write.getMessage());

            // tmpfs cannot zero a range with fallocate, so the zeroes are written, and they do not fit either.
            BackendException zero =
                    assertThrows(BackendException.class, () -> backend.zero(MIB, 3 * MIB, false, false, false));
            assertEquals(NbdProtocol.NBD_ENOSPC, zero.nbdError());

            // Space freed by a TRIM (a punched hole) takes a write again: nothing about the failure stuck.
            backend.trim(0, MIB, true);
            backend.write(MIB, bytes(MIB / 2), true);
        }
    }

    /** /dev/full answers every write with ENOSPC: no root, no mount, the kernel's errno all the same. */
    @Test
    void aWriteTheKernelRefusesWithEnospcIsNbdEnospc() throws Exception {
        assumeNative();
        assumeTrue(Files.isWritable(Path.of("/dev/full")), "skipped: no writable /dev/full");
        try (NativeFile full = NativeFile.open(Path.of("/dev/full"), false)) {
            BackendException e = assertThrows(BackendException.class, () -> full.write(bytes(4096), 0));
            assertEquals(NbdProtocol.NBD_ENOSPC, e.nbdError());
            assertEquals("file backend: /dev/full: pwrite(offset=0, length=4096) failed: ENOSPC (28)", e.getMessage());
        }
    }

    /** A write past the largest file the file system takes: EFBIG from the kernel, NBD_ENOSPC for the client. */
    @Test
    void aWritePastTheFileSystemsLargestFileIsNbdEnospc() throws Exception {
        assumeNative();
        Path file = Files.createFile(dir.resolve("small.img"));
        IOException refused = null;
        try (NativeFile f = NativeFile.open(file, false)) {
            f.write(bytes(4096), 1L << 50);
        } catch (IOException e) {
            refused = e;
        }
        assumeTrue(refused != null, "skipped: the file system of " + dir + " takes a file of 1 PiB (ext4 refuses it)");
        assertTrue(refused instanceof BackendException, refused.toString());
        assertEquals(NbdProtocol.NBD_ENOSPC, ((BackendException) refused).nbdError());
        assertTrue(refused.getMessage().endsWith("EFBIG (27)"), refused.getMessage());
    }

    @Test
    void onlyTheErrnosOfAWriteThatDoesNotFitAreNbdEnospc() {
        Path p = Path.of("/x");
        for (int errno : new int[] {Errno.ENOSPC, Errno.EDQUOT, Errno.EFBIG}) {
            IOException e = NativeFile.failure(p, "pwrite", errno);
            assertTrue(e instanceof BackendException b && b.nbdError() == NbdProtocol.NBD_ENOSPC, Errno.name(errno));
        }
        IOException eio = NativeFile.failure(p, "pwrite", 5);
        assertFalse(eio instanceof BackendException, "EIO is the loop's NBD_EIO, as any IOException");
        assertEquals("file backend: /x: pwrite failed: errno 5", eio.getMessage());
    }

    @Test
    void writesThroughTheNativeDescriptorReadBack() throws Exception {
        Path file = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(MIB);
        }
        byte[] data = "written at 4096 from a slice of a direct buffer".getBytes(StandardCharsets.UTF_8);
        ByteBuffer src = ByteBuffer.allocateDirect(100).position(10);
        src.put(data).flip().position(10);
        try (FileBackend backend = FileBackend.open(file, false)) {
            backend.write(4096, src, true);
            assertFalse(src.hasRemaining(), "the buffer is consumed, as a channel write consumes it");
            backend.write(8192, ByteBuffer.wrap(data).asReadOnlyBuffer(), false);
            ByteBuffer back = ByteBuffer.allocate(data.length);
            backend.read(4096, back);
            assertArrayEquals(data, back.array());
            backend.read(8192, back.clear());
            assertArrayEquals(data, back.array());
        }
        assertEquals(MIB, Files.size(file));
    }

    /** What a sendfile READ can send whole: a file that shrank under its volume says so beforehand. */
    @Test
    void aShrunkFileIsTransferableOnlyUpToItsNewEnd() throws Exception {
        Path shrinking = dir.resolve("shrinking.img");
        Files.write(shrinking, new byte[8192]);
        try (FileBackend backend = FileBackend.open(shrinking, true)) {
            assertEquals(4096, backend.transferable(4096, 4096));
            try (RandomAccessFile f = new RandomAccessFile(shrinking.toFile(), "rw")) {
                f.setLength(5000);
            }
            assertEquals(4096, backend.transferable(0, 4096), "before the new end: all of it");
            assertEquals(904, backend.transferable(4096, 4096), "5000 - 4096 bytes are left");
            assertEquals(0, backend.transferable(6000, 2192), "past the new end: none");
        }
    }
}
