package dev.dmp.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BearerTokenTest {

    @Test
    void noTokenSetLetsEveryCallThrough() {
        BearerToken t = BearerToken.from(Optional.empty(), Optional.of("  "));
        assertFalse(t.required());
        assertEquals(BearerToken.Verdict.NOT_REQUIRED, t.check(null));
    }

    @Test
    void judgesMissingWrongAndRight() {
        BearerToken t = BearerToken.from(Optional.of("abc123"), Optional.empty());
        assertEquals(BearerToken.Verdict.MISSING, t.check(null));
        assertEquals(BearerToken.Verdict.MISSING, t.check("abc123"));
        assertEquals(BearerToken.Verdict.MISSING, t.check("Basic abc123"));
        assertEquals(BearerToken.Verdict.WRONG, t.check("Bearer abc12"));
        assertEquals(BearerToken.Verdict.WRONG, t.check("Bearer abc1234"));
        assertEquals(BearerToken.Verdict.OK, t.check("Bearer abc123"));
        assertEquals(BearerToken.Verdict.OK, t.check("bearer abc123"));
    }

    @Test
    void readsTheFirstLineOfTheTokenFile(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("token"), "from-file\nignored\n");
        BearerToken t = BearerToken.from(Optional.empty(), Optional.of(f.toString()));
        assertTrue(t.required());
        assertEquals(Optional.of("from-file"), t.value());
        assertEquals(BearerToken.Verdict.OK, t.check("Bearer from-file"));
    }

    @Test
    void refusesBadSettingsNamingTheKey(@TempDir Path dir) throws IOException {
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> BearerToken.from(Optional.of("a"), Optional.of(empty.toString())))
                .getMessage()
                .contains("set only one"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> BearerToken.from(Optional.empty(), Optional.of(empty.toString())))
                .getMessage()
                .startsWith("dmp.auth.token-file"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> BearerToken.from(
                                Optional.empty(),
                                Optional.of(dir.resolve("none").toString())))
                .getMessage()
                .startsWith("dmp.auth.token-file"));
    }
}
