package dev.dmp.agent.protocol;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Whole structured reply chunks with the payloads dmp sends, each into a new buffer ready to write:
 * the header and the payload's fixed fields (an OFFSET_DATA chunk's data follows separately).
 */
public final class ReplyChunks {
    /** The longest error message sent: the spec's string limit is 4096 bytes. */
    static final int MAX_MESSAGE = 4096;

    private ReplyChunks() {}

    /** NBD_REPLY_TYPE_NONE with DONE: the request succeeded (after any earlier chunks). */
    public static ByteBuffer none(long cookie) {
        ByteBuffer b = ByteBuffer.allocate(ReplyChunk.SIZE);
        new ReplyChunk(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, cookie, 0).encode(b);
        return b.flip();
    }

    /** The header and offset of an OFFSET_DATA chunk of {@code length} bytes at {@code offset}; the data follows. */
    public static ByteBuffer dataHeader(long cookie, boolean done, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(ReplyChunk.SIZE + 8);
        dataHeader(b, cookie, done, offset, length);
        return b.flip();
    }

    /** The same, into {@code out} at its position (a reply buffer with the data behind it). */
    public static void dataHeader(ByteBuffer out, long cookie, boolean done, long offset, int length) {
        new ReplyChunk(done ? NBD_REPLY_FLAG_DONE : 0, NBD_REPLY_TYPE_OFFSET_DATA, cookie, 8 + length).encode(out);
        out.putLong(offset);
    }

    /** An OFFSET_HOLE chunk: {@code length} bytes at {@code offset} read as zeroes. */
    public static ByteBuffer hole(long cookie, boolean done, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(ReplyChunk.SIZE + 12);
        new ReplyChunk(done ? NBD_REPLY_FLAG_DONE : 0, NBD_REPLY_TYPE_OFFSET_HOLE, cookie, 12).encode(b);
        b.putLong(offset).putInt(length);
        return b.flip();
    }

    /** An ERROR chunk with DONE: {@code error} (an NBD error number) and a message for people. */
    public static ByteBuffer error(long cookie, int error, String message) {
        byte[] text = truncated(message);
        ByteBuffer b = ByteBuffer.allocate(ReplyChunk.SIZE + 6 + text.length);
        new ReplyChunk(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, cookie, 6 + text.length).encode(b);
        b.putInt(error).putShort((short) text.length).put(text);
        return b.flip();
    }

    /** An ERROR_OFFSET chunk: the request failed at {@code offset}. */
    public static ByteBuffer errorAt(long cookie, boolean done, int error, String message, long offset) {
        byte[] text = truncated(message);
        ByteBuffer b = ByteBuffer.allocate(ReplyChunk.SIZE + 14 + text.length);
        new ReplyChunk(done ? NBD_REPLY_FLAG_DONE : 0, NBD_REPLY_TYPE_ERROR_OFFSET, cookie, 14 + text.length).encode(b);
        b.putInt(error).putShort((short) text.length).put(text).putLong(offset);
        return b.flip();
    }

    /**
     * A BLOCK_STATUS chunk with DONE for one metadata context: {@code descriptors} holds, from 0 to its
     * position, pairs of (length, flags) as 32-bit numbers.
     */
    public static ByteBuffer blockStatus(long cookie, int contextId, int[] descriptors, int count) {
        ByteBuffer b = ByteBuffer.allocate(ReplyChunk.SIZE + 4 + 8 * count);
        new ReplyChunk(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, cookie, 4 + 8 * count).encode(b);
        b.putInt(contextId);
        for (int i = 0; i < 2 * count; i++) {
            b.putInt(descriptors[i]);
        }
        return b.flip();
    }

    /** The message as UTF-8, cut at the spec's limit (on a character boundary). */
    static byte[] truncated(String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        if (text.length <= MAX_MESSAGE) {
            return text;
        }
        String cut = message;
        while (cut.getBytes(StandardCharsets.UTF_8).length > MAX_MESSAGE) {
            cut = cut.substring(
                    0, cut.length() - Math.max(1, (cut.getBytes(StandardCharsets.UTF_8).length - MAX_MESSAGE) / 4));
        }
        return cut.getBytes(StandardCharsets.UTF_8);
    }
}
