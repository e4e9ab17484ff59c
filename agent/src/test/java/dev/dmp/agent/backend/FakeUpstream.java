package dev.dmp.agent.backend;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.NbdUri;
import dev.dmp.agent.protocol.ReplyChunk;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An NBD server of the test's making on a unix socket, for {@link NbdClient}: it answers the handshake
 * as a real one would (structured replies, base:allocation under the context id it is given, GO), and
 * from then on the test reads the client's requests and writes whatever replies it likes, well-formed
 * or hostile.
 */
final class FakeUpstream implements AutoCloseable {
    private static final long WAIT_SECONDS = 10;

    private final ServerSocketChannel listener;
    private final NbdUri uri;
    private final long size;
    private final int contextId;
    private SocketChannel ch;

    FakeUpstream(Path dir, long size, int contextId) throws IOException {
        Path socket = dir.resolve("upstream.sock");
        this.listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        this.uri = NbdUri.parse("nbd+unix:///up?socket=" + socket);
        this.size = size;
        this.contextId = contextId;
    }

    NbdUri uri() {
        return uri;
    }

    /** Accepts one connection and answers its handshake, while {@code connect} (the client's side) runs. */
    <T> T connect(Connect<T> connect) throws Exception {
        CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                SocketChannel c = listener.accept();
                handshake(c, size, contextId);
                accepted.complete(c);
            } catch (IOException | NbdProtocolException | RuntimeException e) {
                accepted.completeExceptionally(e);
            }
        });
        T client = connect.open(uri);
        ch = accepted.get(WAIT_SECONDS, TimeUnit.SECONDS);
        return client;
    }

    interface Connect<T> {
        T open(NbdUri uri) throws IOException;
    }

    /**
     * The server's side of a handshake as a real one answers it: structured replies, base:allocation as
     * {@code contextId}, GO with an export of {@code size} bytes; every other option unsupported.
     */
    static void handshake(SocketChannel c, long size, int contextId) throws IOException, NbdProtocolException {
        Channels.writeFully(
                c,
                ByteBuffer.allocate(18)
                        .putLong(NBDMAGIC)
                        .putLong(IHAVEOPT)
                        .putShort((short) (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES))
                        .flip());
        Channels.readFully(c, ByteBuffer.allocate(4));
        while (true) {
            ByteBuffer header = ByteBuffer.allocate(16);
            Channels.readFully(c, header);
            header.flip();
            if (header.getLong() != IHAVEOPT) {
                throw new NbdProtocolException("bad option magic");
            }
            int option = header.getInt();
            Channels.readFully(c, ByteBuffer.allocate(header.getInt()));
            switch (option) {
                case NBD_OPT_STRUCTURED_REPLY -> optionReply(c, option, NBD_REP_ACK, new byte[0]);
                case NBD_OPT_SET_META_CONTEXT -> {
                    byte[] name = BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
                    optionReply(
                            c,
                            option,
                            NBD_REP_META_CONTEXT,
                            ByteBuffer.allocate(4 + name.length)
                                    .putInt(contextId)
                                    .put(name)
                                    .array());
                    optionReply(c, option, NBD_REP_ACK, new byte[0]);
                }
                case NBD_OPT_GO -> {
                    int flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_DF;
                    optionReply(
                            c,
                            option,
                            NBD_REP_INFO,
                            ByteBuffer.allocate(12)
                                    .putShort((short) NBD_INFO_EXPORT)
                                    .putLong(size)
                                    .putShort((short) flags)
                                    .array());
                    optionReply(c, option, NBD_REP_ACK, new byte[0]);
                    return;
                }
                default -> optionReply(c, option, NBD_REP_ERR_UNSUP, new byte[0]);
            }
        }
    }

    private static void optionReply(SocketChannel c, int option, int type, byte[] data) throws IOException {
        Channels.writeFully(
                c,
                ByteBuffer.allocate(20 + data.length)
                        .putLong(OPTION_REPLY_MAGIC)
                        .putInt(option)
                        .putInt(type)
                        .putInt(data.length)
                        .put(data)
                        .flip());
    }

    /** The client's next request header. */
    NbdRequest nextRequest() throws IOException, NbdProtocolException {
        ByteBuffer header = ByteBuffer.allocate(NbdRequest.SIZE);
        Channels.readFully(ch, header);
        return NbdRequest.decode(header.flip());
    }

    /** Writes {@code frames} as they are. */
    void send(byte[]... frames) throws IOException {
        for (byte[] f : frames) {
            Channels.writeFully(ch, ByteBuffer.wrap(f));
        }
    }

    /** True once the client has closed the connection (it sends nothing more than a test expects). */
    boolean closedByClient() throws IOException {
        try {
            return ch.read(ByteBuffer.allocate(1)) < 0;
        } catch (SocketException e) {
            // Closed with bytes of ours unread (the rest of a chunk it rejected): the peer sees a reset.
            return e.getMessage().contains("reset");
        }
    }

    /** A structured reply chunk: header and payload as given, valid or not. */
    static byte[] chunk(int flags, int type, long cookie, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(ReplyChunk.SIZE + payload.length);
        new ReplyChunk(flags, type, cookie, payload.length).encode(b);
        return b.put(payload).array();
    }

    static byte[] data(long cookie, boolean done, long offset, byte[] bytes) {
        return chunk(
                done ? NBD_REPLY_FLAG_DONE : 0,
                NBD_REPLY_TYPE_OFFSET_DATA,
                cookie,
                ByteBuffer.allocate(8 + bytes.length).putLong(offset).put(bytes).array());
    }

    static byte[] hole(long cookie, boolean done, long offset, int length) {
        return chunk(
                done ? NBD_REPLY_FLAG_DONE : 0,
                NBD_REPLY_TYPE_OFFSET_HOLE,
                cookie,
                ByteBuffer.allocate(12).putLong(offset).putInt(length).array());
    }

    static byte[] none(long cookie) {
        return chunk(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, cookie, new byte[0]);
    }

    /** An error chunk of {@code type}: error, message length, message, then {@code rest} (ERROR_OFFSET's offset). */
    static byte[] error(int type, long cookie, int error, String message, byte[] rest) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        return chunk(
                NBD_REPLY_FLAG_DONE,
                type,
                cookie,
                ByteBuffer.allocate(6 + text.length + rest.length)
                        .putInt(error)
                        .putShort((short) text.length)
                        .put(text)
                        .put(rest)
                        .array());
    }

    /** A BLOCK_STATUS chunk for {@code context}: (length, flags) pairs. */
    static byte[] blockStatus(long cookie, boolean done, int context, int... descriptors) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * descriptors.length).putInt(context);
        for (int d : descriptors) {
            b.putInt(d);
        }
        return chunk(done ? NBD_REPLY_FLAG_DONE : 0, NBD_REPLY_TYPE_BLOCK_STATUS, cookie, b.array());
    }

    @Override
    public void close() throws IOException {
        if (ch != null) {
            ch.close();
        }
        listener.close();
    }
}
