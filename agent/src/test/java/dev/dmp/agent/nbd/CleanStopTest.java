package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.protocol.SimpleReply;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop (the agent's, or a volume's delete) answers the requests it has taken in before it closes
 * the socket, and answers those that come after it began with NBD_ESHUTDOWN without running them. Each
 * test holds a WRITE in the backend, begins the stop, waits until the stop is itself waiting (so that
 * a stop which closed at once would already have closed), and only then lets the WRITE finish.
 */
class CleanStopTest {
    private static final Duration BOUND = Duration.ofSeconds(10);
    /** Above TransmissionLoop.INLINE_MAX: served by a worker, so the reader goes on taking requests in. */
    private static final byte[] DATA = filled(128 << 10, (byte) 0x5a);

    @TempDir
    Path dir;

    private final MemoryBackend held = new MemoryBackend(1 << 20);
    private final MemoryBackend other = new MemoryBackend(1 << 20);
    private final Catalog catalog = new Catalog(
            new Export("held", held, false, () -> RequestObserver.NONE),
            new Export("other", other, false, () -> RequestObserver.NONE));
    private NbdServer server;
    private Path socket;

    @BeforeEach
    void start() throws IOException {
        socket = dir.resolve("nbd.sock");
        server = NbdServer.start(socket, catalog);
        held.writeGate = new CountDownLatch(1);
    }

    @AfterEach
    void stop() throws IOException {
        held.writeGate.countDown();
        server.close();
    }

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        Arrays.fill(a, b);
        return a;
    }

    /** Runs {@code stop} on a thread of its own and returns once it waits (for the requests in flight). */
    private static Thread stopping(Runnable stop) {
        Thread t = Thread.ofPlatform().name("stop").start(stop);
        assertTimeoutPreemptively(BOUND, () -> {
            while (t.getState() != Thread.State.TIMED_WAITING && t.isAlive()) {
                Thread.onSpinWait();
            }
        });
        return t;
    }

    private void writeHeldThenStop(Runnable stop) throws Exception {
        try (Dialer client = Dialer.connect(socket)) {
            assertEquals(NBD_REP_ACK, client.go("held").type());
            client.request(NBD_CMD_WRITE, 1, 0, DATA.length, DATA);
            held.writeStarted.await();
            Thread stopper = stopping(stop);

            // Taken in after the stop began: refused, never run.
            client.request(NBD_CMD_WRITE, 2, DATA.length, DATA.length, DATA);
            assertEquals(new SimpleReply(NBD_ESHUTDOWN, 2), client.reply());

            held.writeGate.countDown();
            assertEquals(new SimpleReply(NBD_OK, 1), client.reply());
            assertTimeoutPreemptively(BOUND, () -> assertTrue(client.closedByServer()));
            stopper.join(BOUND);
        }
        assertArrayEquals(DATA, Arrays.copyOfRange(held.data, 0, DATA.length));
        assertArrayEquals(new byte[DATA.length], Arrays.copyOfRange(held.data, DATA.length, 2 * DATA.length));
    }

    @Test
    void theAgentsStopAnswersTheWriteInFlightBeforeItCloses() throws Exception {
        writeHeldThenStop(() -> {
            try {
                server.close();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void aVolumesDeleteAnswersItsWriteInFlightAndLeavesOtherVolumesServed() throws Exception {
        try (Dialer bystander = Dialer.connect(socket)) {
            assertEquals(NBD_REP_ACK, bystander.go("other").type());
            writeHeldThenStop(() -> catalog.find("held").connections().stopAll("volume 'held' is being deleted"));
            bystander.request(NBD_CMD_WRITE, 7, 0, DATA.length, DATA);
            assertEquals(new SimpleReply(NBD_OK, 7), bystander.reply());
        }
        assertEquals(0, catalog.find("held").connections().count());
    }
}
