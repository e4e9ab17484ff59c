package dev.dmp.controller.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A new, empty PostgreSQL database for each test of a class, in one {@link PostgresServer} cluster
 * started for the class: {@code @RegisterExtension static final PostgresDatabase DB = new PostgresDatabase();}.
 */
public final class PostgresDatabase implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
    private PostgresServer server;
    private String url;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = PostgresServer.start();
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        url = server.createDatabase();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** The current test's database. */
    public String url() {
        return url;
    }

    /** The store's settings for the current test's database, as replica {@code replicaId}. */
    public PostgresSettings settings(String replicaId) {
        return new PostgresSettings(url, PostgresServer.USER, "", replicaId);
    }

    /** Runs {@code sql} (an UPDATE, say) in the current test's database; returns the rows it changed. */
    public int execute(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(url, PostgresServer.USER, "")) {
            return c.createStatement().executeUpdate(sql);
        }
    }

    /** What {@code sql} answers in the current test's database, each row's columns joined by '|'. */
    public List<String> rows(String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, PostgresServer.USER, "");
                ResultSet rs = c.createStatement().executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> cols = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    cols.add(String.valueOf(rs.getObject(i)));
                }
                out.add(String.join("|", cols));
            }
        }
        return out;
    }
}
