package dev.dmp.agent.nbd.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pre-shared keys by user name, read from a file in the format GnuTLS's {@code psktool} writes and
 * nbdkit, qemu and libnbd read: one {@code username:hexkey} line per user. The user name is the TLS PSK
 * identity a client sends (libnbd's {@code tls-username}, qemu's {@code username}).
 */
public final class PskKeys {
    private final Map<String, byte[]> keys;

    private PskKeys(Map<String, byte[]> keys) {
        this.keys = keys;
    }

    /** Reads and checks the file; every problem names the file and the line. */
    public static PskKeys read(Path file) throws IOException {
        return parse(file.toString(), Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    /** Checks {@code lines}: blank lines are skipped, any other line is {@code username:hexkey}. */
    static PskKeys parse(String file, List<String> lines) {
        Map<String, byte[]> keys = new HashMap<>();
        Map<String, Integer> lineOf = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            int number = i + 1;
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw problem(file, number, "no ':' between the user name and the key (the format is username:hexkey)");
            }
            String user = line.substring(0, colon);
            String hex = line.substring(colon + 1);
            if (user.isEmpty()) {
                throw problem(file, number, "the user name is empty");
            }
            if (lineOf.containsKey(user)) {
                throw problem(file, number, "user '" + user + "' has a key already, on line " + lineOf.get(user));
            }
            if (hex.isEmpty() || hex.length() % 2 != 0 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                throw problem(
                        file,
                        number,
                        "the key of user '" + user + "' is not hexadecimal digits in pairs (psktool writes them)");
            }
            keys.put(user, HexFormat.of().parseHex(hex));
            lineOf.put(user, number);
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException(file + ": no keys (make one with: psktool -u USER -p " + file + ")");
        }
        return new PskKeys(Map.copyOf(keys));
    }

    private static IllegalArgumentException problem(String file, int line, String what) {
        return new IllegalArgumentException(file + " line " + line + ": " + what);
    }

    /** The key of {@code user}, or null when the file has none for it. */
    public byte[] key(String user) {
        byte[] key = keys.get(user);
        return key == null ? null : key.clone();
    }

    public Set<String> users() {
        return keys.keySet();
    }
}
