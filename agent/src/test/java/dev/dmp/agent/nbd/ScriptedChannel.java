package dev.dmp.agent.nbd;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * A channel whose peer has already sent everything it will send: reads return the scripted bytes and
 * then end of stream; writes are collected for the test to compare.
 */
final class ScriptedChannel implements ByteChannel {
    private final ByteBuffer in;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ScriptedChannel(byte[] peerSends) {
        this.in = ByteBuffer.wrap(peerSends);
    }

    @Override
    public int read(ByteBuffer dst) {
        if (!in.hasRemaining()) {
            return -1;
        }
        int n = Math.min(dst.remaining(), in.remaining());
        dst.put(in.slice(in.position(), n));
        in.position(in.position() + n);
        return n;
    }

    @Override
    public int write(ByteBuffer src) {
        int n = src.remaining();
        byte[] bytes = new byte[n];
        src.get(bytes);
        out.writeBytes(bytes);
        return n;
    }

    /** Everything written so far. */
    byte[] written() {
        return out.toByteArray();
    }

    /** How many scripted bytes were not read. */
    int unread() {
        return in.remaining();
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void close() {}
}
