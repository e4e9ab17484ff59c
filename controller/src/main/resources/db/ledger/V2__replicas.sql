-- Controller replicas sharing this ledger (docs/replication.md, "Replicas"). Each writes its row
-- about once a second; a reader counts a host online only while its owner's heartbeat is fresh, a
-- command for a host held elsewhere is forwarded to its owner's address, and the replica with the
-- lowest id among the fresh ones exports the ledger's metrics.
CREATE TABLE replicas (
    replica_id text        PRIMARY KEY,
    -- host:port where the other replicas reach its dmp.v1.ReplicaLink (dmp.controller.replica-address).
    address    text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    -- The database's clock, never the replica's: freshness is judged on one clock.
    heartbeat  timestamptz NOT NULL DEFAULT now()
);
