package dev.dmp.agent.protocol;

import java.nio.ByteBuffer;

/**
 * The 20-byte header of a structured reply chunk (spec: "Structured reply chunk message"): magic,
 * flags ({@code NBD_REPLY_FLAG_DONE} on the last chunk of a reply), type, cookie and the length of the
 * payload that follows. The payloads dmp writes are laid out by {@link ReplyChunks}.
 */
public record ReplyChunk(int flags, int type, long cookie, int length) {
    public static final int SIZE = 20;

    public boolean done() {
        return (flags & NbdProtocol.NBD_REPLY_FLAG_DONE) != 0;
    }

    /** The payload's length as the unsigned 32-bit number it is on the wire. */
    public long payloadLength() {
        return Integer.toUnsignedLong(length);
    }

    public void encode(ByteBuffer out) {
        out.putInt(NbdProtocol.NBD_STRUCTURED_REPLY_MAGIC);
        out.putShort((short) flags);
        out.putShort((short) type);
        out.putLong(cookie);
        out.putInt(length);
    }

    /** Reads a chunk header whose magic (already read) was {@code NBD_STRUCTURED_REPLY_MAGIC}. */
    public static ReplyChunk decodeAfterMagic(ByteBuffer in) {
        int flags = Short.toUnsignedInt(in.getShort());
        int type = Short.toUnsignedInt(in.getShort());
        return new ReplyChunk(flags, type, in.getLong(), in.getInt());
    }
}
