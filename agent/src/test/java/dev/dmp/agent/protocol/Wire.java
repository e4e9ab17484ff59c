package dev.dmp.agent.protocol;

import java.util.HexFormat;

/** Hand-written wire bytes: hex digits, spaces ignored, so frames can be laid out field by field. */
public final class Wire {
    private Wire() {}

    public static byte[] hex(String digits) {
        return HexFormat.of().parseHex(digits.replace(" ", "").replace("\n", ""));
    }

    public static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    /** Concatenation of frames. */
    public static byte[] concat(byte[]... parts) {
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
