package dev.dmp.agent.protocol;

/**
 * Constants of the NBD protocol, named as in the NetworkBlockDevice/nbd {@code doc/proto.md}.
 * Every number on the wire is big-endian.
 */
public final class NbdProtocol {
    private NbdProtocol() {}

    // Handshake magics.
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454f5054L;
    public static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;

    // Handshake flags (server) and client flags.
    public static final int NBD_FLAG_FIXED_NEWSTYLE = 1;
    public static final int NBD_FLAG_NO_ZEROES = 1 << 1;
    public static final int NBD_FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int NBD_FLAG_C_NO_ZEROES = 1 << 1;

    // Options.
    public static final int NBD_OPT_EXPORT_NAME = 1;
    public static final int NBD_OPT_ABORT = 2;
    public static final int NBD_OPT_LIST = 3;
    public static final int NBD_OPT_STARTTLS = 5;
    public static final int NBD_OPT_INFO = 6;
    public static final int NBD_OPT_GO = 7;
    public static final int NBD_OPT_STRUCTURED_REPLY = 8;
    public static final int NBD_OPT_LIST_META_CONTEXT = 9;
    public static final int NBD_OPT_SET_META_CONTEXT = 10;

    // Option reply types.
    public static final int NBD_REP_ACK = 1;
    public static final int NBD_REP_SERVER = 2;
    public static final int NBD_REP_INFO = 3;
    public static final int NBD_REP_META_CONTEXT = 4;
    public static final int NBD_REP_FLAG_ERROR = 1 << 31;
    public static final int NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR | 1;
    public static final int NBD_REP_ERR_POLICY = NBD_REP_FLAG_ERROR | 2;
    public static final int NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR | 3;
    public static final int NBD_REP_ERR_TLS_REQD = NBD_REP_FLAG_ERROR | 5;
    public static final int NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR | 6;

    // Info types (NBD_OPT_INFO / NBD_OPT_GO).
    public static final int NBD_INFO_EXPORT = 0;
    public static final int NBD_INFO_NAME = 1;
    public static final int NBD_INFO_DESCRIPTION = 2;
    public static final int NBD_INFO_BLOCK_SIZE = 3;

    // Transmission flags.
    public static final int NBD_FLAG_HAS_FLAGS = 1;
    public static final int NBD_FLAG_READ_ONLY = 1 << 1;
    public static final int NBD_FLAG_SEND_FLUSH = 1 << 2;
    public static final int NBD_FLAG_SEND_FUA = 1 << 3;
    public static final int NBD_FLAG_SEND_TRIM = 1 << 5;
    public static final int NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int NBD_FLAG_SEND_DF = 1 << 7;
    public static final int NBD_FLAG_CAN_MULTI_CONN = 1 << 8;
    public static final int NBD_FLAG_SEND_CACHE = 1 << 10;
    public static final int NBD_FLAG_SEND_FAST_ZERO = 1 << 11;

    // Transmission phase magics.
    public static final int NBD_REQUEST_MAGIC = 0x25609513;
    public static final int NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // Structured reply flags and chunk types.
    public static final int NBD_REPLY_FLAG_DONE = 1;
    public static final int NBD_REPLY_TYPE_NONE = 0;
    public static final int NBD_REPLY_TYPE_OFFSET_DATA = 1;
    public static final int NBD_REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int NBD_REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int NBD_REPLY_TYPE_ERROR = (1 << 15) + 1;
    public static final int NBD_REPLY_TYPE_ERROR_OFFSET = (1 << 15) + 2;

    // The base:allocation metadata context and its status flags.
    public static final String BASE_ALLOCATION = "base:allocation";
    public static final int NBD_STATE_HOLE = 1;
    public static final int NBD_STATE_ZERO = 1 << 1;

    // Commands.
    public static final int NBD_CMD_READ = 0;
    public static final int NBD_CMD_WRITE = 1;
    public static final int NBD_CMD_DISC = 2;
    public static final int NBD_CMD_FLUSH = 3;
    public static final int NBD_CMD_TRIM = 4;
    public static final int NBD_CMD_CACHE = 5;
    public static final int NBD_CMD_WRITE_ZEROES = 6;
    public static final int NBD_CMD_BLOCK_STATUS = 7;

    // Command flags.
    public static final int NBD_CMD_FLAG_FUA = 1;
    public static final int NBD_CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int NBD_CMD_FLAG_DF = 1 << 2;
    public static final int NBD_CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int NBD_CMD_FLAG_FAST_ZERO = 1 << 4;

    // Errors (values fixed by the spec, equal to Linux errno).
    public static final int NBD_OK = 0;
    public static final int NBD_EPERM = 1;
    public static final int NBD_EIO = 5;
    public static final int NBD_ENOMEM = 12;
    public static final int NBD_EINVAL = 22;
    public static final int NBD_ENOSPC = 28;
    public static final int NBD_EOVERFLOW = 75;
    public static final int NBD_ENOTSUP = 95;
    public static final int NBD_ESHUTDOWN = 108;

    /** Largest option payload accepted during the handshake; larger ones end the connection. */
    public static final int MAX_OPTION_LENGTH = 64 * 1024;
    /** Export names are at most 4096 bytes (spec: "MUST be able to handle ... up to 4096 bytes"). */
    public static final int MAX_NAME_LENGTH = 4096;

    /** Names of commands, for messages and logs. */
    public static String commandName(int type) {
        return switch (type) {
            case NBD_CMD_READ -> "READ";
            case NBD_CMD_WRITE -> "WRITE";
            case NBD_CMD_DISC -> "DISC";
            case NBD_CMD_FLUSH -> "FLUSH";
            case NBD_CMD_TRIM -> "TRIM";
            case NBD_CMD_CACHE -> "CACHE";
            case NBD_CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            case NBD_CMD_BLOCK_STATUS -> "BLOCK_STATUS";
            default -> "CMD(" + type + ")";
        };
    }

    /** Names of NBD errors, for messages: "NBD_EIO", or "NBD error 42" for one the spec does not name. */
    public static String errorName(int error) {
        return switch (error) {
            case NBD_EPERM -> "NBD_EPERM";
            case NBD_EIO -> "NBD_EIO";
            case NBD_ENOMEM -> "NBD_ENOMEM";
            case NBD_EINVAL -> "NBD_EINVAL";
            case NBD_ENOSPC -> "NBD_ENOSPC";
            case NBD_EOVERFLOW -> "NBD_EOVERFLOW";
            case NBD_ENOTSUP -> "NBD_ENOTSUP";
            case NBD_ESHUTDOWN -> "NBD_ESHUTDOWN";
            default -> "NBD error " + error;
        };
    }

    /** Names of options, for logs. */
    public static String optionName(int option) {
        return switch (option) {
            case NBD_OPT_EXPORT_NAME -> "NBD_OPT_EXPORT_NAME";
            case NBD_OPT_ABORT -> "NBD_OPT_ABORT";
            case NBD_OPT_LIST -> "NBD_OPT_LIST";
            case NBD_OPT_STARTTLS -> "NBD_OPT_STARTTLS";
            case NBD_OPT_INFO -> "NBD_OPT_INFO";
            case NBD_OPT_GO -> "NBD_OPT_GO";
            case NBD_OPT_STRUCTURED_REPLY -> "NBD_OPT_STRUCTURED_REPLY";
            case NBD_OPT_LIST_META_CONTEXT -> "NBD_OPT_LIST_META_CONTEXT";
            case NBD_OPT_SET_META_CONTEXT -> "NBD_OPT_SET_META_CONTEXT";
            default -> "OPT(" + option + ")";
        };
    }
}
