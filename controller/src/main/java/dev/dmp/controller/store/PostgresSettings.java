package dev.dmp.controller.store;

import dev.dmp.controller.ControllerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The checked settings of {@code dmp.controller.store=postgresql}: every error names its key and what
 * it accepts, so a bad value stops the controller at start-up instead of at the first Hello.
 *
 * @param password empty when the server asks none (trust, or a .pgpass file)
 */
public record PostgresSettings(String jdbcUrl, String user, String password, String replicaId) {
    static final String PREFIX = "dmp.controller.postgresql.";

    @Override
    public String toString() { // no password in logs
        return "PostgresSettings[" + jdbcUrl + ", user " + user + ", replica " + replicaId + "]";
    }

    /** @throws IllegalArgumentException naming the key at fault */
    public static PostgresSettings from(ControllerConfig config) {
        ControllerConfig.Postgresql pg = config.postgresql();
        String url = required(pg.jdbcUrl(), "jdbc-url", "jdbc:postgresql://HOST:PORT/DATABASE");
        if (!url.startsWith("jdbc:postgresql://")) {
            throw new IllegalArgumentException(PREFIX + "jdbc-url: '" + url
                    + "' is not a PostgreSQL JDBC URL; expected jdbc:postgresql://HOST:PORT/DATABASE");
        }
        String user = required(pg.user(), "user", "the database user the controller logs in as");
        if (pg.password().isPresent() && pg.passwordFile().isPresent()) {
            throw new IllegalArgumentException(
                    PREFIX + "password and " + PREFIX + "password-file are both set; set one of them");
        }
        String password = pg.passwordFile()
                .map(PostgresSettings::readPasswordFile)
                .orElse(pg.password().orElse(""));
        return new PostgresSettings(url, user, password, replicaId(config.replicaId()));
    }

    private static String required(Optional<String> value, String key, String what) {
        return value.filter(v -> !v.isBlank())
                .orElseThrow(() -> new IllegalArgumentException(
                        PREFIX + key + " is required with dmp.controller.store=postgresql: " + what));
    }

    /** The file's content without one trailing newline (how `kubectl create secret --from-file` may leave it). */
    static String readPasswordFile(String value) {
        Path file = Path.of(value);
        try {
            String s = Files.readString(file, StandardCharsets.UTF_8);
            return s.endsWith("\r\n")
                    ? s.substring(0, s.length() - 2)
                    : s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
        } catch (IOException e) {
            throw new IllegalArgumentException(PREFIX + "password-file: cannot read '" + file + "': " + e, e);
        }
    }

    private static String replicaId(Optional<String> configured) {
        if (configured.isPresent()) {
            if (configured.get().isBlank()) {
                throw new IllegalArgumentException("dmp.controller.replica-id: must not be blank");
            }
            return configured.get();
        }
        String env = System.getenv("HOSTNAME"); // the pod name on Kubernetes
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "controller";
        }
    }
}
