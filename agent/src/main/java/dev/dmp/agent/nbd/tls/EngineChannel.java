package dev.dmp.agent.nbd.tls;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * The plaintext of a TLS connection that JSSE's {@link SSLEngine} runs over a blocking channel. One
 * thread reads (the connection's request reader) while others write (the workers' replies): reading
 * and writing each hold a lock of their own, as SSLEngine lets unwrap and wrap run at the same time.
 * Renegotiation is not supported (TLS 1.3 has none; a TLS 1.2 client asking for it is disconnected).
 */
final class EngineChannel implements ByteChannel {
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    private final ByteChannel socket;
    private final SSLEngine engine;
    private final ReentrantLock reading = new ReentrantLock();
    private final ReentrantLock writing = new ReentrantLock();
    /** Ciphertext read from the socket, not yet unwrapped; in read mode between calls. */
    private ByteBuffer netIn;
    /** Plaintext unwrapped, not yet returned; in read mode between calls. */
    private ByteBuffer appIn;
    /** Ciphertext wrapped, being written; used under {@link #writing} only. */
    private ByteBuffer netOut;

    private EngineChannel(ByteChannel socket, SSLEngine engine) {
        this.socket = socket;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet).flip();
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize())
                .flip();
        this.netOut = ByteBuffer.allocate(packet);
    }

    /** Runs the handshake of a server-mode engine on {@code socket}; returns the channel once it is done. */
    static EngineChannel handshake(ByteChannel socket, SSLEngine engine) throws IOException {
        EngineChannel channel = new EngineChannel(socket, engine);
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> channel.runTasks();
                case NEED_WRAP -> channel.send(NOTHING);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    channel.reading.lock();
                    try {
                        if (channel.unwrap() < 0) {
                            throw new EOFException("the client closed the connection during the TLS handshake");
                        }
                    } finally {
                        channel.reading.unlock();
                    }
                }
                case FINISHED, NOT_HANDSHAKING -> {
                    return channel;
                }
            }
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        reading.lock();
        try {
            while (!appIn.hasRemaining()) {
                if (unwrap() < 0) {
                    return -1;
                }
            }
            int n = Math.min(appIn.remaining(), dst.remaining());
            dst.put(appIn.slice(appIn.position(), n));
            appIn.position(appIn.position() + n);
            return n;
        } finally {
            reading.unlock();
        }
    }

    /**
     * One step of unwrapping into {@link #appIn}: a record, or more ciphertext read from the socket, or
     * a larger buffer. Returns the plaintext bytes it produced (maybe 0), or -1 at the end of the stream.
     */
    private int unwrap() throws IOException {
        appIn.compact();
        try {
            SSLEngineResult result = engine.unwrap(netIn, appIn);
            switch (result.getStatus()) {
                case BUFFER_UNDERFLOW -> {
                    int packet = engine.getSession().getPacketBufferSize();
                    if (netIn.capacity() < packet) {
                        netIn = ByteBuffer.allocate(packet).put(netIn).flip();
                    }
                    netIn.compact();
                    int n = socket.read(netIn);
                    netIn.flip();
                    return n < 0 ? -1 : 0;
                }
                case BUFFER_OVERFLOW -> {
                    appIn = ByteBuffer.allocate(
                                    appIn.position() + engine.getSession().getApplicationBufferSize())
                            .put(appIn.flip());
                    return 0;
                }
                case CLOSED -> {
                    return -1;
                }
                default -> {
                    afterStep(result);
                    return result.bytesProduced();
                }
            }
        } finally {
            appIn.flip();
        }
    }

    /** What a record may ask for after the handshake: a delegated task, or an answer (a key update's). */
    private void afterStep(SSLEngineResult result) throws IOException {
        if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
        }
        if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
            send(NOTHING);
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        send(src);
        return n;
    }

    /** Wraps all of {@code src} (or one handshake message when it is empty) and writes it to the socket. */
    private void send(ByteBuffer src) throws IOException {
        writing.lock();
        try {
            while (true) {
                netOut.clear();
                SSLEngineResult result = engine.wrap(src, netOut);
                if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                    netOut = ByteBuffer.allocate(
                            netOut.capacity() + engine.getSession().getPacketBufferSize());
                    continue;
                }
                if (result.getStatus() == SSLEngineResult.Status.CLOSED && result.bytesProduced() == 0) {
                    throw new ClosedChannelException();
                }
                netOut.flip();
                while (netOut.hasRemaining()) {
                    socket.write(netOut);
                }
                if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    runTasks();
                }
                if (!src.hasRemaining()) {
                    return;
                }
                if (result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
                    throw new SSLException("the client asked for a TLS renegotiation, which is not supported");
                }
            }
        } finally {
            writing.unlock();
        }
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    /**
     * Sends close_notify when no reply is being written (a writer stuck on a client that stopped reading
     * must not hold up the close), then closes the socket.
     */
    @Override
    public void close() throws IOException {
        try (socket) {
            if (socket.isOpen() && writing.tryLock()) {
                try {
                    engine.closeOutbound();
                    send(NOTHING);
                } catch (IOException e) {
                    // The client went first: nothing to tell it.
                } finally {
                    writing.unlock();
                }
            }
        }
    }
}
