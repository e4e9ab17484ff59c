package dev.dmp.agent.nbd.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dmp.agent.nbd-tls* settings: what loads, and the message, naming the key, for what does not. */
class TlsSettingsTest {
    @TempDir
    Path dir;

    private static String problem(
            String mode, Optional<String> certificates, boolean verifyPeer, Optional<String> psk) {
        return assertThrows(IllegalArgumentException.class, () -> TlsSettings.load(mode, certificates, verifyPeer, psk))
                .getMessage();
    }

    private Optional<String> file(String name, String text) throws Exception {
        return Optional.of(Files.writeString(dir.resolve(name), text).toString());
    }

    @Test
    void offIsTheDefaultAndNeedsNothing() {
        assertEquals(NbdTls.off(), TlsSettings.load("off", Optional.empty(), false, Optional.of(" ")));
    }

    @Test
    void modesAndCredentialsMustAgree() throws Exception {
        assertEquals(
                "dmp.agent.nbd-tls: 'yes' is not off (no TLS), on (TLS offered, plaintext allowed) or require (TLS only)",
                problem("yes", Optional.empty(), false, Optional.empty()));
        assertEquals(
                "dmp.agent.nbd-tls=require needs credentials: set one of dmp.agent.nbd-tls-certificates (a directory"
                        + " of server-cert.pem and server-key.pem) or dmp.agent.nbd-tls-psk-file (a psktool key file)",
                problem("require", Optional.empty(), false, Optional.empty()));
        Optional<String> psk = file("keys.psk", "alice:00ff\n");
        assertTrue(problem("on", Optional.of(dir.toString()), false, psk).endsWith("(a psktool key file), not both"));
        assertEquals(
                "dmp.agent.nbd-tls is off, yet dmp.agent.nbd-tls-psk-file is set: set dmp.agent.nbd-tls=on or require"
                        + " to use it, or leave it empty",
                problem("off", Optional.empty(), false, psk));
        assertEquals(
                "dmp.agent.nbd-tls-verify-peer=true needs dmp.agent.nbd-tls-certificates (with ca-cert.pem)",
                problem("require", Optional.empty(), true, psk));
        assertEquals(
                "dmp.agent.nbd-tls-psk-file: 'keys.psk' must be an absolute path",
                problem("require", Optional.empty(), false, Optional.of("keys.psk")));
    }

    @Test
    void pskFileProblemsNameTheKeyAndTheLine() throws Exception {
        assertEquals(
                "dmp.agent.nbd-tls-psk-file: " + dir.resolve("none.psk") + " does not exist",
                problem(
                        "require",
                        Optional.empty(),
                        false,
                        Optional.of(dir.resolve("none.psk").toString())));
        Optional<String> bad = file("bad.psk", "alice:00ff\nbob:0g\n");
        assertEquals(
                "dmp.agent.nbd-tls-psk-file: " + bad.get()
                        + " line 2: the key of user 'bob' is not hexadecimal digits in pairs (psktool writes them)",
                problem("require", Optional.empty(), false, bad));
        NbdTls tls = TlsSettings.load("require", Optional.empty(), false, file("keys.psk", "alice:00ff\n"));
        assertEquals(TlsMode.REQUIRE, tls.mode());
        assertEquals(
                "pre-shared keys of 1 user(s) from " + dir.resolve("keys.psk"),
                tls.credentials().describe());
    }

    @Test
    void certificateProblemsNameTheKeyAndTheFile() throws Exception {
        assertEquals(
                "dmp.agent.nbd-tls-certificates: " + dir.resolve("nowhere") + " is not a directory",
                problem("on", Optional.of(dir.resolve("nowhere").toString()), false, Optional.empty()));
        assertEquals(
                "dmp.agent.nbd-tls-certificates: " + dir.resolve("server-cert.pem") + " does not exist",
                problem("on", Optional.of(dir.toString()), false, Optional.empty()));
        SelfSigned server = SelfSigned.make();
        server.writeTo(dir);
        Files.writeString(
                dir.resolve("server-key.pem"),
                SelfSigned.pem(SelfSigned.make().keys().getPrivate()));
        assertEquals(
                "dmp.agent.nbd-tls-certificates: " + dir.resolve("server-key.pem")
                        + " is not the key of the certificate in " + dir.resolve("server-cert.pem"),
                problem("on", Optional.of(dir.toString()), false, Optional.empty()));
        server.writeTo(dir);
        NbdTls tls = TlsSettings.load("on", Optional.of(dir.toString()), false, Optional.empty());
        assertEquals("X.509 certificate CN=localhost", tls.credentials().describe());
        assertEquals(
                "dmp.agent.nbd-tls-certificates: " + dir.resolve("ca-cert.pem")
                        + " is missing: it verifies the clients' certificates",
                problem("on", Optional.of(dir.toString()), true, Optional.empty()));
    }
}
