#!/usr/bin/env bash
# The controller at fleet scale (issues 5 and 15, "Scale"): for each fleet size, a fresh controller
# (its own data dir under a temp folder, heap capped), or a set of controller replicas sharing one
# PostgreSQL, and the load generator playing N agents x M volumes at one delta per second over real
# gRPC; prints a table. Results: docs/benchmarks.md, "Controller at fleet scale" and "Replicated
# controller on PostgreSQL (issue 15)".
#
#   bench/fleet/run.sh                 # 100, 1000 and 5000 agents x 16 volumes, one MVStore controller
#   AGENTS="100 1000" VOLUMES=16 WINDOW=30 WARMUP=15 HEAP=512m GC=ZGC bench/fleet/run.sh
# GC defaults to ZGC, as the controller image runs (controller/pom.xml); GC=SerialGC shows the
# full collections that set the p99 before.
#   CONTROLLER_JAR=/some/other/quarkus-run.jar bench/fleet/run.sh   # compare two builds
#   CONTROLLER_OPTS="-XX:StartFlightRecording=filename=/tmp/c.jfr,settings=profile" bench/fleet/run.sh  # profile
#   LIMIT=1g bench/fleet/run.sh        # as the image runs in a container with a 1 GiB memory limit (below)
#
# Replicas (issue 15; docs/replication.md):
#   STORE=postgresql REPLICAS=3 bench/fleet/run.sh   # 3 replicas on one PostgreSQL; agent i dials replica i mod 3
#   COMPARE=1 REPLICAS=3 bench/fleet/run.sh          # at each fleet size: MVStore x1, PostgreSQL x1, PostgreSQL x3
#   SETUPS="mvstore:1 postgresql:2 postgresql:3" bench/fleet/run.sh   # any list of STORE:REPLICAS, run in order
#   KEEP=1 ...                                      # keep the work dir: every controller's log, PostgreSQL's log
# The script starts its own PostgreSQL cluster (Debian's postgresql package, initdb in the work dir, on
# 127.0.0.1 at a free port; as root it runs as nobody, which PostgreSQL requires), one fresh database
# per row. FSYNC=on (default, as a real deployment) or off; PG_OPTS adds server options
# ("-c shared_buffers=512MB"). Each replica is a JVM of its own with HEAP (or LIMIT) each, named rI
# (dmp.controller.replica-id) and told its address (dmp.controller.replica-address, when the controller
# knows that key). Besides the main table, a second one gives each replica's figures.
#
# LIMIT runs the controller with the image's JVM options (controller/pom.xml's
# quarkus.jib.jvm-additional-arguments: heap by MaxRAMPercentage, exit on OutOfMemoryError, ZGC) and
# -XX:MaxRAM=LIMIT, the memory the JVM then sizes itself from, as it would from the container's cgroup
# limit; HEAP and GC are ignored. The table's last columns are the controller's peak RSS (VmHWM: what
# the container limit must hold; the largest of the replicas'), the ledger's tables in the database
# (with indexes and TOAST) and the WAL written per second (the generator's whole run), and Prometheus'
# view of replica r0: every SCRAPE seconds (default 15, 0: none) the whole /q/metrics is fetched as
# Prometheus would, its largest size and slowest time shown.
#
# Everything runs on this machine and shares its cores: the generator, PostgreSQL and every replica.
# Each one's CPU is measured on its own (/proc/PID/stat; PostgreSQL's is its postmaster and all its
# processes) and shown side by side; the header says how many cores there are.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/jdk.sh"
. "$ROOT/scripts/postgresql.sh"
dmp_pick_jdk
AGENTS=${AGENTS:-"100 1000 5000"}
VOLUMES=${VOLUMES:-16}
WINDOW=${WINDOW:-30}
WARMUP=${WARMUP:-15}
HEAP=${HEAP:-512m}
GC=${GC:-ZGC}
LIMIT=${LIMIT:-}
SCRAPE=${SCRAPE:-15}
STORE=${STORE:-mvstore}
REPLICAS=${REPLICAS:-1}
COMPARE=${COMPARE:-0}
FSYNC=${FSYNC:-on}
PG_OPTS=${PG_OPTS:-}
CONTROLLER_OPTS=${CONTROLLER_OPTS:-}
CONTROLLER_JAR=${CONTROLLER_JAR:-$ROOT/controller/target/quarkus-app/quarkus-run.jar}
BENCH_JAR=$ROOT/bench/fleet/target/dmp-bench-fleet.jar

