#!/usr/bin/env bash
# Three controller replicas on one PostgreSQL (docs/replication.md), real agents with real NBD I/O
# dialling all three (dmp.agent.controller is the list), and the fleet generator (bench/fleet) for
# load beside them. Each real volume's ground truth is what its NBD client got answered, and the
# agent's own detailed counters (histograms included). Under I/O:
#   1. volumes are created through a replica that does not hold their host (forwarded to its owner);
#   2. ResetStats of a VOLUME and of the FLEET through a replica that does not hold the hosts;
#   3. kill -9 of the replica holding node-a: its agent is acknowledged by another within a bound;
#   4. SIGSTOP of the replica holding node-b past the agents' keepalive, then SIGCONT: its late write
#      is refused (fenced), in its log;
#   5. PostgreSQL stopped for 20 s and started again: nothing lost;
#   6. every replica stopped, the database emptied, the replicas started again: the hosts come back
#      exact from their agents' Hellos.
# After each step every volume's counters, histograms and in-flight level are compared, exactly, on
# every live replica against the agent's own, /stat/volumes (the old view) is the same on every
# replica, and (after the kill) /q/metrics is exported by exactly one replica.
. "$(dirname "$0")/lib.sh"
requires buf jq curl
needs_libnbd_python

start_postgresql
declare -a PORT PID
for i in 1 2 3; do PORT[$i]=$(free_port); done
TARGETS="127.0.0.1:${PORT[1]},127.0.0.1:${PORT[2]},127.0.0.1:${PORT[3]}"

# launch_replica I: replica rI on PORT[I], logging to replica-I.log.
launch_replica() {
  local i=$1
  mkdir -p "$WORK/data-$i"
  env QUARKUS_HTTP_PORT="${PORT[$i]}" QUARKUS_HTTP_HOST=127.0.0.1 DMP_CONTROLLER_DATA_DIR="$WORK/data-$i" \
    DMP_CONTROLLER_STORE=postgresql DMP_CONTROLLER_POSTGRESQL_JDBC_URL="$PG_URL" \
    DMP_CONTROLLER_POSTGRESQL_USER="$PG_USER" DMP_CONTROLLER_POSTGRESQL_PASSWORD_FILE="$PG_PASSWORD_FILE" \
    DMP_CONTROLLER_REPLICA_ID="r$i" DMP_CONTROLLER_REPLICA_ADDRESS="127.0.0.1:${PORT[$i]}" \
    "$JAVA" -jar "$CONTROLLER_JAR" >> "$WORK/replica-$i.log" 2>&1 &
  PID[$i]=$!; _PIDS+=("${PID[$i]}")
}
answers() { curl -sf "http://127.0.0.1:${PORT[$1]}/stat/volumes" >/dev/null; }
# on I CMD...: CMD against replica I (rpc, stats_of, host_online read $CONTROLLER).
on() { local i=$1; shift; CONTROLLER=127.0.0.1:${PORT[$i]} "$@"; }
LIVE="1 2 3"
# all_but I: the replicas but I, as LIVE lists them.
all_but() { local i out=(); for i in 1 2 3; do if [ "$i" != "$1" ]; then out+=("$i"); fi; done; echo "${out[*]}"; }

for i in 1 2 3; do launch_replica "$i"; done
for i in 1 2 3; do wait_until 60 answers "$i"; done
log "replicas r1 r2 r3 answer on ports ${PORT[*]}"

declare -A AGENT
HOSTS="node-a node-b node-c"
CONTROLLER=$TARGETS
for h in $HOSTS; do
  CONTROLLER= start_agent "$h" -Ddmp.agent.controller="$TARGETS"
  AGENT[$h]=$AGENT_PORT
