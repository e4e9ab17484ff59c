package dev.dmp.agent.protocol;

import java.nio.ByteBuffer;

/**
 * The 28-byte transmission request header: magic, command flags, type, cookie, offset, length.
 * {@code offset} is unsigned on the wire; values past {@link Long#MAX_VALUE} decode as negative and are
 * rejected as out of range by the range check. {@code length} is unsigned 32-bit, held in a long.
 */
public record NbdRequest(int flags, int type, long cookie, long offset, long length) {
    public static final int SIZE = 28;

    /** Decodes a header from the next 28 bytes of {@code in}. */
    public static NbdRequest decode(ByteBuffer in) throws NbdProtocolException {
        int magic = in.getInt();
        if (magic != NbdProtocol.NBD_REQUEST_MAGIC) {
            throw new NbdProtocolException(String.format("bad request magic 0x%08x", magic));
        }
        int flags = Short.toUnsignedInt(in.getShort());
        int type = Short.toUnsignedInt(in.getShort());
        long cookie = in.getLong();
        long offset = in.getLong();
        long length = Integer.toUnsignedLong(in.getInt());
        return new NbdRequest(flags, type, cookie, offset, length);
    }

    /** Encodes this header (a client's view; used by tests and the nbd backend). */
    public void encode(ByteBuffer out) {
        out.putInt(NbdProtocol.NBD_REQUEST_MAGIC);
        out.putShort((short) flags);
        out.putShort((short) type);
        out.putLong(cookie);
        out.putLong(offset);
        out.putInt((int) length);
    }

    /** The name of the command, for messages. */
    public String commandName() {
        return NbdProtocol.commandName(type);
    }
}
