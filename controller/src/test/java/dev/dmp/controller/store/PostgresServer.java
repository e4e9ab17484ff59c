package dev.dmp.controller.store;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A PostgreSQL cluster of the test's own: {@code initdb} and {@code pg_ctl} in a temporary directory,
 * listening on 127.0.0.1 at a free port (and on a socket in that directory), with trust authentication
 * for the user {@code dmp}. No container, no Dev Services. PostgreSQL refuses to run as root, so as
 * root (CI) every command runs as {@code nobody} through {@code runuser}, in a directory {@code nobody}
 * owns. Without PostgreSQL the test is skipped, saying so; with {@code DMP_REQUIRE_ALL=1} (CI) it fails.
 */
public final class PostgresServer implements AutoCloseable {
    public static final String USER = "dmp";
    private static final String RUN_AS = "nobody";
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final Path bin;
    private final Path dir;
    private final int port;

    private PostgresServer(Path bin, Path dir, int port) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
    }

    /** Starts a new cluster, or skips the calling test when PostgreSQL is not installed. */
    public static PostgresServer start() throws IOException, InterruptedException {
        Optional<Path> bin = binDir();
        if (bin.isEmpty()) {
            String why = "PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql;"
                    + " scripts/tools.sh lists it)";
            if ("1".equals(System.getenv("DMP_REQUIRE_ALL"))) {
                Assertions.fail("would skip, but DMP_REQUIRE_ALL=1: " + why);
            }
            Assumptions.abort(why);
        }
        Path dir = Files.createTempDirectory("dmp-pg-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (root()) {
            Files.setOwner(
                    dir, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(RUN_AS));
        }
        PostgresServer server = new PostgresServer(bin.get(), dir, freePort());
        try {
            server.run(
                    "initdb", "-D", server.data(), "-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync");
            // fsync off: these clusters live for one test run; durability is the store's, not theirs.
            server.run(
                    "pg_ctl",
                    "-D",
                    server.data(),
                    "-l",
                    dir.resolve("postgres.log").toString(),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    "-k " + dir + " -c listen_addresses=127.0.0.1 -p " + server.port + " -c fsync=off",
                    "start");
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** A new, empty database in the cluster; returns its JDBC URL. */
    public String createDatabase() throws SQLException {
        String name = "ledger_" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(url("postgres"), USER, "")) {
            c.createStatement().execute("CREATE DATABASE " + name);
        }
        return url(name);
    }

    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** The directory of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/VERSION/bin (newest). */
    static Optional<Path> binDir() throws IOException {
        List<Path> candidates = new ArrayList<>();
        for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!p.isEmpty()) {
                candidates.add(Path.of(p));
            }
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                versions.map(v -> v.resolve("bin"))
                        .sorted(Comparator.comparing(PostgresServer::version).reversed())
                        .forEach(candidates::add);
            }
        }
        return candidates.stream()
                .filter(d -> Files.isExecutable(d.resolve("initdb")) && Files.isExecutable(d.resolve("pg_ctl")))
                .findFirst();
    }

    private static int version(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private String data() {
        return dir.resolve("data").toString();
    }

    /** Runs one of PostgreSQL's programs (as nobody when root), bounded to 90 s; fails with its output. */
    private void run(String program, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (root()) {
            // util-linux's, in /usr/sbin (Debian 12), on root's PATH but maybe not on the JVM's
            String runuser = Stream.of("/usr/sbin/runuser", "/sbin/runuser")
                    .filter(f -> Files.isExecutable(Path.of(f)))
                    .findFirst()
                    .orElse("runuser");
            command.addAll(List.of(runuser, "-u", RUN_AS, "--"));
        }
        command.add(bin.resolve(program).toString());
        command.addAll(Arrays.asList(args));
        Path out = Files.createTempFile("dmp-pg-" + program, ".out");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .directory(dir.toFile())
                    .start();
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(program + " did not finish within 90 s: " + Files.readString(out));
            }
            if (p.exitValue() != 0) {
                throw new IOException(
                        String.join(" ", command) + " exited " + p.exitValue() + ": " + Files.readString(out));
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Stops the cluster at once (no checkpoint) and deletes its directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (Files.exists(dir.resolve("data/postmaster.pid"))) {
                run("pg_ctl", "-D", data(), "-m", "immediate", "-w", "-t", "60", "stop");
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
