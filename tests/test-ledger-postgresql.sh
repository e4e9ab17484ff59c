#!/usr/bin/env bash
# The controller's ledger in PostgreSQL (dmp.controller.store=postgresql, docs/replication.md), one
# replica, with real I/O: the counts stay exact through a controller SIGKILL and restart, and through
# a fenced write. For the fence the controller is stopped with SIGSTOP while the host is claimed in
# the database as another replica would claim it; resumed, its commit of that host is refused and
# logged, its stream ended, and the deltas it could not commit are resent by the agent and counted once.
# Then PostgreSQL is stopped under I/O and started again: the acknowledgements wait, nothing is lost.
# Last, the controller starts on an empty database: the agent's Hello rebuilds the host exactly.
. "$(dirname "$0")/lib.sh"
requires buf jq curl
needs_libnbd_python

start_postgresql
PG_OPTS=(-Ddmp.controller.store=postgresql -Ddmp.controller.postgresql.jdbc-url="$PG_URL"
  -Ddmp.controller.postgresql.user="$PG_USER" -Ddmp.controller.postgresql.password-file="$PG_PASSWORD_FILE"
  -Ddmp.controller.replica-id=replica-1)
start_controller "${PG_OPTS[@]}"
grep -q "ledger $PG_URL open: 0 hosts known" "$WORK/controller.log" || fail "the controller did not open the PostgreSQL ledger"
expect_eq "tables Flyway made" "flyway_schema_history hosts replicas volumes" \
  "$(psql_ledger "SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'")"
start_agent node-a
rpc CreateVolume '{"host":"node-a","name":"zero1","zero":{"sizeBytes":"67108864"}}' >/dev/null
URI="nbd+unix:///zero1?socket=$NBD_SOCK"
# nbd-load.py alternates a write of 4096 bytes and a read of 8192: N requests are N/2 reads, the rest writes.
truth() { local n=$1; echo "$((n / 2)) $((n / 2 * 8192)) $(((n + 1) / 2)) $(((n + 1) / 2 * 4096))"; }
writes_counted() { [ "$(stats_of VOLUME node-a zero1 | awk '{print $3}')" -ge "$1" ]; }
exact() { [ "$(stats_of VOLUME node-a zero1)" = "$1" ]; }

# 1. SIGKILL of the controller mid-I/O: what it acknowledged is in PostgreSQL, the rest is resent.
load_start k "$URI" 1601 200
wait_until 30 writes_counted 200
log "killing the controller with SIGKILL mid-I/O"
kill -9 "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null || true
start_controller "${PG_OPTS[@]}"
load_wait k > /dev/null
wait_until 30 exact "$(truth 1601)"
expect_eq "zero1 after a controller SIGKILL" "$(truth 1601)" "$(stats_of VOLUME node-a zero1)"
expect_eq "node-a's row" "replica-1 true" "$(psql_ledger "SELECT owner || ' ' || online FROM hosts WHERE host_id = 'node-a'")"

# 2. A fenced write: another claim of node-a while the controller is stopped.
load_start f "$URI" 1000 200
wait_until 30 writes_counted 1000
claimed=
for attempt in 1 2 3 4 5; do
  kill -STOP "$CONTROLLER_PID"
  # Stopped mid-commit, the controller holds the row's lock: give up after 2 s, let it go on, try again.
  if claimed=$(psql_ledger "SET statement_timeout = '2s'; UPDATE hosts SET epoch = epoch + 1, owner = 'replica-2' WHERE host_id = 'node-a' RETURNING epoch" 2>/dev/null); then
    kill -CONT "$CONTROLLER_PID"; break
  fi
  kill -CONT "$CONTROLLER_PID"; claimed=
