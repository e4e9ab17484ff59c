package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.IHAVEOPT;
import static dev.dmp.agent.protocol.NbdProtocol.OPTION_REPLY_MAGIC;

import dev.dmp.agent.protocol.Wire;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The frames of option haggling, laid out as the spec draws them ("Option types", "Option reply
 * types"): a client's option (IHAVEOPT, option, length, data), a server's reply (magic, option, type,
 * length, data), and the strings inside them (a 32-bit length, then UTF-8).
 */
final class OptionFrames {
    private OptionFrames() {}

    /** The greeting (NBDMAGIC, IHAVEOPT, FIXED_NEWSTYLE | NO_ZEROES). */
    static final String GREETING = "4e42444d41474943 49484156454f5054 0003";
    /** FIXED_NEWSTYLE | NO_ZEROES. */
    static final String CLIENT_FLAGS = "00000003";

    static byte[] option(int option, byte[]... data) {
        byte[] payload = Wire.concat(data);
        return ByteBuffer.allocate(16 + payload.length)
                .putLong(IHAVEOPT)
                .putInt(option)
                .putInt(payload.length)
                .put(payload)
                .array();
    }

    static byte[] reply(int option, int type, byte[]... data) {
        byte[] payload = Wire.concat(data);
        return ByteBuffer.allocate(20 + payload.length)
                .putLong(OPTION_REPLY_MAGIC)
                .putInt(option)
                .putInt(type)
                .putInt(payload.length)
                .put(payload)
                .array();
    }

    /** A 32-bit length and the string's UTF-8. */
    static byte[] string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
    }

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** NBD_OPT_LIST_META_CONTEXT's and NBD_OPT_SET_META_CONTEXT's data: the export, then the queries. */
    static byte[] metaContexts(String export, String... queries) {
        byte[][] parts = new byte[queries.length + 2][];
        parts[0] = string(export);
        parts[1] = ByteBuffer.allocate(4).putInt(queries.length).array();
        for (int i = 0; i < queries.length; i++) {
            parts[i + 2] = string(queries[i]);
        }
        return Wire.concat(parts);
    }

    /** NBD_OPT_INFO's and NBD_OPT_GO's data: the export and the information requested. */
    static byte[] export(String name, int... infos) {
        ByteBuffer b = ByteBuffer.allocate(2 + 2 * infos.length).putShort((short) infos.length);
        for (int info : infos) {
            b.putShort((short) info);
        }
        return Wire.concat(string(name), b.array());
    }
}
