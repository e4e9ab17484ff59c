package dev.dmp.agent.nbd.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import org.bouncycastle.tls.TlsNoCloseNotifyException;
import org.bouncycastle.tls.TlsProtocol;

/**
 * The plaintext of a TLS connection that BouncyCastle runs in blocking mode. Its protocol reads and
 * writes records under locks of its own, so one thread may read while another writes; payloads in
 * direct buffers go through a heap array of up to {@link #CHUNK} bytes at a time.
 */
final class ProtocolChannel implements ByteChannel {
    /** One TLS record's worth of plaintext. */
    private static final int CHUNK = 16 << 10;

    private final TlsProtocol protocol;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] readChunk = new byte[CHUNK];
    private final byte[] writeChunk = new byte[CHUNK];

    ProtocolChannel(TlsProtocol protocol) {
        this.protocol = protocol;
        this.in = protocol.getInputStream();
        this.out = protocol.getOutputStream();
    }

    /**
     * Called by one thread at a time (the connection's reader). A client that closes its socket without
     * close_notify is at the end of its stream like any other: whether a frame was cut short is the NBD
     * layer's to tell.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        try {
            return readSome(dst);
        } catch (TlsNoCloseNotifyException e) {
            return -1;
        }
    }

    private int readSome(ByteBuffer dst) throws IOException {
        if (dst.hasArray()) {
            int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        }
        int n = in.read(readChunk, 0, Math.min(CHUNK, dst.remaining()));
        if (n > 0) {
            dst.put(readChunk, 0, n);
        }
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        if (src.hasArray()) {
            out.write(src.array(), src.arrayOffset() + src.position(), n);
            src.position(src.limit());
            return n;
        }
        synchronized (writeChunk) {
            while (src.hasRemaining()) {
                int k = Math.min(CHUNK, src.remaining());
                src.get(writeChunk, 0, k);
                out.write(writeChunk, 0, k);
            }
        }
        return n;
    }

    @Override
    public boolean isOpen() {
        return !protocol.isClosed();
    }

    /** Sends close_notify and closes the socket. */
    @Override
    public void close() throws IOException {
        protocol.close();
    }
}
