#!/usr/bin/env bash
# The controller at fleet scale (issue 5, "Scale"): for each fleet size, a fresh controller (its own
# data dir under a temp folder, heap capped) and the load generator playing N agents x M volumes at one
# delta per second over real gRPC; prints a table. Results: docs/benchmarks.md, "Controller at fleet scale".
#
#   bench/fleet/run.sh                 # 100, 1000 and 5000 agents x 16 volumes
#   AGENTS="100 1000" VOLUMES=16 WINDOW=30 WARMUP=15 HEAP=512m GC=ZGC bench/fleet/run.sh
# GC defaults to ZGC, as the controller image runs (controller/pom.xml); GC=SerialGC shows the
# full collections that set the p99 before.
#   CONTROLLER_JAR=/some/other/quarkus-run.jar bench/fleet/run.sh   # compare two builds
#   CONTROLLER_OPTS="-XX:StartFlightRecording=filename=/tmp/c.jfr,settings=profile" bench/fleet/run.sh  # profile
#   LIMIT=1g bench/fleet/run.sh        # as the image runs in a container with a 1 GiB memory limit (below)
#
# LIMIT runs the controller with the image's JVM options (controller/pom.xml's
# quarkus.jib.jvm-additional-arguments: heap by MaxRAMPercentage, exit on OutOfMemoryError, ZGC) and
# -XX:MaxRAM=LIMIT, the memory the JVM then sizes itself from, as it would from the container's cgroup
# limit; HEAP and GC are ignored. The table's last columns are the controller's peak RSS (VmHWM: what
# the container limit must hold) and Prometheus' view: every SCRAPE seconds (default 15, 0: none) the
# whole /q/metrics is fetched as Prometheus would, its largest size and slowest time shown.
#
# The generator runs on the same machine and takes CPU from it: its own CPU is measured and shown
# next to the controller's, which is read from /proc/PID/stat and so covers the controller alone.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/jdk.sh"
dmp_pick_jdk
AGENTS=${AGENTS:-"100 1000 5000"}
VOLUMES=${VOLUMES:-16}
WINDOW=${WINDOW:-30}
WARMUP=${WARMUP:-15}
HEAP=${HEAP:-512m}
GC=${GC:-ZGC}
LIMIT=${LIMIT:-}
SCRAPE=${SCRAPE:-15}
CONTROLLER_OPTS=${CONTROLLER_OPTS:-}
CONTROLLER_JAR=${CONTROLLER_JAR:-$ROOT/controller/target/quarkus-app/quarkus-run.jar}
BENCH_JAR=$ROOT/bench/fleet/target/dmp-bench-fleet.jar

if [ ! -f "$CONTROLLER_JAR" ] || [ ! -f "$BENCH_JAR" ]; then
  (cd "$ROOT" && mvn -B -q package -DskipTests -pl controller,bench/fleet -am)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dmp-fleet-bench.XXXXXX")
CONTROLLER_PID=
cleanup() {
  if [ -n "$CONTROLLER_PID" ]; then kill "$CONTROLLER_PID" 2>/dev/null || true; wait "$CONTROLLER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
RESULTS=$WORK/results.tsv
: > "$RESULTS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for n in $AGENTS; do
  port=$(free_port)
  mkdir -p "$WORK/data-$n"
  if [ -n "$LIMIT" ]; then
    MEMORY_OPTS="-XX:MaxRAM=$LIMIT $(sed -n 's:.*<quarkus.jib.jvm-additional-arguments>\(.*\)</quarkus.jib.jvm-additional-arguments>.*:\1:p' \
      "$ROOT/controller/pom.xml" | tr ',' ' ')"
  else
    MEMORY_OPTS="-Xmx$HEAP -XX:+Use$GC"
  fi
  # shellcheck disable=SC2086 # CONTROLLER_OPTS and MEMORY_OPTS are lists of JVM options
  "$JAVA" $MEMORY_OPTS $CONTROLLER_OPTS -Dquarkus.http.port="$port" -Dquarkus.http.host=127.0.0.1 \
    -Ddmp.controller.data-dir="$WORK/data-$n" -Dquarkus.log.level=WARN \
    -jar "$CONTROLLER_JAR" > "$WORK/controller-$n.log" 2>&1 &
  CONTROLLER_PID=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/stat/volumes" > /dev/null && break; sleep 0.1; done
  echo "== $n agents x $VOLUMES volumes (controller pid $CONTROLLER_PID, $MEMORY_OPTS)"
  SCRAPER=
  if [ "$SCRAPE" != 0 ]; then
    # Prometheus' scrape: the whole exposition, its size (bytes) and time (s) one line each.
    while sleep "$SCRAPE"; do
      curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "http://127.0.0.1:$port/q/metrics" || true
    done > "$WORK/scrapes-$n" &
    SCRAPER=$!
  fi
  lines=$(wc -l < "$RESULTS")
  "$JAVA" -Xmx1g -jar "$BENCH_JAR" --target "127.0.0.1:$port" --pid "$CONTROLLER_PID" --agents "$n" \
    --volumes "$VOLUMES" --warmup "$WARMUP" --window "$WINDOW" --jcmd "$JAVA_HOME/bin/jcmd" --out "$RESULTS" \
    || { echo "!! run with $n agents failed or was not exact; controller log tail:"; tail -5 "$WORK/controller-$n.log"; }
  [ -z "$SCRAPER" ] || { kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true; }
  rss=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$CONTROLLER_PID/status" 2>/dev/null || echo "-")
  scrape=$(awk 'BEGIN {n = 0} {n++; if ($1 > s) s = $1; if ($2 > t) t = $2} END {if (n) printf "%.1f\t%.2f", s / 1048576, t; else printf "-\t-"}' \
    "$WORK/scrapes-$n" 2>/dev/null || printf -- '-\t-')
  if [ "$(wc -l < "$RESULTS")" -gt "$lines" ]; then sed -i "\$ s/\$/\t${rss:--}\t$scrape/" "$RESULTS"; fi
  if grep -q OutOfMemoryError "$WORK/controller-$n.log"; then
    echo "!! the controller ran out of heap: $(grep -m1 OutOfMemoryError "$WORK/controller-$n.log")"
  fi
  # The stop under load is measured too: SIGTERM, then SIGKILL after 60 s (a stop that hangs is a bug).
  stop_start=$(date +%s%N)
  kill "$CONTROLLER_PID" 2>/dev/null
  for _ in $(seq 600); do kill -0 "$CONTROLLER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$CONTROLLER_PID" 2>/dev/null; then
    echo "!! the controller did not stop within 60 s of SIGTERM; killed"; kill -KILL "$CONTROLLER_PID"
  else
    echo "controller stopped $(( ($(date +%s%N) - stop_start) / 1000000 )) ms after SIGTERM"
  fi
  wait "$CONTROLLER_PID" 2>/dev/null || true; CONTROLLER_PID=
done

echo
{
  printf 'agents\tvolumes\tdeltas/s\tctl CPU%%\tgen CPU%%\theap MiB\theap after GC\tfleet p50 ms\tfleet p99 ms\thost p99 ms\twatch p50 ms\twatch max ms\tack p99 ms\texact\tload\tRSS peak MiB\tscrape MiB\tscrape s\n'
  cat "$RESULTS"
} | column -t -s $'\t'
