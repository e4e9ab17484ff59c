package dev.dmp.agent.nbd;

import java.util.HexFormat;

/** Hand-written wire bytes: hex digits, spaces ignored, so frames can be laid out field by field. */
final class Wire {
    private Wire() {
    }

    static byte[] hex(String digits) {
        return HexFormat.of().parseHex(digits.replace(" ", "").replace("\n", ""));
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    /** Concatenation of frames. */
    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
