package dev.dmp.controller.store;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * One JDBC connection to the ledger's database, used one transaction at a time. It is opened when first
 * needed and dropped after any failure, so that a PostgreSQL restart or a cut network costs the
 * transactions that ran into it and no more. A transaction that fails on a connection kept from before
 * runs once more on a fresh one: after a restart of the database the kept connection is broken, and
 * without the retry the first Hello would be refused and the first commit fail for nothing. Running a
 * transaction twice is safe here: a claim only raises an epoch, a write writes the same records.
 */
final class LedgerConnection implements AutoCloseable {
    /** The statements of one transaction. */
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final DataSource source;
    private final String location;
    private Connection connection;
    /** How long the last transaction's statements and its COMMIT took (the commit-cost probe reads it). */
    private volatile Timing last = new Timing(0, 0);

    /** The statements' and the COMMIT's share of one transaction, in nanoseconds. */
    record Timing(long statementsNanos, long commitNanos) {}

    LedgerConnection(DataSource source, String location) {
        this.source = source;
        this.location = location;
    }

    /**
     * Runs {@code work} in one transaction and commits it.
     *
     * @throws LedgerUnavailableException when the database failed it (it was rolled back)
     */
    synchronized <T> T inTransaction(String what, Work<T> work) {
        boolean kept = connection != null;
        try {
            return once(work);
        } catch (SQLException e) {
            drop();
            if (kept) {
                try {
                    return once(work);
                } catch (SQLException again) {
                    drop();
                    e = again;
                } catch (RuntimeException again) {
                    drop();
                    throw again;
                }
            }
            throw new LedgerUnavailableException(what + " at " + location + " failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            drop();
            throw e;
        }
    }

    private <T> T once(Work<T> work) throws SQLException {
        if (connection == null) {
            connection = source.getConnection();
            connection.setAutoCommit(false);
        }
        long start = System.nanoTime();
        T result = work.run(connection);
        long statements = System.nanoTime();
        connection.commit();
        last = new Timing(statements - start, System.nanoTime() - statements);
        return result;
    }

    Timing lastTiming() {
        return last;
    }

    private void drop() {
        if (connection != null) {
            try {
                connection.close(); // rolls back what was not committed
            } catch (SQLException ignored) {
                // the connection is broken already: nothing more to release
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        drop();
    }
}
