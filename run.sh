#!/usr/bin/env bash
# The main job, the old run.sh reborn: builds dmp if needed, starts a controller and an agent on this
# machine, creates volume dmp1 (1 GB zero backend) and dmp2 (64 MiB file backend), writes 4 KiB and
# reads 4 KiB of each through qemu-io (a real NBD client); as root on a kernel with the nbd driver,
# dmp1 is attached as /dev/nbdN and dd does its I/O with O_DIRECT instead. Prints the counts in the old
# /sys/module/dmp/stat/volumes format as the controller sees them, and says where to look next.
#
#   ./run.sh          keeps controller and agent running in the foreground; Ctrl-C stops both
#   ./run.sh --once   does the same, then stops both and exits (0 when every step worked)
#
# Environment (defaults in brackets):
#   DMP_CONTROLLER_PORT [8080]  controller's HTTP + gRPC port
#   DMP_AGENT_PORT      [7070]  agent's HTTP port (/stat/volumes)
#   DMP_HOST_ID         [the host name]  the agent's host id (dmp.agent.host-id)
#   DMP_RUN_DIR         [./.run]  everything this script makes: NBD socket, state, dmp2's file, logs
#   DMP_START_TIMEOUT   [60]  seconds each app may take to start
#   DMP_STOP_TIMEOUT    [15]  seconds each app may take to stop on SIGTERM before it gets SIGKILL
#   DMP_CONTROLLER_JVM_OPTS, DMP_AGENT_JVM_OPTS  [none]  extra JVM options for each app, split at
#                       spaces (e.g. -XX:AOTCache=FILE: tests/test-kernel.sh runs this script under
#                       software emulation, where Java's start is slow)
# Both apps listen on 127.0.0.1 only.
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$PWD

ONCE=0
case "${1:-}" in
  --once) ONCE=1 ;;
  "") ;;
  -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "run.sh: unknown argument '$1' (use --once, or nothing)" >&2; exit 2 ;;
esac

CONTROLLER_PORT=${DMP_CONTROLLER_PORT:-8080}
AGENT_PORT=${DMP_AGENT_PORT:-7070}
HOST_ID=${DMP_HOST_ID:-$(cat /proc/sys/kernel/hostname)}
RUN_DIR=${DMP_RUN_DIR:-$ROOT/.run}
mkdir -p "$RUN_DIR" && RUN_DIR=$(cd "$RUN_DIR" && pwd)
SOCK=$RUN_DIR/nbd.sock
DISK=$RUN_DIR/dmp2.img
CONTROLLER=127.0.0.1:$CONTROLLER_PORT
AGENT_JAR=$ROOT/agent/target/quarkus-app/quarkus-run.jar
CONTROLLER_JAR=$ROOT/controller/target/quarkus-app/quarkus-run.jar

# Messages never end the script: once its output is gone (`| head`, a closed terminal) a write fails
# quietly, and the SIGPIPE or SIGHUP trap below stops what it started.
say() { echo "run.sh: $*" 2>/dev/null; }
die() { echo "run.sh: $*" >&2 2>/dev/null; exit 1; }

# --- tools: installed when missing and root (Debian), else the message says what to install -------
. scripts/tools.sh
dmp_need_tools mvn curl jq qemu-io buf || exit 1
. scripts/jdk.sh
dmp_pick_jdk || exit 1

# --- build if needed: a jar is missing or a source is newer than it ------------------------------
newer_than() { # newer_than JAR MODULE...: is a pom or main source of the modules newer than JAR?
  local jar=$1 m; shift
  for m in . "$@"; do
    [ -n "$(find "$m/pom.xml" $( [ -d "$m/src/main" ] && echo "$m/src/main") -newer "$jar" -type f -print -quit)" ] && return 0
  done
  return 1
}
stale() {
  [ -f "$AGENT_JAR" ] && [ -f "$CONTROLLER_JAR" ] || return 0
  newer_than "$AGENT_JAR" proto agent || newer_than "$CONTROLLER_JAR" proto controller
}
if stale; then
  say "building with Maven and $JAVA_HOME (log: $RUN_DIR/build.log)"
  mvn -B -ntp package -DskipTests > "$RUN_DIR/build.log" 2>&1 || { tail -n 40 "$RUN_DIR/build.log" >&2; die "build failed"; }
fi

# --- start controller and agent ---------------------------------------------------------------
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
in_use "$CONTROLLER_PORT" && die "port $CONTROLLER_PORT is in use; pick another with DMP_CONTROLLER_PORT=..."
in_use "$AGENT_PORT" && die "port $AGENT_PORT is in use; pick another with DMP_AGENT_PORT=..."

