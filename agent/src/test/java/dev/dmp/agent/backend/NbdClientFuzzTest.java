package dev.dmp.agent.backend;

import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.dmp.agent.fuzz.HeapBudget;
import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.NbdUri;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * A hostile upstream NBD server, for {@link NbdClient}: any bytes, either as its whole handshake or,
 * after a well-behaved handshake (structured replies, base:allocation as context 7, a 1 MiB export), as
 * its replies to one request (a READ, a BLOCK_STATUS, a WRITE or a FLUSH of the input's choosing). The
 * server then closes its side. Whatever it sent, the client either connects and the request ends with a
 * result, or fails with an IOException that is the server's fault: never a RuntimeException underneath
 * (a check the client lacks), never a hang; a successful BLOCK_STATUS describes some of the range and
 * no more; and the heap the client takes stays within {@link HeapBudget}, whatever the lengths say.
 */
class NbdClientFuzzTest {
    private static final long SIZE = 1 << 20;
    private static final int CONTEXT = 7;
    private static Path dir;
    private static ServerSocketChannel listener;
    private static NbdUri uri;

    @BeforeAll
    static void listen() throws IOException {
        dir = Files.createTempDirectory("nbd-client-fuzz");
        Path socket = dir.resolve("upstream.sock");
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        uri = NbdUri.parse("nbd+unix:///up?socket=" + socket);
    }

    @AfterAll
    static void stop() throws IOException {
        listener.close();
        Files.deleteIfExists(dir.resolve("upstream.sock"));
        Files.delete(dir);
    }

    @FuzzTest
    void endsEveryRequestOrDropsTheServerWithAnIoError(FuzzedDataProvider data) throws Exception {
        boolean hostileHandshake = data.consumeBoolean();
        int type = data.pickValue(new int[] {NBD_CMD_READ, NBD_CMD_BLOCK_STATUS, NBD_CMD_WRITE, NBD_CMD_FLUSH});
        int offset = data.consumeInt(0, 255) * 512;
        int length = data.consumeInt(1, 256) * 512;
        byte[] upstream = data.consumeRemainingAsBytes();
        HeapBudget.withinAllThreads(HeapBudget.forInput(upstream.length) + length, "the NBD client", () -> {
            exchange(hostileHandshake, type, offset, length, upstream);
            return null;
        });
    }

    private static void exchange(boolean hostileHandshake, int type, int offset, int length, byte[] upstream)
            throws Exception {
        Thread server = Thread.ofPlatform().start(() -> serve(hostileHandshake, upstream));
        try {
            NbdClient client;
            try {
                client = NbdClient.connect(uri);
            } catch (IOException e) {
                assertTheServersFault(e);
                return;
            }
            try (client) {
                request(client, type, offset, length);
            }
        } finally {
            server.join();
        }
    }

    private static void request(NbdClient client, int type, int offset, int length) {
        try {
            if (type == NBD_CMD_BLOCK_STATUS && client.hasBlockStatus()) {
                Extents extents = new Extents(offset, length, 64);
                NbdClient.Result r = client.blockStatus(extents);
                if (r.error() == NBD_OK) {
                    assertTrue(extents.count() > 0 && extents.covered() <= length, "extents of the range only");
                }
            } else if (type == NBD_CMD_FLUSH || type == NBD_CMD_BLOCK_STATUS) {
                client.request(NBD_CMD_FLUSH, 0, 0, 0, null);
            } else {
                client.request(type, 0, offset, length, ByteBuffer.allocate(length));
            }
        } catch (IOException e) {
            assertTheServersFault(e);
        }
    }

    /** An IOException with no RuntimeException anywhere under it: the client understood what went wrong. */
    private static void assertTheServersFault(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertFalse(t instanceof RuntimeException, "a reply the client could not read: " + e);
        }
    }

    /** The upstream's side: a handshake (its own or the input), the input, then end of stream. */
    private static void serve(boolean hostileHandshake, byte[] upstream) {
        try (SocketChannel c = listener.accept()) {
            if (!hostileHandshake) {
                FakeUpstream.handshake(c, SIZE, CONTEXT);
                ByteBuffer header = ByteBuffer.allocate(NbdRequest.SIZE);
                Channels.readFully(c, header);
            }
            Channels.writeFully(c, ByteBuffer.wrap(upstream));
            c.shutdownOutput();
            ByteBuffer drain = ByteBuffer.allocate(4096);
            while (c.read(drain.clear()) >= 0) {
                // What the client still sends (a WRITE's payload, DISC) until it closes.
            }
        } catch (IOException | NbdProtocolException e) {
            // The client closed first: the exchange is over either way.
        }
    }
}
