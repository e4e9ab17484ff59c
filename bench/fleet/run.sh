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
  # shellcheck disable=SC2086 # CONTROLLER_OPTS is a list of JVM options
  "$JAVA" -Xmx"$HEAP" -XX:+Use"$GC" $CONTROLLER_OPTS -Dquarkus.http.port="$port" -Dquarkus.http.host=127.0.0.1 \
    -Ddmp.controller.data-dir="$WORK/data-$n" -Dquarkus.log.level=WARN \
    -jar "$CONTROLLER_JAR" > "$WORK/controller-$n.log" 2>&1 &
  CONTROLLER_PID=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/stat/volumes" > /dev/null && break; sleep 0.1; done
  echo "== $n agents x $VOLUMES volumes (controller pid $CONTROLLER_PID, -Xmx$HEAP -XX:+Use$GC)"
  "$JAVA" -Xmx1g -jar "$BENCH_JAR" --target "127.0.0.1:$port" --pid "$CONTROLLER_PID" --agents "$n" \
    --volumes "$VOLUMES" --warmup "$WARMUP" --window "$WINDOW" --jcmd "$JAVA_HOME/bin/jcmd" --out "$RESULTS" \
    || { echo "!! run with $n agents failed or was not exact; controller log tail:"; tail -5 "$WORK/controller-$n.log"; }
  kill "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null || true; CONTROLLER_PID=
done

echo
{
  printf 'agents\tvolumes\tdeltas/s\tctl CPU%%\tgen CPU%%\theap MiB\theap after GC\tfleet p50 ms\tfleet p99 ms\thost p99 ms\twatch p50 ms\twatch max ms\tack p99 ms\texact\tload\n'
  cat "$RESULTS"
} | column -t -s $'\t'
