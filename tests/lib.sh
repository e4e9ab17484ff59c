# Shared helpers for the end-to-end scripts under tests/. Source it first thing:
#   . "$(dirname "$0")/lib.sh"
# Conventions (as nbdkit's tests): one feature per script, exit 0 pass, 77 skip (a client is
# missing; says which), anything else fail. Every process a script starts is stopped by the EXIT trap.
set -euo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$TESTS_DIR/.." && pwd)
. "$ROOT/scripts/jdk.sh"
dmp_pick_jdk
AGENT_JAR=$ROOT/agent/target/quarkus-app/quarkus-run.jar
CONTROLLER_JAR=$ROOT/controller/target/quarkus-app/quarkus-run.jar
TEST_NAME=$(basename "$0" .sh)

# A private work dir per script run; kept under tests/artifacts/ when the script fails.
WORK=$(mktemp -d "/tmp/dmp-$TEST_NAME.XXXXXX")
_PIDS=()
_cleanup() {
  local rc=$?
  for p in "${_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    mkdir -p "$ROOT/tests/artifacts/$TEST_NAME"
    cp -r "$WORK"/. "$ROOT/tests/artifacts/$TEST_NAME/" 2>/dev/null || true
    echo "FAIL $TEST_NAME (logs kept in tests/artifacts/$TEST_NAME)" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 30 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap _cleanup EXIT

# In CI (DMP_REQUIRE_ALL=1) a missing tool is a failure: .ci/run installs every one.
skip() {
  if [ "${DMP_REQUIRE_ALL:-0}" = 1 ]; then fail "would skip, but DMP_REQUIRE_ALL=1: $*"; fi
  echo "SKIP $TEST_NAME: $*"; exit 77
}
fail() { echo "FAIL $TEST_NAME: $*" >&2; exit 1; }
log() { echo "[$TEST_NAME] $*"; }

# requires CMD... : skip unless every command exists.
requires() { local c; for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "needs '$c' (see .ci/run for the package)"; done; }

# nbdsh runs 'python3 -m nbd', which needs Debian's python3, not a pyenv one.
nbdsh() { PATH=/usr/bin:$PATH command nbdsh "$@"; }

# free_port: a TCP port nobody listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds; fails after SECONDS.
wait_until() {
  local limit=$1; shift
  local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt $deadline ] || fail "timed out after ${limit}s waiting for: $*"
    sleep 0.1
  done
}

need_jars() {
  [ -f "$AGENT_JAR" ] && [ -f "$CONTROLLER_JAR" ] || fail "packaged apps missing: run 'mvn package' (./test.sh does)"
}

# start_controller [extra -D options...]: sets CONTROLLER_PORT, CONTROLLER (host:port), CONTROLLER_PID.
start_controller() {
  need_jars
  CONTROLLER_PORT=${CONTROLLER_PORT:-$(free_port)}
  CONTROLLER=127.0.0.1:$CONTROLLER_PORT
  "$JAVA" -Dquarkus.http.port="$CONTROLLER_PORT" -Dquarkus.http.host=127.0.0.1 "$@" \
    -jar "$CONTROLLER_JAR" > "$WORK/controller.log" 2>&1 &
  CONTROLLER_PID=$!; _PIDS+=("$CONTROLLER_PID")
  wait_until "${DMP_START_TIMEOUT:-60}" curl -sf "http://$CONTROLLER/stat/volumes"
}

# DMP_START_TIMEOUT (seconds, default 60) bounds the wait for an app to start; the kernel tests raise it
# because Java under software emulation (tests/vm) starts far slower.

# start_agent HOST_ID [extra -D options...]: the agent's socket is $WORK/HOST_ID/nbd.sock and its
# state dir $WORK/HOST_ID/state. Sets AGENT_PORT, AGENT_PID, NBD_SOCK for the last agent started.
start_agent() {
  need_jars
  local host=$1; shift
  mkdir -p "$WORK/$host/state"
  AGENT_PORT=$(free_port)
  NBD_SOCK=$WORK/$host/nbd.sock
  "$JAVA" -Dquarkus.http.port="$AGENT_PORT" -Dquarkus.http.host=127.0.0.1 \
    -Ddmp.agent.host-id="$host" -Ddmp.agent.controller="${CONTROLLER:-}" \
    -Ddmp.agent.state-dir="$WORK/$host/state" -Ddmp.agent.nbd-socket="$NBD_SOCK" "$@" \
    -jar "$AGENT_JAR" > "$WORK/agent-$host.log" 2>&1 &
  AGENT_PID=$!; _PIDS+=("$AGENT_PID")
  wait_until "${DMP_START_TIMEOUT:-60}" test -S "$NBD_SOCK"
  wait_until "${DMP_START_TIMEOUT:-60}" curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes"
  if [ -n "${CONTROLLER:-}" ]; then wait_until 30 host_online "$host"; fi
}

# rpc METHOD JSON: calls dmp.v1.Controller/METHOD with buf curl (gRPC reflection, as grpcurl would);
# prints the JSON answer (zeroes included); returns non-zero with the status JSON on stderr on error.
rpc() {
  buf curl --protocol grpc --http2-prior-knowledge --emit-defaults -d "$2" "http://$CONTROLLER/dmp.v1.Controller/$1"
}

host_online() { rpc ListHosts '{}' | jq -e --arg h "$1" '.hosts[] | select(.id==$h and .online)' >/dev/null; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; log "ok: $1 = $3"; }