done
[ -n "$claimed" ] || fail "could not claim node-a in the database in 5 attempts"
fenced=$((claimed - 1))
log "claimed node-a as replica-2 at epoch $claimed while the controller was stopped"
wait_until 20 grep -q "host node-a: fenced: epoch $fenced is no longer current" "$WORK/controller.log"
log "ok: the controller's write at epoch $fenced was refused: $(grep -o "host node-a: fenced: .*" "$WORK/controller.log" | head -n 1)"
load_wait f > /dev/null
read -r r1 rb1 w1 wb1 <<<"$(truth 1601)"; read -r r2 rb2 w2 wb2 <<<"$(truth 1000)"
want="$((r1 + r2)) $((rb1 + rb2)) $((w1 + w2)) $((wb1 + wb2))"
wait_until 30 exact "$want"
expect_eq "zero1 after the fence" "$want" "$(stats_of VOLUME node-a zero1)"
# The agent dialled again and the controller claimed the host back, above replica-2's epoch.
wait_until 20 host_online node-a
read -r owner epoch <<<"$(psql_ledger "SELECT owner || ' ' || epoch FROM hosts WHERE host_id = 'node-a'")"
expect_eq "node-a's owner after the fence" replica-1 "$owner"
[ "$epoch" -gt "$claimed" ] || fail "node-a's epoch $epoch is not above replica-2's $claimed"

# 3. PostgreSQL stopped under I/O: commits fail and their acks wait, the replica is not ready; once
#    the database is back the agent's deltas are acknowledged and the counts are exact.
ready_code() { curl -s -o /dev/null -w '%{http_code}' "http://$CONTROLLER/q/health/ready"; }
expect_eq "ready with the database up" 200 "$(ready_code)"
load_start p "$URI" 1000 200
wait_until 30 writes_counted 1400
pg_stop
log "PostgreSQL stopped under I/O"
wait_until 20 grep -q "ledger commit failed" "$WORK/controller.log"
wait_until 10 test "$(ready_code)" = 503
log "ok: commits fail and the replica is not ready while the database is down"
pg_start
log "PostgreSQL started again"
wait_until 20 test "$(ready_code)" = 200
wait_until 20 grep -q "ledger commits succeed again, after" "$WORK/controller.log"
log "ok: $(grep -c "ledger commit failed" "$WORK/controller.log") line(s) of failed commits, then: $(grep -o "ledger commits succeed again.*" "$WORK/controller.log" | tail -n 1)"
load_wait p > /dev/null
read -r r3 rb3 w3 wb3 <<<"$(truth 1000)"
want="$((r1 + r2 + r3)) $((rb1 + rb2 + rb3)) $((w1 + w2 + w3)) $((wb1 + wb2 + wb3))"
wait_until 30 exact "$want"
expect_eq "zero1 after the database's outage" "$want" "$(stats_of VOLUME node-a zero1)"

# 4. Disaster: the controller comes back on a fresh, empty database. The agent's Hello carries its
#    counts and the last delta acknowledged to it; the ledger holds nothing of the run, so the host is
#    rebuilt from the Hello, exactly.
kill -TERM "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null || true
psql_ledger "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
log "the ledger's database is empty; starting the controller again"
start_controller "${PG_OPTS[@]}"
wait_until 30 host_online node-a
wait_until 30 exact "$want"
expect_eq "zero1 rebuilt on an empty database" "$want" "$(stats_of VOLUME node-a zero1)"
log "ok: $(grep -o "host node-a: the ledger holds nothing of it.*" "$WORK/controller.log" | cut -c1-160)"
load_start d "$URI" 200 200
load_wait d > /dev/null
read -r r4 rb4 w4 wb4 <<<"$(truth 200)"
want="$((r1 + r2 + r3 + r4)) $((rb1 + rb2 + rb3 + rb4)) $((w1 + w2 + w3 + w4)) $((wb1 + wb2 + wb3 + wb4))"
wait_until 30 exact "$want"
expect_eq "zero1 counting on after the rebuild" "$want" "$(stats_of VOLUME node-a zero1)"
log "counts exact through a SIGKILL, a fenced write, a database outage and an empty database"
