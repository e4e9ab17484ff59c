#!/usr/bin/env bash
# Malformed input (tests/nbd-malformed.py): garbage handshakes, a bad option magic, a 4 GiB option, a
# bad request magic, a 4 GiB WRITE, truncated frames, a client vanishing mid-write each end only their
# own connection; an unknown command gets NBD_EINVAL and the connection carries on; DISC answers every
# write in flight before closing. Afterwards the agent serves other clients, the backing file is
# byte-for-byte intact, and the stats count only the requests that completed.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdsh python3 jq buf
nbd_setup

head -c 16777216 /dev/urandom > "$STATE/disk.img"
sum_before=$(sha256sum < "$STATE/disk.img")
create_volume f1 "\"file\":{\"path\":\"$STATE/disk.img\"}"
create_volume m1 '"memory":{"sizeBytes":"16777216"}'

python3 "$TESTS_DIR/nbd-malformed.py" "$NBD_SOCK" f1 m1 || fail "malformed-input script"

kill -0 "$AGENT_PID" || fail "the agent died"
expect_eq "backing file intact" "$sum_before" "$(sha256sum < "$STATE/disk.img")"
# Another client is served normally: the 8 writes sent before DISC are all there.
nbdsh -u "$(uri m1)" -c '
for i in range(8):
    assert h.pread(1 << 20, i << 20) == bytes([i + 1]) * (1 << 20), i
' || fail "reading back the writes made before DISC"
expect_stats f1 1 4096 0 0
expect_stats m1 8 8388608 8 8388608
log "PASS"