done
CONTROLLER=127.0.0.1:${PORT[1]}
owner() { psql_ledger "SELECT owner FROM hosts WHERE host_id = '$1' AND online"; }
# replica_of HOST: the index of the replica that holds HOST now.
replica_of() { local o; o=$(owner "$1"); [ -n "$o" ] && echo "${o#r}"; }
# not_holding HOST: a live replica that does not hold HOST.
not_holding() { local i o; o=$(replica_of "$1"); for i in $LIVE; do [ "$i" != "$o" ] && { echo "$i"; return; }; done; }
all_online() { local i h; for i in $LIVE; do for h in $HOSTS; do on "$i" host_online "$h" || return 1; done; done; }
wait_until 30 all_online
log "every replica sees node-a node-b node-c online; owners: $(psql_ledger "SELECT string_agg(host_id || '=' || owner, ' ' ORDER BY host_id) FROM hosts")"

# The fleet generator (bench/fleet, load only): 60 simulated agents x 4 volumes on the three
# replicas, a delta a second each (its agents do not redial: those of a killed replica stop).
GENERATOR_JAR=$ROOT/bench/fleet/target/dmp-bench-fleet.jar
[ -f "$GENERATOR_JAR" ] || fail "bench/fleet/target/dmp-bench-fleet.jar missing: mvn package builds it"
"$JAVA" -jar "$GENERATOR_JAR" --target "$TARGETS" --pid "${PID[1]},${PID[2]},${PID[3]}" --agents 60 --volumes 4 \
  --load 3600 > "$WORK/generator.log" 2>&1 &
_PIDS+=("$!")
wait_until 60 grep -q "ramp done" "$WORK/generator.log"
log "fleet generator: 60 agents x 4 volumes, $(grep -o "ramp done.*" "$WORK/generator.log")"

# 1. Volumes created through a replica that does not hold the host.
for h in $HOSTS; do
  via=$(not_holding "$h")
  on "$via" rpc CreateVolume "{\"host\":\"$h\",\"name\":\"zero1\",\"zero\":{\"sizeBytes\":\"67108864\"}}" >/dev/null
  log "ok: zero1 created on $h through r$via (held by r$(replica_of "$h"))"
done
uri() { echo "nbd+unix:///zero1?socket=$WORK/$1/nbd.sock"; }

# The ground truth of a volume is its agent's own row; the check compares every live replica's row to it.
row_of() { jq -c '.rows[0] | {read, write, ops, inFlight}'; }
agent_row() { buf curl --protocol grpc --http2-prior-knowledge --emit-defaults \
  -d "{\"scope\":\"VOLUME\",\"volume\":\"zero1\"}" "http://127.0.0.1:${AGENT[$1]}/dmp.v1.Agent/QueryStats" | row_of; }
replica_row() { on "$1" rpc QueryStats "{\"scope\":\"VOLUME\",\"host\":\"$2\",\"volume\":\"zero1\"}" | row_of; }
same_everywhere() { local h i want; for h in $HOSTS; do want=$(agent_row "$h"); for i in $LIVE; do
  [ "$(replica_row "$i" "$h")" = "$want" ] || return 1; done; done; }
