#!/usr/bin/env bash
# A stop answers what it took in: a client (libnbd) has 8 WRITEs of 256 KiB in flight on a volume
# that proxies to 'nbdkit --filter=delay memory' (each write held 2 s upstream) when the agent gets
# SIGTERM. Every write completes with success before the connection closes (the agent lets requests
# in flight finish for up to 5 s, refusing new ones with NBD_ESHUTDOWN), and the upstream holds
# every byte of them. Before, the stop closed the sockets first and the replies were lost.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdkit nbdcopy jq buf
needs_libnbd_python
nbd_setup
KiB=1024 N=8

nbdkit -f --exit-with-parent --unix "$STATE/slow.sock" --filter=delay memory 4M wdelay=2 \
  > "$WORK/nbdkit.log" 2>&1 &
_PIDS+=($!)
wait_until 10 test -S "$STATE/slow.sock"
create_volume slow "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/slow.sock\"}"

# N writes of 256 KiB, each a different byte, issued at once; the script reports each one's result
# once the stop has come (stdin closes) and they are all done.
cat > "$WORK/writer.py" <<'PY'
import nbd, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1])
n, size = int(sys.argv[2]), 256 * 1024
cookies = [h.aio_pwrite(bytes([0x41 + i]) * size, i * size) for i in range(n)]
while h.aio_get_direction() & nbd.AIO_DIRECTION_WRITE:  # libnbd sends only while it is polled
    h.poll(-1)
print("issued", flush=True)
sys.stdin.read()
results = []
for c in cookies:
    while not h.aio_command_completed(c):
        h.poll(-1)
    results.append("ok")
print(" ".join(results), flush=True)
PY
coproc WRITER { exec /usr/bin/python3 "$WORK/writer.py" "$(uri slow)" $N 2>&1; }
_PIDS+=("$WRITER_PID")
read -r -t 20 -u "${WRITER[0]}" issued && [ "$issued" = issued ] || fail "the writer did not start: $issued"
in_flight() { [ "$(curl -sf "http://127.0.0.1:$AGENT_PORT/q/metrics" | awk '/^dmp_volume_requests_in_flight\{.*volume="slow"/ {print int($2)}')" = $N ]; }
wait_until 10 in_flight
log "$N writes in flight on the slow upstream; SIGTERM to the agent"
kill "$AGENT_PID"
exec {WRITER[1]}>&-
read -r -t 30 -u "${WRITER[0]}" results || fail "the writes did not complete within 30 s"
expect_eq "the $N writes, as the client saw them" "$(printf 'ok %.0s' $(seq $N) | sed 's/ $//')" "$results"
stopped() { ! kill -0 "$AGENT_PID" 2>/dev/null; }
wait_until 20 stopped
log "ok: the agent stopped after answering every write"

# Straight from nbdkit: every write is there.
nbdcopy "nbd+unix:///?socket=$STATE/slow.sock" "$WORK/upstream.img"
for i in $(seq 0 $((N - 1))); do
  got=$(dd if="$WORK/upstream.img" bs=$((256 * KiB)) skip=$i count=1 status=none | tr -d "\\$(printf '%03o' $((0x41 + i)))" | wc -c)
  expect_eq "bytes of write $i that are not its own" 0 "$got"
done
log "PASS"
