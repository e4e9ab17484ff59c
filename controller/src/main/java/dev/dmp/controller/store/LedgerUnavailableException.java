package dev.dmp.controller.store;

/** The ledger's store could not be read or written (its database is down, for instance); nothing changed. */
public final class LedgerUnavailableException extends RuntimeException {
    public LedgerUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
