package dev.dmp.controller.fleet;

import org.jboss.logging.Logger;

/**
 * The log lines of failed ledger commits: the first failure at once, then one line every
 * {@value #EVERY_SECONDS} s with how many failed since, and one when commits succeed again. A commit is
 * tried every 50 ms while anything changed, which with a fleet streaming is every 50 ms: a database down
 * for 20 s would otherwise write 400 lines that say the same.
 * The counter {@code dmp_controller_ledger_commit_failures_total} still counts every one.
 */
final class CommitFailureLog {
    private static final Logger LOG = Logger.getLogger(Fleet.class);
    static final long EVERY_SECONDS = 5;

    private long failing; // failures since the last success
    private long unlogged; // of those, failures since the last line
    private long lastLineNanos;

    private final String what;
    private final String consequence;
    private final String again;

    /** The ledger's commits. */
    CommitFailureLog() {
        this("ledger commit", "acknowledgements held back, agents will resend", "ledger commits succeed again");
    }

    /** Another task tried again and again: its name, what its failure means, and the line when it works again. */
    CommitFailureLog(String what, String consequence, String again) {
        this.what = what;
        this.consequence = consequence;
        this.again = again;
    }

    void failed(RuntimeException e) {
        failing++;
        unlogged++;
        long now = System.nanoTime();
        if (failing == 1 || now - lastLineNanos >= EVERY_SECONDS * 1_000_000_000L) {
            LOG.errorf(
                    "%s failed: %s; %s%s",
                    what,
                    e.getMessage(),
                    consequence,
                    unlogged > 1 ? " (" + unlogged + " failed since the last line)" : "");
            unlogged = 0;
            lastLineNanos = now;
        }
    }

    void succeeded() {
        if (failing > 0) {
            LOG.infof("%s, after %d failed", again, failing);
            failing = 0;
            unlogged = 0;
        }
    }
}
