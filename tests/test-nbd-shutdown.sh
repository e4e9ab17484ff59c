#!/usr/bin/env bash
# The agent stops promptly on SIGTERM even while a request waits on an upstream that does not answer:
# an nbd volume proxies to 'nbdkit --filter=delay memory' whose reads take 120 s; with one such read
# in flight the agent gets SIGTERM and must be gone within 20 s (it gives requests 5 s, then interrupts
# them), its client gets an error rather than a hang, and the upstream is left as it was.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdkit jq buf
needs_libnbd_python
nbd_setup

nbdkit -f --exit-with-parent --unix "$STATE/slow.sock" --filter=delay memory 1M rdelay=120 \
  > "$WORK/nbdkit.log" 2>&1 &
_PIDS+=($!)
wait_until 10 test -S "$STATE/slow.sock"
# Data, written upstream directly (the delay filter delays reads only): a READ of a hole would be
# answered from the upstream's block status, without reading.
nbdsh -u "nbd+unix:///?socket=$STATE/slow.sock" -c 'h.pwrite(b"d" * 1048576, 0)'
create_volume slow "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/slow.sock\"}"

# One 1 MiB read (over the 64 KiB the connection's reader serves itself, so it runs as a request task)
# that the upstream holds for 120 s, in the background.
nbdsh -u "$(uri slow)" -c 'h.pread(1048576, 0)' > "$WORK/read.log" 2>&1 &
READER=$!
in_flight() { [ "$(curl -sf "http://127.0.0.1:$AGENT_PORT/q/metrics" | awk '/^dmp_volume_requests_in_flight\{.*volume="slow"/ {print $2}')" = 1.0 ]; }
wait_until 20 in_flight
log "one read in flight on the stalled upstream; SIGTERM to the agent"
start=$(date +%s)
kill "$AGENT_PID"
stopped() { ! kill -0 "$AGENT_PID" 2>/dev/null; }
wait_until 20 stopped
took=$(( $(date +%s) - start ))
log "ok: the agent stopped $took s after SIGTERM with a read stuck upstream"
grep -q "requests still running after 5 s on 1 connection; closed them, interrupting the requests" \
  "$WORK/agent-node-a.log" || fail "the agent did not say it interrupted the stuck request"
log "ok: it said why: $(grep -o 'NBD server on .*interrupting the requests' "$WORK/agent-node-a.log" | head -1)"
wait "$READER" && fail "the client's read succeeded although the agent went away"
log "ok: the client got an error, not a hang: $(tail -n 1 "$WORK/read.log")"
