package dev.dmp.agent.nbd.tls;

import dev.dmp.agent.protocol.Channels;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * Streams over a blocking socket channel, for BouncyCastle's TLS, which reads and writes streams. Not
 * {@link java.nio.channels.Channels#newInputStream}: these take no lock, so one thread may read while
 * another writes.
 */
final class SocketStreams {
    private SocketStreams() {}

    static InputStream input(ByteChannel socket) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return len == 0 ? 0 : socket.read(ByteBuffer.wrap(b, off, len));
            }

            @Override
            public void close() throws IOException {
                socket.close();
            }
        };
    }

    static OutputStream output(ByteChannel socket) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                Channels.writeFully(socket, ByteBuffer.wrap(b, off, len));
            }

            @Override
            public void close() throws IOException {
                socket.close();
            }
        };
    }
}
