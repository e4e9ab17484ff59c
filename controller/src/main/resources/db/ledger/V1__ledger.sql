-- The controller's ledger when dmp.controller.store=postgresql: see docs/replication.md.
-- Counters are bytea holding a dmp.v1.CounterRecord (state.proto): OpCounters per operation, with
-- their errors and both histograms, as the agents send them. Unsigned 64-bit counts fit bigint: no
-- sequence number, generation or level comes near 2^63.

-- One row per host that ever said Hello: who holds its stream (owner, epoch) and its delta numbering.
CREATE TABLE hosts (
    host_id       text        PRIMARY KEY,
    -- The replica (dmp.controller.replica-id) whose claim is the newest.
    owner         text        NOT NULL,
    -- Raised by every claim (every Hello); a write carries the epoch it was claimed at and is refused
    -- when that is no longer this one.
    epoch         bigint      NOT NULL CHECK (epoch > 0),
    claimed_at    timestamptz NOT NULL DEFAULT now(),
    -- The agent's run and the last sequence number applied in it: exactly-once.
    run_id        text        NOT NULL DEFAULT '',
    applied_seq   bigint      NOT NULL DEFAULT 0,
    agent_version text        NOT NULL DEFAULT '',
    -- Whether the owner holds an open stream of the host.
    online        boolean     NOT NULL DEFAULT false,
    last_seen     timestamptz NOT NULL DEFAULT 'epoch'
);

-- One row per volume a host has, with its counts. The baseline of the current generation (the
-- lifetime counts when it began) is lifetime - since_reset.
CREATE TABLE volumes (
    host_id      text   NOT NULL REFERENCES hosts (host_id) ON DELETE CASCADE,
    name         text   NOT NULL,
    -- dmp.v1.Volume as its agent last announced it.
    volume       bytea  NOT NULL,
    generation   bigint NOT NULL,
    lifetime     bytea  NOT NULL,
    since_reset  bytea  NOT NULL,
    before_reset bytea  NOT NULL,
    in_flight    bigint NOT NULL,
    PRIMARY KEY (host_id, name)
);
