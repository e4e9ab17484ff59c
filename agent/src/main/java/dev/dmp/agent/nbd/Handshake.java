package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The server side of the fixed newstyle handshake: greeting, client flags, then option haggling until
 * the client picks an export (NBD_OPT_GO or NBD_OPT_EXPORT_NAME) or leaves (NBD_OPT_ABORT, or EOF).
 * Besides choosing the export, a client may ask for structured replies (NBD_OPT_STRUCTURED_REPLY) and
 * then select the {@code base:allocation} metadata context (NBD_OPT_SET_META_CONTEXT) for
 * NBD_CMD_BLOCK_STATUS; the {@link Session} says what was settled. NBD_OPT_STARTTLS moves the rest of
 * the connection onto TLS ({@link StartTls}): {@link #channel()} is then the one to go on with.
 */
public final class Handshake {
    private static final Logger LOG = Logger.getLogger(Handshake.class);

    /** The largest request accepted, advertised as NBD_INFO_BLOCK_SIZE's maximum. */
    public static final int MAX_BLOCK = 32 * 1024 * 1024;
    /** NBD_INFO_BLOCK_SIZE's preferred size, unless the export's minimum is larger. */
    public static final int PREFERRED_BLOCK = 4096;
    /** The id {@code base:allocation} gets when selected (the only context: any nonzero id would do). */
    static final int ALLOCATION_CONTEXT_ID = 1;

    /** The socket, until NBD_OPT_STARTTLS replaces it with the TLS channel over it. */
    private ByteChannel ch;

    private final ExportCatalog catalog;
    /** What this listener offers: structuredReplies false refuses NBD_OPT_STRUCTURED_REPLY. */
    private final NbdOptions options;
    /** Says whether a connection may have the export it chose (null) or why not. */
    private final Admission admission;

    /**
     * Decides at NBD_OPT_GO (or NBD_OPT_EXPORT_NAME) whether the connection may have the export: null
     * when it may (and it now counts as one of the export's connections), else why not.
     */
    @FunctionalInterface
    public interface Admission {
        Admission ANY = export -> null;

        String admit(Export export);
    }

    private int optionsSeen;

    private final StartTls startTls;

    private boolean noZeroes;
    private boolean structured;
    /** The export NBD_OPT_SET_META_CONTEXT selected base:allocation for, or null. */
    private String allocationExport;

    public Handshake(ByteChannel ch, ExportCatalog catalog) {
        this(ch, catalog, NbdOptions.defaults());
    }

    public Handshake(ByteChannel ch, ExportCatalog catalog, NbdOptions options) {
        this(ch, catalog, options, Admission.ANY);
    }

    public Handshake(ByteChannel ch, ExportCatalog catalog, NbdOptions options, Admission admission) {
        this.ch = ch;
        this.catalog = catalog;
        this.options = options;
        this.admission = admission;
        this.startTls = new StartTls(options.tls());
    }

    /** The channel the connection goes on with: the TLS channel after NBD_OPT_STARTTLS, else the socket. */
    public ByteChannel channel() {
        return ch;
    }

    /** Whether NBD_OPT_STARTTLS moved the connection onto TLS (then no sendfile: the bytes are encrypted). */
    public boolean encrypted() {
        return startTls.encrypted();
    }

    /** Runs the handshake; returns what was settled, or null when the client left without choosing. */
    public Session negotiate() throws IOException, NbdProtocolException {
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
            if (++optionsSeen > options.limits().maxOptions()) {
                // A client looping on options would hold its thread and our CPU until the deadline.
                throw new NbdProtocolException(optionName(option) + ": more than "
                        + options.limits().maxOptions() + " options in one handshake (dmp.agent.nbd-max-options)");
            }
            if (length > MAX_OPTION_LENGTH) {
                throw new NbdProtocolException(optionName(option) + ": option length " + length
                        + " is over the limit of " + MAX_OPTION_LENGTH);
            }
            ByteBuffer data = ByteBuffer.allocate((int) length);
            Channels.readFully(ch, data);
            data.flip();
            Session chosen = handleOption(option, data);
            if (chosen != null) {
                return chosen;
            }
            if (option == NBD_OPT_ABORT) {
                return null;
            }
        }
    }

    private Session handleOption(int option, ByteBuffer data) throws IOException, NbdProtocolException {
        OptionRefusal tlsFirst = startTls.tlsFirst(option);
        if (tlsFirst != null) {
            if (option == NBD_OPT_EXPORT_NAME) {
                throw new NbdProtocolException("NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS: " + tlsFirst.message());
            }
            error(option, tlsFirst.type(), tlsFirst.message());
            return null;
        }
        switch (option) {
            case NBD_OPT_EXPORT_NAME -> {
                String name = StandardCharsets.UTF_8.decode(data).toString();
                Export export = catalog.find(name);
                if (export == null) {
                    // This option has no error reply: the spec's only answer is to close.
                    throw new NbdProtocolException("NBD_OPT_EXPORT_NAME: no export named '" + name + "'");
                }
                String refused = admission.admit(export);
                if (refused != null) {
                    throw new NbdProtocolException("NBD_OPT_EXPORT_NAME: " + refused);
                }
                Session session = session(name, export);
                ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
                reply.putLong(export.backend().size()).putShort((short) session.transmissionFlags());
                Channels.writeFully(ch, reply.position(reply.limit()).flip());
                return session;
            }
            case NBD_OPT_ABORT -> reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
            case NBD_OPT_LIST -> list(option, data);
            case NBD_OPT_STARTTLS -> startTls(option, data);
            case NBD_OPT_STRUCTURED_REPLY -> structuredReply(option, data);
            case NBD_OPT_LIST_META_CONTEXT, NBD_OPT_SET_META_CONTEXT -> metaContext(option, data);
            case NBD_OPT_INFO, NBD_OPT_GO -> {
                return infoOrGo(option, data);
            }
            default -> error(option, NBD_REP_ERR_UNSUP, optionName(option) + " is not supported");
        }
        return null;
    }

    private Session session(String name, Export export) {
        return new Session(export, structured, name.equals(allocationExport) ? ALLOCATION_CONTEXT_ID : 0);
    }

    private void startTls(int option, ByteBuffer data) throws IOException {
        OptionRefusal refusal = startTls.refusal(data);
        if (refusal != null) {
            error(option, refusal.type(), refusal.message());
            return;
        }
        reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
        ch = startTls.start(ch);
        // What was settled in the clear may have been a man in the middle's doing: nothing of it is kept,
        // and the client settles it again over TLS.
        structured = false;
        allocationExport = null;
    }

    private void list(int option, ByteBuffer data) throws IOException {
        if (data.hasRemaining()) {
            error(option, NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
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
    }

    private void structuredReply(int option, ByteBuffer data) throws IOException {
        if (!options.structuredReplies()) {
            error(
                    option,
                    NBD_REP_ERR_UNSUP,
                    "structured replies are turned off on this agent (dmp.agent.nbd-structured-replies)");
        } else if (data.hasRemaining()) {
            error(option, NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
        } else if (structured) {
            error(option, NBD_REP_ERR_INVALID, "structured replies are already negotiated");
        } else {
            structured = true;
            reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
        }
    }

    /**
     * NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT: the one context is {@code base:allocation}.
     * LIST answers it for no query, {@code base:} or itself; SET selects it when asked for by name (a SET
     * replaces the selection even when it fails, so it is cleared first).
     */
    private void metaContext(int option, ByteBuffer data) throws IOException {
        boolean set = option == NBD_OPT_SET_META_CONTEXT;
        if (set) {
            allocationExport = null;
        }
        String exportName = string(data);
        List<String> queries = exportName == null ? null : queries(data);
        if (queries == null || data.hasRemaining()) {
            error(
                    option,
                    NBD_REP_ERR_INVALID,
                    optionName(option) + ": the export name or a query does not fit the option's length");
            return;
        }
        if (set && !structured) {
            error(option, NBD_REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs NBD_OPT_STRUCTURED_REPLY first");
            return;
        }
        if (catalog.find(exportName) == null) {
            error(option, NBD_REP_ERR_UNKNOWN, "no export named '" + exportName + "'");
            return;
        }
        boolean allocation = set
                ? queries.contains(BASE_ALLOCATION)
                : queries.isEmpty() || queries.contains("base:") || queries.contains(BASE_ALLOCATION);
        if (allocation) {
            byte[] name = BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            // LIST's ids are reserved (0); SET's is the one the client must use.
            int id = set ? ALLOCATION_CONTEXT_ID : 0;
            reply(
                    option,
                    NBD_REP_META_CONTEXT,
                    ByteBuffer.allocate(4 + name.length).putInt(id).put(name).flip());
            if (set) {
                allocationExport = exportName;
            }
        }
        reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
    }

    /** A 32-bit count and that many {@link #string}s, or null when they do not fit in what is left. */
    private static List<String> queries(ByteBuffer data) {
        if (data.remaining() < 4) {
            return null;
        }
        long count = Integer.toUnsignedLong(data.getInt());
        List<String> queries = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            String q = string(data);
            if (q == null) {
                return null;
            }
            queries.add(q);
        }
        return queries;
    }

    /** A 32-bit length and that many bytes of UTF-8, or null when they do not fit in what is left. */
    private static String string(ByteBuffer data) {
        if (data.remaining() < 4) {
            return null;
        }
        long n = Integer.toUnsignedLong(data.getInt());
        if (n > data.remaining() || n > MAX_NAME_LENGTH) {
            return null;
        }
        byte[] bytes = new byte[(int) n];
        data.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private Session infoOrGo(int option, ByteBuffer data) throws IOException {
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
        boolean wantsName = false, wantsDescription = false;
        while (data.hasRemaining()) {
            int info = Short.toUnsignedInt(data.getShort());
            wantsName |= info == NBD_INFO_NAME;
            wantsDescription |= info == NBD_INFO_DESCRIPTION;
        }
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        Export export = catalog.find(name);
        if (export == null) {
            error(option, NBD_REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return null;
        }
        if (option == NBD_OPT_GO) {
            String refused = admission.admit(export);
            if (refused != null) {
                error(option, NBD_REP_ERR_POLICY, refused);
                return null;
            }
        }
        Session session = session(name, export);
        reply(
                option,
                NBD_REP_INFO,
                ByteBuffer.allocate(12)
                        .putShort((short) NBD_INFO_EXPORT)
                        .putLong(export.backend().size())
                        .putShort((short) session.transmissionFlags())
                        .flip());
        if (wantsName) {
            info(option, NBD_INFO_NAME, export.name());
        }
        if (wantsDescription) {
            info(option, NBD_INFO_DESCRIPTION, export.description());
        }
        // Block sizes are always sent: a client that did not ask may still use them, and one that did
        // not ask is told nothing it must obey (spec: NBD_INFO_BLOCK_SIZE). The minimum is the export's
        // own: an upstream's or a block device's, which dmp enforces (NBD_EINVAL) for the backend.
        int minimum = export.minimumBlockSize();
        reply(
                option,
                NBD_REP_INFO,
                ByteBuffer.allocate(14)
                        .putShort((short) NBD_INFO_BLOCK_SIZE)
                        .putInt(minimum)
                        .putInt(Math.max(PREFERRED_BLOCK, minimum))
                        .putInt(MAX_BLOCK)
                        .flip());
        reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
        return option == NBD_OPT_GO ? session : null;
    }

    /** An NBD_REP_INFO carrying a string (NBD_INFO_NAME, NBD_INFO_DESCRIPTION), cut at the spec's limit (UTF-8 kept whole). */
    private void info(int option, int type, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(bytes.length, MAX_NAME_LENGTH);
        while (n < bytes.length && (bytes[n] & 0xC0) == 0x80) {
            n--; // never in the middle of a character: the cut is where one begins
        }
        reply(
                option,
                NBD_REP_INFO,
                ByteBuffer.allocate(2 + n)
                        .putShort((short) type)
                        .put(bytes, 0, n)
                        .flip());
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
