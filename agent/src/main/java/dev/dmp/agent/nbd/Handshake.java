package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import org.jboss.logging.Logger;

/**
 * The server side of the fixed newstyle handshake: greeting, client flags, then option haggling until
 * the client picks an export (NBD_OPT_GO or NBD_OPT_EXPORT_NAME) or leaves (NBD_OPT_ABORT, or EOF).
 */
public final class Handshake {
    private static final Logger LOG = Logger.getLogger(Handshake.class);

    /** Block sizes advertised in NBD_INFO_BLOCK_SIZE; {@link #MAX_BLOCK} is also the largest request accepted. */
    public static final int MIN_BLOCK = 1;

    public static final int PREFERRED_BLOCK = 4096;
    public static final int MAX_BLOCK = 32 * 1024 * 1024;

    private final ByteChannel ch;
    private final ExportCatalog catalog;
    private boolean noZeroes;

    public Handshake(ByteChannel ch, ExportCatalog catalog) {
        this.ch = ch;
        this.catalog = catalog;
    }

    /** Runs the handshake; returns the chosen export, or null when the client left without choosing. */
    public Export negotiate() throws IOException, NbdProtocolException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        greeting.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES));
        Channels.writeFully(ch, greeting.flip());

        ByteBuffer clientFlags = ByteBuffer.allocate(4);
        if (!Channels.readFullyOrEof(ch, clientFlags)) {
            return null;
        }
        int flags = clientFlags.flip().getInt();
        if ((flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) != 0) {
            throw new NbdProtocolException(String.format("unknown client flags 0x%08x", flags));
        }
        noZeroes = (flags & NBD_FLAG_C_NO_ZEROES) != 0;

        ByteBuffer header = ByteBuffer.allocate(16);
        while (true) {
            header.clear();
            if (!Channels.readFullyOrEof(ch, header)) {
                return null;
            }
            header.flip();
            long magic = header.getLong();
            if (magic != IHAVEOPT) {
                throw new NbdProtocolException(String.format("bad option magic 0x%016x", magic));
            }
            int option = header.getInt();
            long length = Integer.toUnsignedLong(header.getInt());
            if (length > MAX_OPTION_LENGTH) {
                throw new NbdProtocolException(optionName(option) + ": option length " + length
                        + " is over the limit of " + MAX_OPTION_LENGTH);
            }
            ByteBuffer data = ByteBuffer.allocate((int) length);
            Channels.readFully(ch, data);
            data.flip();
            Export chosen = handleOption(option, data);
            if (chosen != null) {
                return chosen;
            }
            if (option == NBD_OPT_ABORT) {
                return null;
            }
        }
    }

    private Export handleOption(int option, ByteBuffer data) throws IOException, NbdProtocolException {
        switch (option) {
            case NBD_OPT_EXPORT_NAME -> {
                String name = StandardCharsets.UTF_8.decode(data).toString();
                Export export = catalog.find(name);
                if (export == null) {
                    // This option has no error reply: the spec's only answer is to close.
                    throw new NbdProtocolException("NBD_OPT_EXPORT_NAME: no export named '" + name + "'");
                }
                ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
                reply.putLong(export.backend().size()).putShort((short) export.transmissionFlags());
                Channels.writeFully(ch, reply.position(reply.limit()).flip());
                return export;
            }
            case NBD_OPT_ABORT -> {
                reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
                return null;
            }
            case NBD_OPT_LIST -> {
                if (data.hasRemaining()) {
                    error(option, NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                    return null;
                }
                for (String name : catalog.names()) {
                    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
                    reply(
                            option,
                            NBD_REP_SERVER,
                            ByteBuffer.allocate(4 + bytes.length)
                                    .putInt(bytes.length)
                                    .put(bytes)
                                    .flip());
                }
                reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
                return null;
            }
            case NBD_OPT_INFO, NBD_OPT_GO -> {
                return infoOrGo(option, data);
            }
            default -> {
                error(option, NBD_REP_ERR_UNSUP, optionName(option) + " is not supported");
                return null;
            }
        }
    }

    private Export infoOrGo(int option, ByteBuffer data) throws IOException {
        if (data.remaining() < 6) {
            error(option, NBD_REP_ERR_INVALID, optionName(option) + ": data too short");
            return null;
        }
        long nameLength = Integer.toUnsignedLong(data.getInt());
        if (nameLength > data.remaining() - 2 || nameLength > MAX_NAME_LENGTH) {
            error(
                    option,
                    NBD_REP_ERR_INVALID,
                    optionName(option) + ": export name length " + nameLength + " is inconsistent");
            return null;
        }
        byte[] nameBytes = new byte[(int) nameLength];
        data.get(nameBytes);
        int requests = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != requests * 2) {
            error(
                    option,
                    NBD_REP_ERR_INVALID,
                    optionName(option) + ": " + requests + " information requests announced, " + data.remaining()
                            + " bytes sent");
            return null;
        }
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        Export export = catalog.find(name);
        if (export == null) {
            error(option, NBD_REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return null;
        }
        ByteBuffer info = ByteBuffer.allocate(12);
        info.putShort((short) NBD_INFO_EXPORT).putLong(export.backend().size()).putShort((short)
                export.transmissionFlags());
        reply(option, NBD_REP_INFO, info.flip());
        // Block sizes are always sent: a client that did not ask may still use them, and one that did
        // not ask is told nothing it must obey (spec: NBD_INFO_BLOCK_SIZE).
        ByteBuffer sizes = ByteBuffer.allocate(14);
        sizes.putShort((short) NBD_INFO_BLOCK_SIZE)
                .putInt(MIN_BLOCK)
                .putInt(PREFERRED_BLOCK)
                .putInt(MAX_BLOCK);
        reply(option, NBD_REP_INFO, sizes.flip());
        reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
        return option == NBD_OPT_GO ? export : null;
    }

    private void error(int option, int type, String message) throws IOException {
        LOG.debugf("handshake: %s refused: %s", optionName(option), message);
        reply(option, type, StandardCharsets.UTF_8.encode(message));
    }

    private void reply(int option, int type, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(20);
        header.putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(data.remaining());
        Channels.writeFully(ch, header.flip());
        Channels.writeFully(ch, data);
    }
}
