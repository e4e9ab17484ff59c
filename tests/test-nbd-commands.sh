#!/usr/bin/env bash
# Every NBD command and flag, driven by nbdsh (libnbd), on a file volume and on a memory volume:
# READ, WRITE (+FUA), FLUSH, TRIM (+FUA; punches a hole in the file), WRITE_ZEROES (plain, NO_HOLE,
# FAST_ZERO, FUA), CACHE; 16 requests in flight on one connection; bytes read back as written; then
# the stats equal exactly the reads and writes sent (TRIM, WRITE_ZEROES, CACHE and FLUSH move no payload
# and are not counted as reads or writes).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdsh jq buf
nbd_setup

truncate -s 16M "$STATE/disk.img"
create_volume f1 "\"file\":{\"path\":\"$STATE/disk.img\"}"
create_volume m1 '"memory":{"sizeBytes":"16777216"}'

for v in f1 m1; do
  log "commands on $v"
  DISK="$STATE/disk.img" VOLUME=$v nbdsh -u "$(uri $v)" -c "$(cat <<'PY'
import os
KiB, MiB = 1024, 1024 * 1024
file_backed = os.environ["VOLUME"] == "f1"

def blocks():
    return os.stat(os.environ["DISK"]).st_blocks if file_backed else None

a = bytes((i * 7 + 1) % 251 for i in range(64 * KiB))
h.pwrite(a, 1 * MiB)                                   # write 1: 64 KiB
assert h.pread(64 * KiB, 1 * MiB) == a                 # read 1: 64 KiB
h.pwrite(b"F" * 4096, 0, nbd.CMD_FLAG_FUA)             # write 2: 4 KiB, FUA
h.flush()
assert h.pread(4096, 0) == b"F" * 4096                 # read 2: 4 KiB

h.pwrite(b"T" * MiB, 4 * MiB)                          # write 3: 1 MiB
before = blocks()
h.trim(MiB, 4 * MiB, nbd.CMD_FLAG_FUA)
if file_backed:
    assert blocks() <= before - 2048, (before, blocks())  # 1 MiB = 2048 sectors punched out

h.zero(32 * KiB, 1 * MiB)                              # may punch a hole
assert h.pread(64 * KiB, 1 * MiB) == bytes(32 * KiB) + a[32 * KiB:]   # read 3: 64 KiB
h.zero(16 * KiB, 1 * MiB + 32 * KiB, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FUA)
assert h.pread(64 * KiB, 1 * MiB) == bytes(48 * KiB) + a[48 * KiB:]   # read 4: 64 KiB
h.zero(4096, 0, nbd.CMD_FLAG_FAST_ZERO)
assert h.pread(4096, 0) == bytes(4096)                 # read 5: 4 KiB
h.cache(MiB, 0)

# 16 writes then 16 reads in flight at once on this one connection; replies may come in any order.
bufs = [nbd.Buffer.from_bytearray(bytearray([i]) * 65536) for i in range(16)]
for i in range(16):
    h.aio_pwrite(bufs[i], 8 * MiB + i * 65536)                                    # writes 4-19
assert h.aio_in_flight() > 1
while h.aio_in_flight() > 0:
    h.poll(-1)
outs = [nbd.Buffer(65536) for _ in range(16)]
for i in range(16):
    h.aio_pread(outs[i], 8 * MiB + i * 65536)                                     # reads 6-21
while h.aio_in_flight() > 0:
    h.poll(-1)
for i in range(16):
    assert outs[i].to_bytearray() == bytearray([i]) * 65536, i
h.shutdown()
PY
)" || fail "nbdsh script on $v failed"
  # reads: 3 x 64 KiB + 2 x 4 KiB + 16 x 64 KiB; writes: 64 KiB + 4 KiB + 1 MiB + 16 x 64 KiB
  expect_stats $v 21 $(( 3*65536 + 2*4096 + 16*65536 )) 19 $(( 65536 + 4096 + 1048576 + 16*65536 ))
done

# The bytes are in the file itself, where nbdsh put them.
expect_eq "file bytes at 8 MiB + 64 KiB" "$(printf '\001%.0s' $(seq 65536) | sha256sum | cut -c1-64)" \
  "$(dd if="$STATE/disk.img" bs=64K skip=129 count=1 status=none | sha256sum | cut -c1-64)"
# The old view on the agent agrees: 21 reads, 19 writes.
curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=f1" > "$WORK/old-view.txt"
expect_eq "old view read reqs" 21 "$(awk '/^read:/{s=1} s&&/reqs:/{print $2; exit}' "$WORK/old-view.txt")"
expect_eq "old view write reqs" 19 "$(awk '/^write:/{s=1} s&&/reqs:/{print $2; exit}' "$WORK/old-view.txt")"
log "PASS"
