package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import org.jboss.logging.Logger;

/**
 * The checks a request passes before it reaches the backend (spec: "Request types", "Error values"):
 * a known command with flags valid for it and for what the session negotiated, the export writable for
 * commands that write, offset and length within the export and aligned to its minimum block size. A
 * refusal names the command and the reason, in one form, as nbdkit's do:
 * {@code invalid request: WRITE: offset and count are out of range: offset=... count=... size=...}.
 */
final class RequestCheck {
    private static final Logger LOG = Logger.getLogger(RequestCheck.class);

    private final Session session;
    private final long size;
    private final boolean readOnly;
    private final int minimumBlock;

    RequestCheck(Session session) {
        this.session = session;
        this.size = session.export().backend().size();
        this.readOnly = session.export().refusesWrites();
        this.minimumBlock = session.export().minimumBlockSize();
    }

    /** Null when the request may go to the backend, else the error the spec gives for it. */
    Refusal check(Received r) {
        int allowedFlags = switch (r.type()) {
            // FUA is valid on every command once NBD_FLAG_SEND_FUA is advertised (spec, command flags);
            // DF only once NBD_FLAG_SEND_DF is (with structured replies).
            case NBD_CMD_READ -> NBD_CMD_FLAG_FUA | (session.structuredReplies() ? NBD_CMD_FLAG_DF : 0);
            case NBD_CMD_WRITE, NBD_CMD_FLUSH, NBD_CMD_TRIM, NBD_CMD_CACHE -> NBD_CMD_FLAG_FUA;
            case NBD_CMD_WRITE_ZEROES -> NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO;
            case NBD_CMD_BLOCK_STATUS -> NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_REQ_ONE;
            default -> -1;
        };
        if (allowedFlags < 0) {
            return invalid(r, NBD_EINVAL, "unknown command");
        }
        if ((r.flags() & ~allowedFlags) != 0) {
            return invalid(
                    r,
                    NBD_EINVAL,
                    String.format("flags 0x%x are not valid for this command", r.flags() & ~allowedFlags));
        }
        boolean writes = r.type() == NBD_CMD_WRITE || r.type() == NBD_CMD_TRIM || r.type() == NBD_CMD_WRITE_ZEROES;
        if (writes && readOnly) {
            return invalid(r, NBD_EPERM, "the export is read-only");
        }
        return switch (r.type()) {
            case NBD_CMD_FLUSH ->
                r.offset() != 0 || r.length() != 0 ? invalid(r, NBD_EINVAL, "offset and length must be 0") : null;
            case NBD_CMD_READ ->
                r.length() > Handshake.MAX_BLOCK
                        ? invalid(
                                r,
                                NBD_EINVAL,
                                "length " + r.length() + " is over the maximum of " + Handshake.MAX_BLOCK)
                        : range(r, NBD_EINVAL);
            case NBD_CMD_BLOCK_STATUS ->
                !session.blockStatus()
                        ? invalid(
                                r,
                                NBD_EINVAL,
                                "no metadata context was selected (NBD_OPT_SET_META_CONTEXT base:allocation)")
                        : r.length() == 0 ? invalid(r, NBD_EINVAL, "length 0") : range(r, NBD_EINVAL);
            // Writing past the end is "no space"; reading, trimming or caching there is invalid (spec, errors).
            case NBD_CMD_WRITE, NBD_CMD_WRITE_ZEROES -> range(r, NBD_ENOSPC);
            default -> range(r, NBD_EINVAL);
        };
    }

    /** Null when offset and length lie within the export and on its minimum block size, else {@code error}. */
    private Refusal range(Received r, int error) {
        boolean ok = r.offset() >= 0 && r.offset() <= size && r.length() <= size - r.offset();
        if (!ok) {
            return invalid(
                    r,
                    error,
                    "offset and count are out of range: offset=" + Long.toUnsignedString(r.offset()) + " count="
                            + r.length() + " size=" + size);
        }
        if (minimumBlock > 1 && (r.offset() % minimumBlock != 0 || r.length() % minimumBlock != 0)) {
            return invalid(
                    r,
                    NBD_EINVAL,
                    "offset and count must be multiples of the minimum block size " + minimumBlock + ": offset="
                            + r.offset() + " count=" + r.length());
        }
        return null;
    }

    private Refusal invalid(Received r, int error, String why) {
        String message = "invalid request: " + r.commandName() + ": " + why;
        LOG.debugf("%s: %s", session.export().name(), message);
        return new Refusal(error, message);
    }
}
