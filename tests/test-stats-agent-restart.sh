#!/usr/bin/env bash
# An agent restarted mid-run: gracefully (SIGTERM), the controller's counts stay exact; killed with
# SIGKILL, they are never more than the truth and lose at most what the last unsent second held
# (docs/stats-protocol.md). Its volumes come back from its checkpoint with their counts either way.
. "$(dirname "$0")/lib.sh"
requires buf jq curl
needs_libnbd_python

start_controller
start_agent node-a
truncate -s 16M "$WORK/a.img"
rpc CreateVolume '{"host":"node-a","name":"zero1","zero":{"sizeBytes":"67108864"}}' >/dev/null
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"file1\",\"file\":{\"path\":\"$WORK/a.img\"}}" >/dev/null
URI_Z="nbd+unix:///zero1?socket=$NBD_SOCK"
URI_F="nbd+unix:///file1?socket=$NBD_SOCK"
truth() { local n=$1; echo "$((n / 2)) $((n / 2 * 8192)) $(((n + 1) / 2)) $(((n + 1) / 2 * 4096))"; }
sum() { awk '{r+=$1; rb+=$2; w+=$3; wb+=$4} END {print r, rb, w, wb}'; }
RATE=200
counted() { [ "$(stats_of HOST node-a | awk '{print $3}')" -ge "$1" ]; }

# 1. Graceful restart: exact.
load_start z1 "$URI_Z" 1601 $RATE
load_start f1 "$URI_F" 1400 $RATE
wait_until 30 counted 200
log "stopping the agent with SIGTERM mid-I/O"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
start_agent node-a
load_wait z1 >/dev/null; load_wait f1 >/dev/null
log "loads reconnected $(jq .reconnects "$WORK/load-z1.json") and $(jq .reconnects "$WORK/load-f1.json") times"
exact() { [ "$(stats_of VOLUME node-a "$1")" = "$2" ]; }
wait_until 20 exact zero1 "$(truth 1601)"
wait_until 20 exact file1 "$(truth 1400)"
expect_eq "zero1 after a graceful restart" "$(truth 1601)" "$(stats_of VOLUME node-a zero1)"
expect_eq "file1 after a graceful restart" "$(truth 1400)" "$(stats_of VOLUME node-a file1)"
expect_eq "the agent's own view of zero1, restored" \
  "$(printf 'zero1:\nread:\n  reqs: 800\n  avg size: 8192\nwrite:\n  reqs: 801\n  avg size: 4096\ntotal:\n  reqs: 1601\n  avg size: %d' $(( (800 * 8192 + 801 * 4096) / 1601 )))" \
  "$(curl -s "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=zero1")"

# 2. SIGKILL: never more than the truth; the loss is bounded by what one delta interval carries.
load_start z2 "$URI_Z" 1601 $RATE
load_start f2 "$URI_F" 1400 $RATE
wait_until 30 counted 1701  # phase 1 made 1501 writes
log "killing the agent with SIGKILL mid-I/O"
kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
start_agent node-a
load_wait z2 >/dev/null; load_wait f2 >/dev/null
settled() { local a b; a=$(stats_of HOST node-a); sleep 1.5; b=$(stats_of HOST node-a); [ "$a" = "$b" ]; }
wait_until 30 settled
for v in zero1:1601 file1:1400; do
  name=${v%:*} n=${v#*:}
  read -r tr trb tw twb <<<"$( (truth "$n"; truth "$n") | sum)"
  read -r gr grb gw gwb <<<"$(stats_of VOLUME node-a "$name")"
  lost=$(( (tr + tw) - (gr + gw) ))
  log "$name: truth $((tr + tw)) requests, counted $((gr + gw)), lost $lost to the SIGKILL"
  [ "$gr" -le "$tr" ] && [ "$gw" -le "$tw" ] && [ "$grb" -le "$trb" ] && [ "$gwb" -le "$twb" ] \
    || fail "$name counted more than the truth: $gr $grb $gw $gwb > $tr $trb $tw $twb"
  # At $RATE requests/s the last unsent second holds at most ~$RATE requests; allow 2 s for the
  # checkpoint's own write and scheduling on a loaded machine.
  [ "$lost" -le $((2 * RATE)) ] || fail "$name lost $lost requests, more than 2 s of I/O ($((2 * RATE)))"
done
log "graceful restart exact; SIGKILL never over the truth, loss within the bound"
