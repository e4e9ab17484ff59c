package dev.dmp.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * The shared bearer token both apps may require ({@code dmp.auth.token}, or the first line of
 * {@code dmp.auth.token-file}, e.g. a mounted Kubernetes Secret). Checks an {@code authorization}
 * header value: missing is {@link Verdict#MISSING}, wrong is {@link Verdict#WRONG}.
 */
public final class BearerToken {
    /** What a request's credentials amount to. */
    public enum Verdict {
        NOT_REQUIRED,
        OK,
        MISSING,
        WRONG
    }

    private static final String PREFIX = "Bearer ";
    private final byte[] expected;

    private BearerToken(byte[] expected) {
        this.expected = expected;
    }

    /** From the two settings; both set is a configuration error, as is an empty or unreadable file. */
    public static BearerToken from(Optional<String> token, Optional<String> tokenFile) {
        Optional<String> t = token.map(String::trim).filter(s -> !s.isEmpty());
        Optional<String> f = tokenFile.map(String::trim).filter(s -> !s.isEmpty());
        if (t.isPresent() && f.isPresent()) {
            throw new IllegalArgumentException("dmp.auth.token and dmp.auth.token-file are both set; set only one");
        }
        if (f.isPresent()) {
            try {
                String line = Files.readString(Path.of(f.get()))
                        .lines()
                        .findFirst()
                        .orElse("")
                        .trim();
                if (line.isEmpty()) {
                    throw new IllegalArgumentException(
                            "dmp.auth.token-file: " + f.get() + " is empty; put the token on its first line");
                }
                t = Optional.of(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(
                        "dmp.auth.token-file: cannot read " + f.get() + ": " + e.getMessage(), e);
            }
        }
        return new BearerToken(t.map(s -> s.getBytes(StandardCharsets.UTF_8)).orElse(null));
    }

    public boolean required() {
        return expected != null;
    }

    /** The token itself, for a client that must send it (the agent's link); empty when none is set. */
    public Optional<String> value() {
        return expected == null ? Optional.empty() : Optional.of(new String(expected, StandardCharsets.UTF_8));
    }

    /** Judges an {@code authorization} header value (null when absent). */
    public Verdict check(String authorization) {
        if (expected == null) {
            return Verdict.NOT_REQUIRED;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            return Verdict.MISSING;
        }
        byte[] given = authorization.substring(PREFIX.length()).trim().getBytes(StandardCharsets.UTF_8);
        // Constant time, so the comparison does not tell how much of a guess was right.
        return MessageDigest.isEqual(expected, given) ? Verdict.OK : Verdict.WRONG;
    }
}