# exact WHAT: waits until every live replica shows each volume as its agent counts it, then checks the
# agent's counts against what the NBD clients were answered (TRUTH_<host>: "reads rbytes writes wbytes").
exact() {
  wait_until 30 same_everywhere || true
  local h i want
  for h in $HOSTS; do
    want=$(agent_row "$h")
    for i in $LIVE; do expect_eq "$1: $h/zero1 on r$i (counters, histograms, in flight)" "$want" "$(replica_row "$i" "$h")" > /dev/null; done
    local truth="TRUTH_${h//-/_}"
    expect_eq "$1: $h/zero1 = its client's answers" "${!truth}" \
      "$(jq -r '"\(.read.requests) \(.read.bytes) \(.write.requests) \(.write.bytes)"' <<<"$want")" > /dev/null
  done
  # The old view (/stat/volumes, the dashboard's source) says the same on every replica.
  local view; view=$(stat_view "${LIVE%% *}")
  [ "$(grep -c '^node-' <<<"$view")" = 3 ] || fail "$1: /stat/volumes of r${LIVE%% *} lacks the real volumes: $view"
  for i in $LIVE; do expect_eq "$1: /stat/volumes of r$i" "$view" "$(stat_view "$i")" > /dev/null; done
  log "ok: $1: every volume exact on r${LIVE// /, r}: $(for h in $HOSTS; do t="TRUTH_${h//-/_}"; printf '%s=[%s] ' "$h" "${!t}"; done)"
}
# stat_view I: replica I's /stat/volumes, the real volumes' blocks only (hosts sort after bench-*).
stat_view() { curl -sf "http://127.0.0.1:${PORT[$1]}/stat/volumes" | awk '/^node-/ {p = 1} p'; }
# agent_writes_above HOST N: HOST's agent has counted more than N writes of zero1 since its last reset.
agent_writes_above() { [ "$(agent_row "$1" | jq -r .write.requests)" -gt "$2" ]; }
TRUTH_node_a="0 0 0 0"; TRUTH_node_b="0 0 0 0"; TRUTH_node_c="0 0 0 0"
# add_load NAME HOST: the load's answered requests added to HOST's truth.
add_load() {
  local out t r rb w wb
  load_wait "$1" > /dev/null # not in $(...): a subshell cannot wait for this shell's children
  out=$(cat "$WORK/load-$1.json"); t="TRUTH_${2//-/_}"
  read -r r rb w wb <<<"${!t}"
  r=$((r + $(jq .reads <<<"$out"))); rb=$((rb + $(jq .read_bytes <<<"$out")))
  w=$((w + $(jq .writes <<<"$out"))); wb=$((wb + $(jq .write_bytes <<<"$out")))
  printf -v "$t" '%s' "$r $rb $w $wb"
}
# one_exporter: exactly one live replica exports the volumes' series, and it has all of them.
one_exporter() {
  local i n exporters=0
  for i in $LIVE; do
    n=$(curl -sf "http://127.0.0.1:${PORT[$i]}/q/metrics" | grep -c '^dmp_volume_requests_total{' || true)
    if [ "$n" -gt 0 ]; then exporters=$((exporters + 1)); [ "$n" -ge 6 ] || return 1; fi
  done
  [ "$exporters" = 1 ]
}

# 2. Resets through a replica that does not hold the host (the FLEET reset reaches the generator's
#    agents on every replica too), each after some I/O.
for h in $HOSTS; do load_start "v-$h" "$(uri "$h")" 400 400; done
for h in $HOSTS; do add_load "v-$h" "$h"; done
exact "after 400 requests on each volume"
via=$(not_holding node-c)
before=$(on "$via" rpc ResetStats '{"scope":"VOLUME","host":"node-c","volume":"zero1"}' | jq -r '.volumesReset, (.before[0] | "\(.read.requests) \(.read.bytes) \(.write.requests) \(.write.bytes)")' | paste -sd' ')
expect_eq "ResetStats VOLUME node-c/zero1 through r$via: volumes reset and the counts it closed" "1 $TRUTH_node_c" "$before"
TRUTH_node_c="0 0 0 0"
exact "after a VOLUME reset through r$via"
via=$(not_holding node-a)
n=$(on "$via" rpc ResetStats '{"scope":"FLEET"}' | jq -r '"\(.volumesReset) \([.before[] | select(.volume == "zero1")] | length)"')
expect_eq "ResetStats FLEET through r$via: volumes reset (60 x 4 generated, 3 real), of them zero1" "243 3" "$n"
TRUTH_node_a="0 0 0 0"; TRUTH_node_b="0 0 0 0"
for h in $HOSTS; do load_start "r-$h" "$(uri "$h")" 200 200; done
for h in $HOSTS; do add_load "r-$h" "$h"; done
exact "after a FLEET reset through r$via and 200 more requests"

# 3. kill -9 of the replica holding node-a, under I/O on every volume.
for h in $HOSTS; do load_start "k-$h" "$(uri "$h")" 1200 150; done
wait_until 30 agent_writes_above node-a 150
victim=$(replica_of node-a)
seq_at_kill=$(psql_ledger "SELECT applied_seq FROM hosts WHERE host_id = 'node-a'")
log "kill -9 of r$victim, which holds node-a (its last committed delta: $seq_at_kill)"
kill -9 "${PID[$victim]}"; wait "${PID[$victim]}" 2>/dev/null || true
killed_at=$(date +%s%N)
LIVE=$(all_but "$victim")
# Acknowledged again: another replica holds node-a and has committed a delta after the last one r$victim did.
acked_elsewhere() { local o; o=$(replica_of node-a); [ -n "$o" ] && [ "$o" != "$victim" ] &&
  [ "$(psql_ledger "SELECT applied_seq FROM hosts WHERE host_id = 'node-a'")" -gt "$seq_at_kill" ]; }
wait_until 10 acked_elsewhere
log "ok: node-a's deltas committed (so acknowledged) by r$(replica_of node-a) $((($(date +%s%N) - killed_at) / 1000000)) ms after the kill (bound: 10 s)"
log "ok: node-a's agent: $(grep -o "controller [^ ]* (target [0-9] of 3): connected.*" "$WORK/agent-node-a.log" | tail -n 1 | cut -c1-100)"
for h in $HOSTS; do add_load "k-$h" "$h"; done
exact "after kill -9 of r$victim"
wait_until 10 one_exporter
log "ok: one replica exports the metrics of all volumes"
launch_replica "$victim"; wait_until 60 answers "$victim"; LIVE="1 2 3"
wait_until 30 all_online

# 4. SIGSTOP of the replica holding node-b for longer than the agents' keepalive (10 s + 5 s).
for h in $HOSTS; do load_start "s-$h" "$(uri "$h")" 1200 100; done
wait_until 30 agent_writes_above node-b 150
stopped=$(replica_of node-b)
log "SIGSTOP of r$stopped, which holds node-b"
kill -STOP "${PID[$stopped]}"
LIVE=$(all_but "$stopped")
moved() { local o; o=$(replica_of node-b); [ -n "$o" ] && [ "$o" != "$stopped" ]; }
wait_until 40 moved
log "ok: node-b claimed by r$(replica_of node-b) while r$stopped was stopped"
kill -CONT "${PID[$stopped]}"
wait_until 30 grep -q "host node-b: fenced: epoch" "$WORK/replica-$stopped.log"
log "ok: r$stopped's late write was refused: $(grep -o "host node-b: fenced: .*" "$WORK/replica-$stopped.log" | head -n 1 | cut -c1-120)"
LIVE="1 2 3"
for h in $HOSTS; do add_load "s-$h" "$h"; done
exact "after SIGSTOP and SIGCONT of r$stopped"

# 5. PostgreSQL stopped for 20 s under I/O.
for h in $HOSTS; do load_start "p-$h" "$(uri "$h")" 1200 50; done
wait_until 30 agent_writes_above node-a 200
pg_stop
log "PostgreSQL stopped for 20 s under I/O"
pg_down_at=$(date +%s)
ready() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$1]}/q/health/ready"; }
wait_until 15 test "$(ready 1)" = 503
log "ok: r1 not ready while the database is down"
passed() { [ "$(date +%s)" -ge "$1" ]; }
wait_until 25 passed $((pg_down_at + 20))
pg_start
log "PostgreSQL started again"
for i in 1 2 3; do wait_until 30 test "$(ready "$i")" = 200; done
for h in $HOSTS; do add_load "p-$h" "$h"; done
wait_until 30 all_online
exact "after PostgreSQL was down for 20 s"

# 6. A fresh, empty database: every replica stopped, the schema dropped, the replicas started again.
for i in 1 2 3; do kill -TERM "${PID[$i]}"; done
for i in 1 2 3; do wait "${PID[$i]}" 2>/dev/null || true; done
psql_ledger "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
log "the ledger's database is empty; starting the three replicas again"
for i in 1 2 3; do launch_replica "$i"; done
for i in 1 2 3; do wait_until 60 answers "$i"; done
wait_until 30 all_online
exact "on an empty database, rebuilt from the agents' Hellos"
log "three replicas exact through a kill -9, a SIGSTOP, a database outage, forwarded commands and an empty database"
