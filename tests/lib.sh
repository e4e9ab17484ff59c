# Shared helpers for the end-to-end scripts under tests/. Source it first thing:
#   . "$(dirname "$0")/lib.sh"
# Conventions (as nbdkit's tests): one feature per script, exit 0 pass, 77 skip (a client is
# missing; says which), anything else fail. Every process a script starts is stopped by the EXIT trap.
set -euo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$TESTS_DIR/.." && pwd)
. "$ROOT/scripts/jdk.sh"
. "$ROOT/scripts/postgresql.sh"
dmp_pick_jdk
AGENT_JAR=$ROOT/agent/target/quarkus-app/quarkus-run.jar
CONTROLLER_JAR=$ROOT/controller/target/quarkus-app/quarkus-run.jar
TEST_NAME=$(basename "$0" .sh)

# A private work dir per script run; kept under tests/artifacts/ when the script fails.
WORK=$(mktemp -d "/tmp/dmp-$TEST_NAME.XXXXXX")
_PIDS=()
# _stop_all: SIGTERM to every process the script started, then a bounded wait. A process still alive
# after DMP_STOP_TIMEOUT seconds (default 30) is a bug (a shutdown that hangs): its threads are printed
# (jcmd, for a Java process), it is killed, and the script fails saying which one it was.
_stop_all() {
  local p deadline stuck=0
  for p in "${_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  deadline=$(( $(date +%s) + ${DMP_STOP_TIMEOUT:-30} ))
  for p in "${_PIDS[@]}"; do
    while kill -0 "$p" 2>/dev/null; do
      if [ "$(date +%s)" -ge $deadline ]; then
        echo "FAIL $TEST_NAME: process $p did not stop within ${DMP_STOP_TIMEOUT:-30}s of SIGTERM:" \
          "$(ps -o args= -p "$p" 2>/dev/null | cut -c1-160); its threads, then SIGKILL:" >&2
        if [ "$(ps -o comm= -p "$p")" = java ]; then
          timeout 20 "$JAVA_HOME/bin/jcmd" "$p" Thread.print 2>&1 | head -n 600 >&2 || true
        fi
        kill -KILL "$p" 2>/dev/null || true
        stuck=1
        break
      fi
      sleep 0.1
    done
    wait "$p" 2>/dev/null || true
  done
  return $stuck
}
_NETNS=()
_cleanup() {
  local rc=$?
  trap - TERM INT
  # A process that would not stop fails a script that had passed (or skipped).
  if ! _stop_all && { [ $rc -eq 0 ] || [ $rc -eq 77 ]; }; then rc=1; fi
  local n
  for n in "${_NETNS[@]}"; do ip link del "${n#*:}" 2>/dev/null || true; ip netns del "${n%%:*}" 2>/dev/null || true; done
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
# test.sh bounds each script with timeout(1): its SIGTERM still runs the cleanup above.
trap 'exit 143' TERM INT

# In CI (DMP_REQUIRE_ALL=1) a missing tool is a failure: test.sh, as root, installs every one (scripts/tools.sh).
skip() {
  if [ "${DMP_REQUIRE_ALL:-0}" = 1 ]; then fail "would skip, but DMP_REQUIRE_ALL=1: $*"; fi
  echo "SKIP $TEST_NAME: $*"; exit 77
}
fail() { echo "FAIL $TEST_NAME: $*" >&2; exit 1; }
log() { echo "[$TEST_NAME] $*"; }

# requires CMD... : skip unless every command exists.
requires() { local c; for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "needs '$c' (scripts/tools.sh lists its package; as root, scripts/install-tools.sh installs everything)"; done; }

# nbdsh runs 'python3 -m nbd', which needs Debian's python3, not a pyenv one. With
# DMP_NBD_STRUCTURED_REPLIES=0 it asks for simple replies only: its first snippet, before any -u,
# turns them off (tests/test-nbd-simple-replies.sh runs scripts again that way).
nbdsh() {
  local simple=()
  if [ "${DMP_NBD_STRUCTURED_REPLIES:-1}" = 0 ]; then simple=(-c 'h.set_request_structured_replies(False)'); fi
  PATH=/usr/bin:$PATH command nbdsh "${simple[@]}" "$@"
}

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
  launch_controller "$@"
  wait_until "${DMP_START_TIMEOUT:-60}" curl -sf "http://$CONTROLLER/stat/volumes"
}
# launch_controller [extra -D options...]: start_controller without the wait for it to answer, so that
# an agent can start meanwhile (start_agent then waits for its link to the controller).
launch_controller() {
  need_jars
  CONTROLLER_PORT=${CONTROLLER_PORT:-$(free_port)}
  CONTROLLER=127.0.0.1:$CONTROLLER_PORT
  mkdir -p "$WORK/controller-data"
  env QUARKUS_HTTP_PORT="$CONTROLLER_PORT" QUARKUS_HTTP_HOST=127.0.0.1 DMP_CONTROLLER_DATA_DIR="$WORK/controller-data" \
    $(_token_env "$@") "$JAVA" "$@" -jar "$CONTROLLER_JAR" >> "$WORK/controller.log" 2>&1 &
  CONTROLLER_PID=$!; _PIDS+=("$CONTROLLER_PID")
}

