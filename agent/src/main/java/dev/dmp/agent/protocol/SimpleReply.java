package dev.dmp.agent.protocol;

import java.nio.ByteBuffer;

/** The 16-byte simple reply header: magic, error, cookie. Read data, if any, follows it. */
public record SimpleReply(int error, long cookie) {
    public static final int SIZE = 16;

    public void encode(ByteBuffer out) {
        out.putInt(NbdProtocol.NBD_SIMPLE_REPLY_MAGIC);
        out.putInt(error);
        out.putLong(cookie);
    }

    public static SimpleReply decode(ByteBuffer in) throws NbdProtocolException {
        int magic = in.getInt();
        if (magic != NbdProtocol.NBD_SIMPLE_REPLY_MAGIC) {
            throw new NbdProtocolException(String.format("bad reply magic 0x%08x", magic));
        }
        return new SimpleReply(in.getInt(), in.getLong());
    }
}