if [ -z "${SETUPS:-}" ]; then
  SETUPS="$STORE:$REPLICAS"
  if [ "$COMPARE" = 1 ]; then
    SETUPS="mvstore:1 postgresql:1"
    [ "$REPLICAS" = 1 ] || SETUPS="$SETUPS postgresql:$REPLICAS"
  fi
fi
NEED_PG=0
for setup in $SETUPS; do
  case $setup in
    mvstore:1) ;;
    mvstore:*) echo "run.sh: $setup: the MVStore ledger is one process (REPLICAS=1); replicas need STORE=postgresql" >&2; exit 2 ;;
    postgresql:[1-9]*) NEED_PG=1 ;;
    *) echo "run.sh: $setup: expected STORE:REPLICAS, STORE mvstore or postgresql (SETUPS, or STORE and REPLICAS)" >&2; exit 2 ;;
  esac
done
case $FSYNC in on | off) ;; *) echo "run.sh: FSYNC=$FSYNC: expected on or off" >&2; exit 2 ;; esac

if [ ! -f "$CONTROLLER_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
  (cd "$ROOT" && mvn -B -q package -DskipTests -pl controller,bench/fleet -am)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dmp-fleet-bench.XXXXXX")
CONTROLLER_PIDS=()
PG_AS=() PG_DIR= PG_PID=
cleanup() {
  local p
  for p in "${CONTROLLER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${CONTROLLER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$PG_PID" ]; then "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop > /dev/null 2>&1 || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "work dir kept (KEEP=1): $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
RESULTS=$WORK/results.tsv REPLICA_RESULTS=$WORK/replicas.tsv
: > "$RESULTS"; : > "$REPLICA_RESULTS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL as the end-to-end tests start it (scripts/postgresql.sh), with fsync as FSYNC says and
# PG_OPTS. Sets PG_BIN, PG_DIR, PG_AS, PG_PORT, PG_USER, PG_PASSWORD_FILE, PG_PID.
start_postgresql() {
  dmp_find_postgresql || { echo "run.sh: STORE=postgresql needs PostgreSQL's initdb and pg_ctl (Debian's postgresql)" >&2; exit 2; }
  PG_PORT=$(free_port) PG_USER=dmp
  dmp_initdb "$WORK" "$PG_USER" || { echo "run.sh: initdb failed: $(tail -n 5 "$WORK/initdb.log")" >&2; exit 1; }
  # shellcheck disable=SC2086 # PG_OPTS is a list of server options
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$WORK/postgresql.log" -w -t 60 \
    -o "-k $PG_DIR -c listen_addresses=127.0.0.1 -p $PG_PORT -c fsync=$FSYNC $PG_OPTS" start > /dev/null \
    || { echo "run.sh: PostgreSQL did not start: $(tail -n 5 "$WORK/postgresql.log")" >&2; exit 1; }
  PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (pid $PG_PID), fsync=$FSYNC ${PG_OPTS}"
}
psql_bench() { "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -U "$PG_USER" -d "$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
[ "$NEED_PG" = 0 ] || start_postgresql

if [ -n "$LIMIT" ]; then
  MEMORY_OPTS="-XX:MaxRAM=$LIMIT $(sed -n 's:.*<quarkus.jib.jvm-additional-arguments>\(.*\)</quarkus.jib.jvm-additional-arguments>.*:\1:p' \
    "$ROOT/controller/pom.xml" | tr ',' ' ')"
else
  MEMORY_OPTS="-Xmx$HEAP -XX:+Use$GC"
fi
# dmp.controller.replica-address is new with the replicas' heartbeat (docs/replication.md); an older
# controller refuses unknown dmp.controller keys at start-up (SRCFG00050), so it is given only while
# the controller takes it: unknown until a replica first starts with it.
REPLICA_ADDRESS=${REPLICA_ADDRESS:-auto}

# start_replica I STORE DATABASE: controller replica I (name rI) on a free port; sets PORT_I, PID_I.
start_replica() {
  local i=$1 store=$2 db=$3 port log opts=()
  port=$(free_port) log=$WORK/controller-$ROW-r$i.log
  mkdir -p "$WORK/data-$ROW-r$i"
  if [ "$store" = postgresql ]; then
    opts=(-Ddmp.controller.store=postgresql -Ddmp.controller.postgresql.jdbc-url="jdbc:postgresql://127.0.0.1:$PG_PORT/$db"
      -Ddmp.controller.postgresql.user="$PG_USER" -Ddmp.controller.postgresql.password-file="$PG_PASSWORD_FILE"
      -Ddmp.controller.replica-id="r$i")
    [ "$REPLICA_ADDRESS" = no ] || opts+=(-Ddmp.controller.replica-address="127.0.0.1:$port")
  fi
  # shellcheck disable=SC2086 # CONTROLLER_OPTS and MEMORY_OPTS are lists of JVM options
  "$JAVA" $MEMORY_OPTS $CONTROLLER_OPTS -Dquarkus.http.port="$port" -Dquarkus.http.host=127.0.0.1 \
    -Ddmp.controller.data-dir="$WORK/data-$ROW-r$i" -Dquarkus.log.level=WARN "${opts[@]}" \
    -jar "$CONTROLLER_JAR" >> "$log" 2>&1 &
  PID_I=$! PORT_I=$port
}
# wait_replica PID PORT: 0 once it answers, 1 if it exits first or does not answer within 60 s.
wait_replica() {
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$2/stat/volumes" > /dev/null && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

echo "machine: $(nproc) cores, $(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); the generator," \
  "PostgreSQL and every controller replica share them (each one's CPU is measured on its own)"
ROW=0
for n in $AGENTS; do
  for setup in $SETUPS; do
    store=${setup%%:*} replicas=${setup#*:} ROW=$((ROW + 1))
    db=-
    if [ "$store" = postgresql ]; then
      db=fleet_$ROW
      psql_bench postgres "CREATE DATABASE $db"
    fi
    CONTROLLER_PIDS=() ports=() targets=
    for i in $(seq 0 $((replicas - 1))); do
      start_replica "$i" "$store" "$db"
      CONTROLLER_PIDS+=("$PID_I") ports+=("$PORT_I")
    done
    for i in $(seq 0 $((replicas - 1))); do
      if ! wait_replica "${CONTROLLER_PIDS[$i]}" "${ports[$i]}"; then
        if [ "$REPLICA_ADDRESS" != yes ] && grep -q 'SRCFG00050: dmp.controller.replica-address' "$WORK/controller-$ROW-r$i.log"; then
          [ "$REPLICA_ADDRESS" = no ] || echo "(this controller does not know dmp.controller.replica-address: started without it)"
          REPLICA_ADDRESS=no
          wait "${CONTROLLER_PIDS[$i]}" 2>/dev/null || true
          mv "$WORK/controller-$ROW-r$i.log" "$WORK/controller-$ROW-r$i.refused.log"
          start_replica "$i" "$store" "$db"
          CONTROLLER_PIDS[i]=$PID_I ports[i]=$PORT_I
          wait_replica "$PID_I" "$PORT_I" && continue
        fi
        echo "!! replica r$i did not start; its log:"; tail -20 "$WORK/controller-$ROW-r$i.log"; exit 1
      fi
      [ "$store" = mvstore ] || [ "$REPLICA_ADDRESS" = no ] || REPLICA_ADDRESS=yes
    done
    for i in $(seq 0 $((replicas - 1))); do targets=$targets${targets:+,}127.0.0.1:${ports[$i]}; done
    pids=$(IFS=,; echo "${CONTROLLER_PIDS[*]}")
    echo "== $n agents x $VOLUMES volumes, $store x $replicas (controller pids $pids, $MEMORY_OPTS each)"
    SCRAPER=
    if [ "$SCRAPE" != 0 ]; then
      # Prometheus' scrape of r0: the whole exposition, its size (bytes) and time (s) one line each.
      while sleep "$SCRAPE"; do
        curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "http://127.0.0.1:${ports[0]}/q/metrics" || true
      done > "$WORK/scrapes-$ROW" &
      SCRAPER=$!
    fi
    lines=$(wc -l < "$RESULTS") rlines=$(wc -l < "$REPLICA_RESULTS")
    pg=()
    if [ "$store" = postgresql ]; then
      pg=(--pg-pid "$PG_PID")
      # WAL written per second over the generator's whole run (ramp, warm-up, window and drain).
      wal0=$(psql_bench postgres "SELECT pg_current_wal_lsn()") t0=$(date +%s.%N)
    fi
    "$JAVA" -Xmx1g -jar "$BENCH_JAR" --target "$targets" --pid "$pids" --agents "$n" "${pg[@]}" \
      --volumes "$VOLUMES" --warmup "$WARMUP" --window "$WINDOW" --jcmd "$JAVA_HOME/bin/jcmd" \
      --out "$RESULTS" --out-replicas "$REPLICA_RESULTS" \
      || { echo "!! run with $n agents failed or was not exact; controller logs' tails:"; tail -n 5 "$WORK"/controller-$ROW-r*.log; }
    [ -z "$SCRAPER" ] || { kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true; }
    rss_max=0
    for i in $(seq 0 $((replicas - 1))); do
      rss=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/${CONTROLLER_PIDS[$i]}/status" 2>/dev/null || echo "-")
      [ "${rss:--}" = - ] || [ "$rss" -le "$rss_max" ] || rss_max=$rss
      # this replica's row of this run: the rlines+1+i-th line
      sed -i "$((rlines + 1 + i)) s/^/$store\t$replicas\t/; $((rlines + 1 + i)) s/\$/\t${rss:--}/" "$REPLICA_RESULTS"
    done
    dbsize=- wal=-
    if [ "$store" = postgresql ]; then
      # The ledger's tables with their indexes and TOAST (an empty database alone is about 7.5 MiB).
      dbsize=$(psql_bench "$db" "SELECT round(coalesce(sum(pg_total_relation_size(c.oid)), 0) / 1048576.0, 1)
        FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND s.nspname NOT IN ('pg_catalog', 'information_schema')")
      wal=$(psql_bench postgres "SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$wal0') / 1048576.0
        / (extract(epoch FROM clock_timestamp()) - $t0), 2)")
    fi
    scrape=$(awk 'BEGIN {n = 0} {n++; if ($1 > s) s = $1; if ($2 > t) t = $2} END {if (n) printf "%.1f\t%.2f", s / 1048576, t; else printf "-\t-"}' \
      "$WORK/scrapes-$ROW" 2>/dev/null || printf -- '-\t-')
    if [ "$(wc -l < "$RESULTS")" -gt "$lines" ]; then
      sed -i "\$ s/^/$store\t$replicas\t/; \$ s/\$/\t$rss_max\t$dbsize\t$wal\t$scrape/" "$RESULTS"
    fi
    for i in $(seq 0 $((replicas - 1))); do
      if grep -q OutOfMemoryError "$WORK/controller-$ROW-r$i.log"; then
        echo "!! replica r$i ran out of heap: $(grep -m1 OutOfMemoryError "$WORK/controller-$ROW-r$i.log")"
      fi
    done
    # The stop under load is measured too: SIGTERM, then SIGKILL after 60 s (a stop that hangs is a bug).
    stop_start=$(date +%s%N)
    for p in "${CONTROLLER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for i in $(seq 0 $((replicas - 1))); do
      p=${CONTROLLER_PIDS[$i]}
      for _ in $(seq 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$p" 2>/dev/null; then
        echo "!! replica r$i did not stop within 60 s of SIGTERM; killed"; kill -KILL "$p"
      else
        echo "r$i stopped $(( ($(date +%s%N) - stop_start) / 1000000 )) ms after SIGTERM"
      fi
      wait "$p" 2>/dev/null || true
    done
    CONTROLLER_PIDS=()
  done
done

echo
echo "$(nproc) cores shared by the generator, PostgreSQL and every replica; CPU in % of one core," \
  "ctl CPU summed over the replicas; fleet p50/p99: the slowest replica's (worst: which one)"
{
  printf 'store\treplicas\tagents\tvolumes\tdeltas/s\tctl CPU%%\tgen CPU%%\tPG CPU%%\theap MiB\theap after GC\tfleet p50 ms\tfleet p99 ms\tworst\thost p99 ms\twatch p50 ms\twatch max ms\tack p50 ms\tack p99 ms\tquery fails\treset\texact\tload\tRSS peak MiB\tDB MiB\tWAL MiB/s\tscrape MiB\tscrape s\n'
  cat "$RESULTS"
} | column -t -s $'\t'
if grep -q '^postgresql' "$REPLICA_RESULTS"; then
  echo
  echo "each replica (its own CPU, heap and RSS; QueryStats FLEET and HOST sent to it; exact: its FLEET row" \
    "equals the fleet's, part: it does not)"
  {
    printf 'store\treplicas\tagents\treplica\thosts\tCPU%%\theap MiB\theap after GC\tfleet p50 ms\tfleet p99 ms\tfleet calls\thost p99 ms\tquery fails\texact\tRSS peak MiB\n'
    cat "$REPLICA_RESULTS"
  } | column -t -s $'\t'
fi