# DMP_START_TIMEOUT (seconds, default 60) bounds the wait for an app to start; the kernel tests raise it
# because Java under software emulation (tests/vm) starts far slower.

# The apps are configured as the Kubernetes manifests configure the pods: by environment variables of
# the same names (deploy/kubernetes; tests/test-stats-fleet.sh checks that every name the manifests
# set is set here). Extra -D options given to start_* override them.
AGENT_ENV_NAMES="QUARKUS_HTTP_PORT QUARKUS_HTTP_HOST DMP_AGENT_HOST_ID DMP_AGENT_CONTROLLER DMP_AGENT_STATE_DIR DMP_AGENT_NBD_SOCKET DMP_AGENT_ALLOWED_PATHS DMP_AUTH_TOKEN"
CONTROLLER_ENV_NAMES="QUARKUS_HTTP_PORT QUARKUS_HTTP_HOST DMP_CONTROLLER_DATA_DIR DMP_AUTH_TOKEN"

# _token_env ARGS...: "DMP_AUTH_TOKEN=$DMP_TOKEN" when DMP_TOKEN is set and the app's extra options
# do not set the token themselves (as -Ddmp.auth.token or -Ddmp.auth.token-file).
_token_env() {
  if [ -n "${DMP_TOKEN:-}" ] && [[ " $* " != *" -Ddmp.auth.token"* ]]; then echo "DMP_AUTH_TOKEN=$DMP_TOKEN"; fi
}

# start_agent HOST_ID [extra -D options...]: the agent's socket is $WORK/HOST_ID/nbd.sock and its
# state dir $WORK/HOST_ID/state. Sets AGENT_PORT, AGENT_PID, NBD_SOCK for the last agent started.
start_agent() {
  need_jars
  local host=$1; shift
  mkdir -p "$WORK/$host/state"
  AGENT_PORT=$(free_port)
  NBD_SOCK=$WORK/$host/nbd.sock
  ${AGENT_EXEC:-} env QUARKUS_HTTP_PORT="$AGENT_PORT" QUARKUS_HTTP_HOST=127.0.0.1 DMP_AGENT_HOST_ID="$host" \
    DMP_AGENT_CONTROLLER="${CONTROLLER:-}" DMP_AGENT_STATE_DIR="$WORK/$host/state" DMP_AGENT_NBD_SOCKET="$NBD_SOCK" \
    DMP_AGENT_ALLOWED_PATHS="$WORK" $(_token_env "$@") "$JAVA" "$@" -jar "$AGENT_JAR" >> "$WORK/agent-$host.log" 2>&1 &
  AGENT_PID=$!; _PIDS+=("$AGENT_PID")
  wait_until "${DMP_START_TIMEOUT:-60}" ${AGENT_EXEC:-} curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes"
  wait_until 10 test -S "$NBD_SOCK"
  if [ -n "${CONTROLLER:-}" ]; then wait_until "${DMP_START_TIMEOUT:-30}" host_online "$host"; fi
}

