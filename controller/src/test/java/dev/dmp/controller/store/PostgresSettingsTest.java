package dev.dmp.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dmp.controller.TestConfig;
import dev.dmp.controller.TestConfig.Postgres;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dmp.controller.postgresql.* as checked at start-up: every refusal names its key. */
class PostgresSettingsTest {
    private static final String URL = "jdbc:postgresql://db:5432/dmp";

    @TempDir
    Path dir;

    private static String refusal(Postgres pg) {
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> PostgresSettings.from(TestConfig.postgresql(pg, "replica-a")))
                .getMessage();
    }

    @Test
    void aPasswordOrAPasswordFile() throws Exception {
        assertEquals(
                new PostgresSettings(URL, "dmp", "s3cret", "replica-a"),
                PostgresSettings.from(TestConfig.postgresql(new Postgres(URL, "dmp", "s3cret", null), "replica-a")));
        Path secret = Files.writeString(dir.resolve("password"), "from-a-secret\n");
        assertEquals(
                "from-a-secret",
                PostgresSettings.from(TestConfig.postgresql(new Postgres(URL, "dmp", null, secret.toString()), "r"))
                        .password(),
                "one trailing newline dropped");
        assertEquals(
                "",
                PostgresSettings.from(TestConfig.postgresql(new Postgres(URL, "dmp", null, null), "r"))
                        .password(),
                "none: trust or .pgpass");
        assertFalse(new PostgresSettings(URL, "dmp", "s3cret", "r").toString().contains("s3cret"));
    }

    @Test
    void refusalsNameTheKey() {
        assertEquals(
                "dmp.controller.postgresql.jdbc-url is required with dmp.controller.store=postgresql:"
                        + " jdbc:postgresql://HOST:PORT/DATABASE",
                refusal(new Postgres(null, "dmp", null, null)));
        assertEquals(
                "dmp.controller.postgresql.jdbc-url: 'jdbc:mysql://db/dmp' is not a PostgreSQL JDBC URL;"
                        + " expected jdbc:postgresql://HOST:PORT/DATABASE",
                refusal(new Postgres("jdbc:mysql://db/dmp", "dmp", null, null)));
        assertEquals(
                "dmp.controller.postgresql.user is required with dmp.controller.store=postgresql:"
                        + " the database user the controller logs in as",
                refusal(new Postgres(URL, " ", null, null)));
        assertEquals(
                "dmp.controller.postgresql.password and dmp.controller.postgresql.password-file are both set;"
                        + " set one of them",
                refusal(new Postgres(URL, "dmp", "a", "/b")));
        String missing = dir.resolve("missing").toString();
        assertEquals(
                "dmp.controller.postgresql.password-file: cannot read '" + missing
                        + "': java.nio.file.NoSuchFileException: " + missing,
                refusal(new Postgres(URL, "dmp", null, missing)));
    }
}
