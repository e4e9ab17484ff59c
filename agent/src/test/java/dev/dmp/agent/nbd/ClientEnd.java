package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.Wire;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The client's end of one connection in transmission, with the handshake's outcome given as a
 * {@link Session}: a unix socket pair, the {@link TransmissionLoop} serving the other end on platform
 * threads (as NbdServer's do, so a backend's transferTo may run), raw request headers out, raw replies
 * in. {@link #close} disconnects and checks that the server sent nothing the test did not read.
 */
final class ClientEnd implements AutoCloseable {
    private static final long WAIT_SECONDS = 10;

    private final SocketChannel client;
    private final SocketChannel server;
    private final ExecutorService workers =
            Executors.newCachedThreadPool(Thread.ofPlatform().daemon().factory());
    private final CompletableFuture<Void> loop = new CompletableFuture<>();
    private boolean closed;

    ClientEnd(Path dir, Session session, boolean zeroCopy) throws IOException {
        Path socket = dir.resolve("nbd-" + System.nanoTime() + ".sock");
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
            client = SocketChannel.open(listener.getLocalAddress());
            server = listener.accept();
        }
        TransmissionLoop transmission =
                new TransmissionLoop(server, session, workers, new BufferPool(8L << 20), zeroCopy);
        Thread.ofPlatform().daemon().name("loop").start(() -> {
            try {
                transmission.run();
                loop.complete(null);
            } catch (IOException | NbdProtocolException | RuntimeException e) {
                loop.completeExceptionally(e);
            }
        });
    }

    ClientEnd(Path dir, Session session) throws IOException {
        this(dir, session, false);
    }

    /** Sends a request header (and nothing else: no command here carries a payload). */
    void request(int flags, int type, long cookie, long offset, long length) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(NbdRequest.SIZE);
        new NbdRequest(flags, type, cookie, offset, length).encode(header);
        Channels.writeFully(client, header.flip());
    }

    byte[] receive(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        Channels.readFully(client, b);
        return b.array();
    }

    /** Reads as many bytes as {@code expectedHex} holds and compares them with it. */
    void expect(String expectedHex) throws IOException {
        byte[] expected = hex(expectedHex);
        assertEquals(Wire.hex(expected), Wire.hex(receive(expected.length)));
    }

    /** The server closed the connection: no more bytes, and its loop ended. */
    void expectClosed() throws Exception {
        assertEquals(-1, client.read(ByteBuffer.allocate(1)), "bytes after the server should have closed");
        try {
            loop.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            // A loop that ends on the closed socket ends with its error: closed either way.
        }
        closed = true;
    }

    /** NBD_CMD_DISC; the loop ends, and after it the server sent nothing more. */
    @Override
    public void close() throws Exception {
        if (closed) {
            client.close();
            server.close();
            workers.shutdownNow();
            return;
        }
        try {
            request(0, 2, 0xff, 0, 0);
            loop.get(WAIT_SECONDS, TimeUnit.SECONDS);
            server.close();
            assertEquals(-1, client.read(ByteBuffer.allocate(1)), "bytes the test did not expect");
        } finally {
            client.close();
            server.close();
            workers.shutdownNow();
        }
    }
}