# start_postgresql: a PostgreSQL cluster of the script's own (Debian's postgresql package, no container)
# in $WORK/pg, on 127.0.0.1 at a free port and on a socket in that folder; TCP logins need a password
# (scram-sha-256), as a controller's would. Sets PG_BIN, PG_DIR, PG_PORT, PG_USER, PG_PASSWORD_FILE and
# PG_URL (JDBC, database postgres). PostgreSQL refuses to run as root, so as root it runs as nobody.
# Stopped by the EXIT trap like every process the script starts.
start_postgresql() {
  dmp_find_postgresql || skip "needs PostgreSQL's initdb and pg_ctl (Debian's postgresql; scripts/tools.sh lists it)"
  PG_PORT=$(free_port) PG_USER=dmp
  dmp_initdb "$WORK" "$PG_USER" || fail "initdb failed: $(tail -n 5 "$WORK/initdb.log")"
  PG_URL=jdbc:postgresql://127.0.0.1:$PG_PORT/postgres
  pg_start
}
# pg_start / pg_stop: start_postgresql's cluster started again, or stopped (fast: sessions are cut).
pg_start() {
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$WORK/postgresql.log" -w -t 60 \
    -o "-k $PG_DIR -c listen_addresses=127.0.0.1 -p $PG_PORT" start > /dev/null \
    || fail "PostgreSQL did not start: $(tail -n 5 "$WORK/postgresql.log")"
  _PIDS+=("$(head -n 1 "$PG_DIR/data/postmaster.pid")")
}
pg_stop() { "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop > /dev/null; }
# psql_ledger SQL: runs SQL in start_postgresql's database (over its socket, as PG_USER); prints the
# rows unaligned, columns joined by '|'.
psql_ledger() { "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -U "$PG_USER" -d postgres -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# netns_add INDEX: a network namespace of this script's own, with a veth pair to the script's side:
# 10.213.77.(4*INDEX+1) here, .(4*INDEX+2) inside (a /30 per namespace, used nowhere else). Sets
# NETNS (run in it with "ip netns exec $NETNS CMD"), NETNS_HOST_IF and NETNS_HOST_IP (the address of
# this side, which processes inside dial). Removed by the EXIT trap. Needs root and ip.
netns_add() {
  local i=$1 ns_if=dmp$$n$1 ns_ip=10.213.77.$((4 * $1 + 2))
  NETNS=dmp-$$-$i NETNS_HOST_IF=dmp$$h$i NETNS_HOST_IP=10.213.77.$((4 * i + 1))
  ip netns add "$NETNS"
  _NETNS+=("$NETNS:$NETNS_HOST_IF")
  ip link add "$NETNS_HOST_IF" type veth peer name "$ns_if"
  ip link set "$ns_if" netns "$NETNS"
  ip addr add "$NETNS_HOST_IP/30" dev "$NETNS_HOST_IF"; ip link set "$NETNS_HOST_IF" up
  ip netns exec "$NETNS" ip addr add "$ns_ip/30" dev "$ns_if"
  ip netns exec "$NETNS" ip link set "$ns_if" up
  ip netns exec "$NETNS" ip link set lo up
}

# manifest_env agent|controller: the environment variable names the Kubernetes manifests give that
# container (its env and its ConfigMaps), one per line, sorted. Needs Debian's python3-yaml.
manifest_env() {
  /usr/bin/python3 - "$ROOT/deploy/kubernetes" "$1" <<'PY'
import glob, sys, yaml
base, app = sys.argv[1], sys.argv[2]
docs = [d for f in sorted(glob.glob(base + "/*.yaml")) if not f.endswith("kustomization.yaml")
        for d in yaml.safe_load_all(open(f)) if d]
maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
kind = {"agent": "DaemonSet", "controller": "Deployment"}[app]
pod = next(d for d in docs if d["kind"] == kind)["spec"]["template"]["spec"]
c = next(c for c in pod["containers"] if c["name"] == app)
names = {e["name"] for e in c.get("env", [])}
for src in c.get("envFrom", []):
    names |= set(maps[src["configMapRef"]["name"]])
print("\n".join(sorted(names)))
PY
}

# rpc METHOD JSON: calls dmp.v1.Controller/METHOD with buf curl (gRPC reflection, as grpcurl would);
# prints the JSON answer (zeroes included); returns non-zero with the status JSON on stderr on error.
# With DMP_TOKEN set, every call carries it as a bearer token, reflection's too.
rpc() {
  buf curl --protocol grpc --http2-prior-knowledge --emit-defaults "${_AUTH[@]}" -d "$2" "http://$CONTROLLER/dmp.v1.Controller/$1"
}

# agent_rpc METHOD JSON: the same against dmp.v1.Agent of the last agent started.
agent_rpc() {
  buf curl --protocol grpc --http2-prior-knowledge --emit-defaults "${_AUTH[@]}" -d "$2" "http://127.0.0.1:$AGENT_PORT/dmp.v1.Agent/$1"
}

_AUTH=()
if [ -n "${DMP_TOKEN:-}" ]; then _AUTH=(-H "authorization: Bearer $DMP_TOKEN" --reflect-header '*'); fi

host_online() { rpc ListHosts '{}' | jq -e --arg h "$1" '.hosts[] | select(.id==$h and .online)' >/dev/null; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; log "ok: $1 = $3"; }

# rpc_error METHOD JSON: calls a method that must fail; prints "CODE MESSAGE" (CODE as gRPC names it,
# upper case, e.g. INVALID_ARGUMENT). Fails the test if the call succeeded.
rpc_error() {
  local out err
  if out=$(rpc "$1" "$2" 2>"$WORK/rpc.err"); then fail "$1 $2: expected an error, got: $out"; fi
  err=$(jq -r '(.code | ascii_upcase) + " " + .message' < "$WORK/rpc.err") || fail "$1: no gRPC status in: $(cat "$WORK/rpc.err")"
  echo "$err"
}

# expect_text WHAT EXPECTED ACTUAL: whole-text comparison; shows a diff when they differ.
expect_text() {
  [ "$2" = "$3" ] || fail "$1 differs (- expected, + actual):
$(diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") | tail -n +3)"
  log "ok: $1 (whole text matches)"
}

# wait_for_text SECONDS WHAT EXPECTED CMD...: polls CMD every 0.1 s until its output is EXPECTED
# (for numbers that reach the controller with the next delta); then compares once more, so a
# timeout shows the diff.
wait_for_text() {
  local limit=$1 what=$2 expected=$3; shift 3
  local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
  until [ "$("$@" 2>/dev/null)" = "$expected" ] || [ "$(date +%s%N)" -ge $deadline ]; do sleep 0.1; done
  expect_text "$what" "$expected" "$("$@")"
}

# old_block NAME READ_REQS READ_AVG WRITE_REQS WRITE_AVG TOTAL_REQS TOTAL_AVG: the old sysfs block,
# from literal numbers (tests spell out the arithmetic they expect rather than recomputing it).
old_block() {
  printf '%s:\nread:\n  reqs: %s\n  avg size: %s\nwrite:\n  reqs: %s\n  avg size: %s\ntotal:\n  reqs: %s\n  avg size: %s\n' "$@"
}

# stats_row HOST VOLUME R_REQS R_BYTES R_AVG W_REQS W_BYTES W_AVG T_REQS T_BYTES T_AVG: one QueryStats
# row as compact, key-sorted JSON (compare with `jq -cS`).
stats_row() {
  jq -ncS --arg h "$1" --arg v "$2" --args \
    '{host:$h, volume:$v, read:{requests:$ARGS.positional[0], bytes:$ARGS.positional[1], avgSize:$ARGS.positional[2]},
      write:{requests:$ARGS.positional[3], bytes:$ARGS.positional[4], avgSize:$ARGS.positional[5]},
      total:{requests:$ARGS.positional[6], bytes:$ARGS.positional[7], avgSize:$ARGS.positional[8]}}' "${@:3}"
}

# Ground-truth loads (tests/tools/nbd-load.py on libnbd): load_start NAME URI COUNT RATE starts one in
# the background; load_wait NAME waits for it and prints its JSON totals.
needs_libnbd_python() { /usr/bin/python3 -c 'import nbd' 2>/dev/null || skip "needs python3-libnbd (Debian's python3 module nbd)"; }
load_start() {
  /usr/bin/python3 "$TESTS_DIR/tools/nbd-load.py" "$2" --count "$3" --rate "$4" --out "$WORK/load-$1.json" \
    > "$WORK/load-$1.log" 2>&1 &
  eval "LOAD_PID_${1//[^A-Za-z0-9]/_}=$!"; _PIDS+=("$!")
}
load_wait() {
  local var="LOAD_PID_${1//[^A-Za-z0-9]/_}"
  wait "${!var}" || fail "load $1 failed: $(tail -n 5 "$WORK/load-$1.log")"
  cat "$WORK/load-$1.json"
}
# stats_of SCOPE HOST VOLUME: "reads read_bytes writes write_bytes" as the controller's QueryStats says.
stats_of() {
  local req
  case $1 in
    VOLUME) req="{\"scope\":\"VOLUME\",\"host\":\"$2\",\"volume\":\"$3\"}" ;;
    HOST) req="{\"scope\":\"HOST\",\"host\":\"$2\"}" ;;
    FLEET) req='{"scope":"FLEET"}' ;;
  esac
  rpc QueryStats "$req" | jq -r '.rows[0] | "\(.read.requests) \(.read.bytes) \(.write.requests) \(.write.bytes)"'
}
