package dev.dmp.agent.nbd;

import dev.dmp.agent.protocol.Wire;
import java.nio.charset.StandardCharsets;

/**
 * Error chunks in hex, field by field as the spec lays them out ("Structured reply types"), for the
 * tests to compare with: their length depends on the message, which is easier to get right here than
 * counted by hand in every test.
 */
final class ChunkFrames {
    private ChunkFrames() {}

    /** NBD_REPLY_TYPE_ERROR with NBD_REPLY_FLAG_DONE: error, message length, message. */
    static String error(long cookie, int error, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        return String.format("668e33ef 0001 8001 %016x %08x %08x %04x ", cookie, 6 + text.length, error, text.length)
                + Wire.hex(text);
    }

    /** NBD_REPLY_TYPE_ERROR_OFFSET with NBD_REPLY_FLAG_DONE: error, message length, message, offset. */
    static String errorAt(long cookie, int error, String message, long offset) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        return String.format("668e33ef 0001 8002 %016x %08x %08x %04x ", cookie, 14 + text.length, error, text.length)
                + Wire.hex(text)
                + String.format(" %016x", offset);
    }
}
