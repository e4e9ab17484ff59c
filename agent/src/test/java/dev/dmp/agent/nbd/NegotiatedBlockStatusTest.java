package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.OptionFrames.export;
import static dev.dmp.agent.nbd.OptionFrames.metaContexts;
import static dev.dmp.agent.nbd.OptionFrames.option;
import static dev.dmp.agent.nbd.SparseBackend.PAGE;
import static dev.dmp.agent.nbd.SparseBackend.pattern;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.backend.Extents;
import dev.dmp.agent.backend.NbdBackend;
import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.NbdUri;
import dev.dmp.agent.protocol.Wire;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path through NbdServer: what the handshake settles is what transmission does. The context
 * id SET_META_CONTEXT answers is the one BLOCK_STATUS replies carry; a connection that did not select it
 * gets NBD_EINVAL; and dmp's own nbd backend in front of dmp (negotiating all of it) sees the holes.
 */
class NegotiatedBlockStatusTest {
    @TempDir
    Path dir;

    private final SparseBackend backend = SparseBackend.dataInPagesOneAndThree();
    private NbdServer server;

    @BeforeEach
    void start() throws IOException {
        server = NbdServer.start(
                dir.resolve("dmp.sock"), new Catalog(new Export("sparse", backend, false, () -> RequestObserver.NONE)));
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(server.socketPath()));
        Channels.readFully(ch, ByteBuffer.allocate(18)); // greeting
        Channels.writeFully(ch, ByteBuffer.wrap(hex(OptionFrames.CLIENT_FLAGS)));
        return ch;
    }

    /** The option replies up to and including the last one (an ACK or an error), as (type, data). */
    private static List<Object[]> replies(SocketChannel ch) throws IOException {
        List<Object[]> out = new ArrayList<>();
        while (true) {
            ByteBuffer h = ByteBuffer.allocate(20);
            Channels.readFully(ch, h);
            h.flip().getLong();
            h.getInt();
            int type = h.getInt();
            ByteBuffer data = ByteBuffer.allocate(h.getInt());
            Channels.readFully(ch, data);
            out.add(new Object[] {type, data.flip()});
            if (type == NBD_REP_ACK || (type & NBD_REP_FLAG_ERROR) != 0) {
                return out;
            }
        }
    }

    private static byte[] receive(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        Channels.readFully(ch, b);
        return b.array();
    }

    private static void request(SocketChannel ch, int flags, int type, long cookie, long offset, long length)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(NbdRequest.SIZE);
        new NbdRequest(flags, type, cookie, offset, length).encode(b);
        Channels.writeFully(ch, b.flip());
    }

    @Test
    void theIdSetMetaContextGaveIsTheOneBlockStatusCarries() throws Exception {
        try (SocketChannel ch = connect()) {
            Channels.writeFully(ch, ByteBuffer.wrap(option(NBD_OPT_STRUCTURED_REPLY)));
            assertEquals(NBD_REP_ACK, replies(ch).get(0)[0]);
            Channels.writeFully(
                    ch, ByteBuffer.wrap(option(NBD_OPT_SET_META_CONTEXT, metaContexts("sparse", "base:allocation"))));
            List<Object[]> set = replies(ch);
            assertEquals(2, set.size());
            assertEquals(NBD_REP_META_CONTEXT, set.get(0)[0]);
            ByteBuffer context = (ByteBuffer) set.get(0)[1];
            int id = context.getInt();
            assertEquals(BASE_ALLOCATION, StandardCharsets.UTF_8.decode(context).toString());
            Channels.writeFully(ch, ByteBuffer.wrap(option(NBD_OPT_GO, export("sparse"))));
            assertEquals(NBD_REP_ACK, replies(ch).getLast()[0]);

            request(ch, NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 0x71, PAGE, PAGE);
            assertEquals(
                    String.format("668e33ef00010005%016x0000000c%08x0001000000000000", 0x71, id),
                    Wire.hex(receive(ch, 32)));
            // and READs are structured: the hole of page 0 is a hole chunk
            request(ch, 0, NBD_CMD_READ, 0x72, 0, PAGE);
            assertEquals(
                    "668e33ef000100020000000000000072" + "0000000c" + "0000000000000000" + "00010000",
                    Wire.hex(receive(ch, 32)));
        }
    }

    @Test
    void withoutSetMetaContextBlockStatusIsEinval() throws Exception {
        try (SocketChannel ch = connect()) {
            Channels.writeFully(ch, ByteBuffer.wrap(option(NBD_OPT_STRUCTURED_REPLY)));
            replies(ch);
            Channels.writeFully(ch, ByteBuffer.wrap(option(NBD_OPT_GO, export("sparse"))));
            assertEquals(NBD_REP_ACK, replies(ch).getLast()[0]);
            request(ch, 0, NBD_CMD_BLOCK_STATUS, 0x73, 0, PAGE);
            String expected = ChunkFrames.error(
                            0x73,
                            NBD_EINVAL,
                            "invalid request: BLOCK_STATUS: no metadata context was selected"
                                    + " (NBD_OPT_SET_META_CONTEXT base:allocation)")
                    .replace(" ", "");
            assertEquals(expected, Wire.hex(receive(ch, expected.length() / 2)));
        }
    }

    /** dmp's nbd backend in front of dmp: it negotiates structured replies and base:allocation, and sees the holes. */
    @Test
    void dmpInFrontOfDmpSeesTheHolesAndReadsTheData() throws Exception {
        NbdUri uri = NbdUri.parse("nbd+unix:///sparse?socket=" + server.socketPath());
        try (NbdBackend upstream = NbdBackend.connect(uri)) {
            Extents extents = new Extents(0, 1 << 20, 100);
            upstream.extents(extents);
            List<String> held = new ArrayList<>();
            for (int i = 0; i < extents.count(); i++) {
                held.add(extents.length(i) + "/" + extents.flags(i));
            }
            assertEquals(List.of("65536/3", "65536/0", "65536/3", "65536/0", "786432/3"), held);

            ByteBuffer read = ByteBuffer.allocate(4 * PAGE);
            upstream.read(0, read);
            assertArrayEquals(
                    Wire.concat(new byte[PAGE], pattern(PAGE, PAGE), new byte[PAGE], pattern(3 * PAGE, PAGE)),
                    read.array());
        }
    }
}
