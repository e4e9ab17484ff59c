package dev.dmp.controller.store;

/** Where the ledger is kept ({@code dmp.controller.store}); see docs/replication.md. */
public enum StoreKind {
    /** An MVStore file in {@code dmp.controller.data-dir}: one controller process (the default). */
    MVSTORE,
    /** PostgreSQL ({@code dmp.controller.postgresql.*}): shared by controller replicas, fenced per host. */
    POSTGRESQL
}
