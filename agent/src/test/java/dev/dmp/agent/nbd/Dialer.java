package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.OptionFrames.export;
import static dev.dmp.agent.nbd.OptionFrames.option;
import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.SimpleReply;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A raw client of an {@link NbdServer}'s unix socket, for tests of what the server does to whole
 * connections: the greeting (or none), NBD_OPT_GO's final reply, requests out and simple replies in.
 */
final class Dialer implements AutoCloseable {
    /** An option's last reply: its type, and the message an error carries. */
    record Answer(int type, String message) {}

    final SocketChannel ch;

    private Dialer(SocketChannel ch) {
        this.ch = ch;
    }

    static Dialer connect(Path socket) throws IOException {
        return new Dialer(SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket)));
    }

    /** Reads the greeting; false when the server closed the connection before sending it. */
    boolean greeted() throws IOException {
        return Channels.readFullyOrEof(ch, ByteBuffer.allocate(18));
    }

    /** Greeting read, client flags sent, NBD_OPT_GO for {@code name}: its last reply. */
    Answer go(String name) throws IOException {
        if (!greeted()) {
            throw new IOException("no greeting");
        }
        Channels.writeFully(ch, ByteBuffer.wrap(new byte[] {0, 0, 0, 3}));
        send(option(NBD_OPT_GO, export(name)));
        return lastReply();
    }

    void send(byte[] bytes) throws IOException {
        Channels.writeFully(ch, ByteBuffer.wrap(bytes));
    }

    /** Reads option replies up to the last one (an ACK or an error) and returns it. */
    Answer lastReply() throws IOException {
        while (true) {
            ByteBuffer header = ByteBuffer.allocate(20);
            Channels.readFully(ch, header);
            header.flip().getLong();
            header.getInt();
            int type = header.getInt();
            ByteBuffer data = ByteBuffer.allocate(header.getInt());
            Channels.readFully(ch, data);
            if (type == NBD_REP_ACK || (type & NBD_REP_FLAG_ERROR) != 0) {
                return new Answer(
                        type, StandardCharsets.UTF_8.decode(data.flip()).toString());
            }
        }
    }

    void request(int type, long cookie, long offset, int length, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(NbdRequest.SIZE + (payload == null ? 0 : payload.length));
        new NbdRequest(0, type, cookie, offset, length).encode(b);
        if (payload != null) {
            b.put(payload);
        }
        Channels.writeFully(ch, b.flip());
    }

    SimpleReply reply() throws IOException, NbdProtocolException {
        ByteBuffer b = ByteBuffer.allocate(SimpleReply.SIZE);
        Channels.readFully(ch, b);
        return SimpleReply.decode(b.flip());
    }

    /** True when the server has closed its end: the next read sees the end of the stream. */
    boolean closedByServer() throws IOException {
        try {
            return ch.read(ByteBuffer.allocate(1)) < 0;
        } catch (IOException e) {
            return true; // reset: closed with our requests unread
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