CONTROLLER_PID= AGENT_PID=
STOP_TIMEOUT=${DMP_STOP_TIMEOUT:-15}
stop_pid() { # stop_pid PID NAME: SIGTERM, then SIGKILL after STOP_TIMEOUT seconds
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq $((STOP_TIMEOUT * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { say "$2 did not stop in $STOP_TIMEOUT s; killing it"; kill -KILL "$pid"; }
  wait "$pid" 2>/dev/null
  say "$2 stopped"
}
# stop_all: stops both apps, once, whatever called it. While it runs, no signal interrupts it and a
# closed output cannot end it (SIGPIPE ignored: a write just fails).
STOPPING=0
stop_all() {
  trap '' PIPE HUP INT TERM
  trap - EXIT
  [ $STOPPING = 1 ] && return 0
  STOPPING=1
  stop_pid "$AGENT_PID" agent
  stop_pid "$CONTROLLER_PID" controller
}
# Every way out stops both apps: an error (EXIT), Ctrl-C or kill (INT, TERM), a closed terminal (HUP),
# and output that nobody reads any more (PIPE: `./run.sh | head -1`, or `| tee` killed by Ctrl-C).
trap 'stop_all; exit 1' EXIT
trap 'trap "" PIPE; echo 2>/dev/null; stop_all; exit 0' INT TERM
trap 'stop_all; exit 129' HUP
trap 'stop_all; exit 141' PIPE

# wait_for SECONDS WHAT CMD...: polls CMD until it succeeds.
wait_for() {
  local limit=$1 what=$2 i; shift 2
  for i in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not happen within ${limit}s (logs in $RUN_DIR)"
}

# Each run is a fresh demo, as the old module was after insmod: the agent's checkpoint and the
# controller's ledger from a previous run are cleared (both keep their state across restarts otherwise).
rm -rf "$RUN_DIR/state" "$RUN_DIR/controller-data"
read -ra CONTROLLER_JVM <<<"${DMP_CONTROLLER_JVM_OPTS:-}"
read -ra AGENT_JVM <<<"${DMP_AGENT_JVM_OPTS:-}"
say "starting the controller on $CONTROLLER (log: $RUN_DIR/controller.log)"
"$JAVA" "${CONTROLLER_JVM[@]}" -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$CONTROLLER_PORT" \
  -Ddmp.controller.data-dir="$RUN_DIR/controller-data" -jar "$CONTROLLER_JAR" \
  > "$RUN_DIR/controller.log" 2>&1 &
CONTROLLER_PID=$!

say "starting the agent '$HOST_ID' on 127.0.0.1:$AGENT_PORT, NBD socket $SOCK (log: $RUN_DIR/agent.log)"
"$JAVA" "${AGENT_JVM[@]}" -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$AGENT_PORT" \
  -Ddmp.agent.host-id="$HOST_ID" -Ddmp.agent.controller="$CONTROLLER" \
  -Ddmp.agent.nbd-socket="$SOCK" -Ddmp.agent.state-dir="$RUN_DIR/state" -Ddmp.agent.allowed-paths="$RUN_DIR" \
  -jar "$AGENT_JAR" > "$RUN_DIR/agent.log" 2>&1 &
AGENT_PID=$!
# Both start at once (the agent dials the controller again until it answers): a JVM's start is mostly
# one busy thread, so two overlap well.
wait_for "${DMP_START_TIMEOUT:-60}" "controller start-up" curl -sf "http://$CONTROLLER/stat/volumes"
wait_for "${DMP_START_TIMEOUT:-60}" "agent start-up" curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes"

rpc() { buf curl --protocol grpc --http2-prior-knowledge --emit-defaults -d "$2" "http://$CONTROLLER/dmp.v1.Controller/$1"; }
online() { rpc ListHosts '{}' | jq -e --arg h "$HOST_ID" '.hosts[] | select(.id == $h and .online)'; }
wait_for "${DMP_START_TIMEOUT:-30}" "the agent's link to the controller" online

# --- volumes and I/O ----------------------------------------------------------------------------
rm -f "$DISK" && truncate -s 64M "$DISK"
create() {
  local out
  out=$(rpc CreateVolume "$1" 2>&1) || die "CreateVolume $1 failed: $out"
  say "created $(jq -r '.volume | "\(.name): \(.sizeBytes) bytes, \(.nbdUri)\(if .device != "" then ", attached as " + .device else "" end)"' <<<"$out")"
}
# As root on a kernel with the nbd driver, dmp1 is also a block device /dev/nbdN, as the old module's
# was (docs/kernel.md); anywhere else it is served on the NBD socket only.
KERNEL=false
if [ "$(id -u)" = 0 ] && modprobe nbd 2>/dev/null && [ -e /sys/block/nbd0 ]; then KERNEL=true
else say "this host's kernel has no nbd driver (or this is not root): dmp1 is not attached as /dev/nbdN; qemu-io is its client over the NBD socket"; fi
create "{\"host\":\"$HOST_ID\",\"name\":\"dmp1\",\"kernel\":$KERNEL,\"zero\":{\"sizeBytes\":\"1000000000\"}}"
create "{\"host\":\"$HOST_ID\",\"name\":\"dmp2\",\"file\":{\"path\":\"$DISK\"}}"

io() { # io VOLUME PATTERN_WRITTEN PATTERN_READ
  local out
  out=$(qemu-io -f raw -c "write -P $2 0 4k" -c "read -P $3 0 4k" "nbd+unix:///$1?socket=$SOCK" 2>&1) \
    || die "qemu-io on $1 failed: $out"
  case $out in *"verification failed"*) die "qemu-io on $1: $out" ;; esac
}
if [ $KERNEL = true ]; then
  DEV1=$(rpc ListVolumes "{\"host\":\"$HOST_ID\"}" | jq -r '.volumes[] | select(.name == "dmp1") | .device')
  [ -n "$DEV1" ] || die "dmp1 was created with kernel:true but shows no device"
  # The kernel reads the new device's partition table (and udev probes it): those reads are not ours,
  # so the counters are reset once they are done, as the old run.sh did after insmod.
  blockdev --getsize64 "$DEV1" >/dev/null; command -v udevadm >/dev/null && udevadm settle
  rpc ResetStats "{\"scope\":\"VOLUME\",\"host\":\"$HOST_ID\",\"volume\":\"dmp1\"}" >/dev/null || die "ResetStats dmp1 failed"
  say "dd: write 4 KiB to $DEV1 (oflag=direct) and read 4 KiB back (iflag=direct); qemu-io on dmp2 (file)"
  head -c 4096 /dev/urandom >"$RUN_DIR/block"
  dd if="$RUN_DIR/block" of="$DEV1" bs=4096 count=1 oflag=direct status=none || die "dd to $DEV1 failed"
  dd if="$DEV1" of=/dev/null bs=4096 count=1 iflag=direct status=none || die "dd from $DEV1 failed"
else
  say "qemu-io: write 4 KiB and read 4 KiB on dmp1 (zero: reads back zeroes) and on dmp2 (file)"
  io dmp1 0xab 0
fi
io dmp2 0xab 0xab

# The counts reach the controller with the agent's next delta (within a second).
block() { printf '%s:\nread:\n  reqs: 1\n  avg size: 4096\nwrite:\n  reqs: 1\n  avg size: 4096\ntotal:\n  reqs: 2\n  avg size: 4096\n' "$1"; }
EXPECTED=$(block "$HOST_ID/dmp1"; block "$HOST_ID/dmp2")
stats() { curl -sf "http://$CONTROLLER/stat/volumes"; }
for i in $(seq 100); do [ "$(stats)" = "$EXPECTED" ] && break; sleep 0.1; done
echo 2>/dev/null
echo "== curl http://$CONTROLLER/stat/volumes" 2>/dev/null
stats
[ "$(stats)" = "$EXPECTED" ] || die "the controller's counts are not the 1 read and 1 write of 4096 bytes per volume sent"

cat <<EOF

== where to look next
  curl http://localhost:$CONTROLLER_PORT/stat/volumes            # fleet view, as above
  curl http://localhost:$AGENT_PORT/stat/volumes                 # this agent's view
  curl -X POST http://localhost:$AGENT_PORT/stat/volumes         # reset this agent's counters
  nbdinfo 'nbd+unix:///dmp1?socket=$SOCK'
  qemu-io -f raw -c 'read 0 1M' 'nbd+unix:///dmp2?socket=$SOCK'
gRPC (reflection is on), with grpcurl:
  grpcurl -plaintext localhost:$CONTROLLER_PORT list dmp.v1.Controller
  grpcurl -plaintext -d '{"scope":"VOLUME","host":"$HOST_ID","volume":"dmp1"}' localhost:$CONTROLLER_PORT dmp.v1.Controller/QueryStats
  grpcurl -plaintext -d '{"scope":"FLEET"}' localhost:$CONTROLLER_PORT dmp.v1.Controller/ResetStats
  grpcurl -plaintext -d '{"host":"$HOST_ID","name":"dmp3","zero":{"sizeBytes":"1000000000"}}' localhost:$CONTROLLER_PORT dmp.v1.Controller/CreateVolume
  grpcurl -plaintext -d '{}' localhost:$CONTROLLER_PORT dmp.v1.Controller/ListVolumes
or with buf curl (npm @bufbuild/buf; installed by this script), e.g.:
  buf curl --protocol grpc --http2-prior-knowledge --list-methods http://localhost:$CONTROLLER_PORT
  buf curl --protocol grpc --http2-prior-knowledge -d '{"scope":"FLEET"}' http://localhost:$CONTROLLER_PORT/dmp.v1.Controller/QueryStats
Docs: README.md, docs/agent.md, docs/controller.md, docs/stats-protocol.md
EOF

if [ $ONCE = 1 ]; then
  echo 2>/dev/null
  stop_all
  say "done (--once)"
  exit 0
fi
echo 2>/dev/null
say "controller (pid $CONTROLLER_PID) and agent (pid $AGENT_PID) are running; Ctrl-C stops both"
wait -n "$CONTROLLER_PID" "$AGENT_PID"
say "$(kill -0 "$CONTROLLER_PID" 2>/dev/null && echo agent || echo controller) exited on its own; stopping (logs in $RUN_DIR)"
stop_all
exit 1
