package dev.dmp.agent.nbd.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Optional;

/**
 * Checks the {@code dmp.agent.nbd-tls*} settings and loads what they name, at start-up: a mode that
 * needs credentials without any, a missing or unreadable file, a bad key, each stops the agent with a
 * message that names the key.
 */
public final class TlsSettings {
    static final String MODE = "dmp.agent.nbd-tls";
    static final String CERTIFICATES = "dmp.agent.nbd-tls-certificates";
    static final String VERIFY_PEER = "dmp.agent.nbd-tls-verify-peer";
    static final String PSK_FILE = "dmp.agent.nbd-tls-psk-file";

    private TlsSettings() {}

    /**
     * @param certificates a directory of server-cert.pem, server-key.pem (and ca-cert.pem), or empty
     * @param pskFile      a psktool file, or empty; exactly one of the two when the mode is not off
     */
    public static NbdTls load(
            String mode, Optional<String> certificates, boolean verifyPeer, Optional<String> pskFile) {
        TlsMode m = TlsMode.parse(mode);
        Optional<Path> dir = path(CERTIFICATES, certificates);
        Optional<Path> psk = path(PSK_FILE, pskFile);
        if (m == TlsMode.OFF) {
            if (dir.isPresent() || psk.isPresent()) {
                throw new IllegalArgumentException(MODE + " is off, yet " + (dir.isPresent() ? CERTIFICATES : PSK_FILE)
                        + " is set: set " + MODE + "=on or require to use it, or leave it empty");
            }
            return NbdTls.off();
        }
        if (dir.isPresent() == psk.isPresent()) {
            throw new IllegalArgumentException(MODE + "=" + m + " needs credentials: set one of " + CERTIFICATES
                    + " (a directory of server-cert.pem and server-key.pem) or " + PSK_FILE
                    + " (a psktool key file)" + (dir.isPresent() ? ", not both" : ""));
        }
        if (verifyPeer && dir.isEmpty()) {
            throw new IllegalArgumentException(VERIFY_PEER + "=true needs " + CERTIFICATES + " (with ca-cert.pem)");
        }
        if (psk.isPresent()) {
            try {
                return new NbdTls(m, new PskCredentials(PskKeys.read(psk.get()), psk.get()));
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(PSK_FILE + ": " + message(e), e);
            }
        }
        if (!Files.isDirectory(dir.get())) {
            throw new IllegalArgumentException(CERTIFICATES + ": " + dir.get() + " is not a directory");
        }
        try {
            return new NbdTls(m, X509Credentials.load(dir.get(), verifyPeer));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(CERTIFICATES + ": " + message(e), e);
        }
    }

    private static Optional<Path> path(String key, Optional<String> value) {
        Optional<String> v = value.map(String::trim).filter(s -> !s.isEmpty());
        if (v.isPresent() && !Path.of(v.get()).isAbsolute()) {
            throw new IllegalArgumentException(key + ": '" + v.get() + "' must be an absolute path");
        }
        return v.map(Path::of);
    }

    /** "cannot read FILE (NoSuchFileException)" rather than a bare file name. */
    private static String message(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return e.getMessage() + " does not exist";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "cannot read " + e.getMessage() + " (permission denied)";
        }
        return e.getMessage();
    }
}
