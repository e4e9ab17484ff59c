#!/usr/bin/env bash
# Copying a large sparse volume out, as users do, with clients nobody here wrote; the counters prove
# what crossed the socket:
#   - nbdcopy VOLUME null: asks BLOCK_STATUS for the whole volume and READs only the data: READ bytes
#     are exactly the data the script wrote, BLOCK_STATUS bytes exactly the volume's size. nbdcopy
#     (libnbd 1.14) reads in requests of 256 KiB (16 MiB of data: 64 READs) and its workers map the
#     volume 128 MiB at a time, each answered whole by one reply (4 GiB: 32 BLOCK_STATUS);
#   - nbdcopy --no-extents reads every byte (16384 READs of 256 KiB), and dmp sends what is not data as
#     holes: hole bytes are exactly the size less the data;
#   - nbdcopy to a local file and qemu-img convert -O raw give sparse files (allocated within one
#     extent of the source's) with the same bytes (cmp, qemu-img compare).
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdcopy qemu-img jq buf
nbd_setup

# 4 GiB with 16 data extents of 1 MiB of random bytes, one every 256 MiB from 100 MiB: 16 MiB of data.
SIZE=$((4 << 30)) DATA=$((16 << 20))
truncate -s $SIZE "$STATE/big.img"
/usr/bin/python3 - "$STATE/big.img" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for i in range(16):
    os.pwrite(fd, os.urandom(1 << 20), (100 << 20) + i * (256 << 20))
os.fsync(fd)
os.close(fd)
PY
allocated() { echo $(( $(stat -c '%b * %B' "$1") )); }
src_alloc=$(allocated "$STATE/big.img")
log "source: $SIZE bytes, $src_alloc allocated"
create_volume big "\"file\":{\"path\":\"$STATE/big.img\"}"

# counts OP: [requests, bytes, hole bytes, errors] of one operation of the volume, as the controller
# has them (an operation never seen since the reset has no row: zeroes).
counts() {
  rpc QueryStats '{"scope":"VOLUME","host":"node-a","volume":"big"}' \
    | jq -c --arg op "OP_$1" '[.rows[0].ops[] | select(.op == $op)] | .[0] // {} | [.requests, .bytes, .holeBytes, .errors] | map(. // "0")'
}
reset() { rpc ResetStats '{"scope":"VOLUME","host":"node-a","volume":"big"}' > /dev/null; }

start=$(date +%s%N)
nbdcopy "$(uri big)" null: || fail "nbdcopy to null: failed"
log "nbdcopy VOLUME null: took $(( ($(date +%s%N) - start) / 1000000 )) ms"
wait_for_text 15 "nbdcopy null:: READ [requests, bytes, hole bytes, errors] = the data written" "[\"64\",\"$DATA\",\"0\",\"0\"]" counts READ
wait_for_text 15 "nbdcopy null:: BLOCK_STATUS [requests, bytes, hole bytes, errors] = the volume's size" "[\"32\",\"$SIZE\",\"0\",\"0\"]" counts BLOCK_STATUS

reset
nbdcopy --no-extents "$(uri big)" null: || fail "nbdcopy --no-extents to null: failed"
wait_for_text 15 "nbdcopy --no-extents: READ [requests, bytes, hole bytes, errors]: all of it, holes as holes" \
  "[\"16384\",\"$SIZE\",\"$((SIZE - DATA))\",\"0\"]" counts READ
wait_for_text 15 "nbdcopy --no-extents: no BLOCK_STATUS" '["0","0","0","0"]' counts BLOCK_STATUS

# To local files: sparse, and equal.
reset
nbdcopy "$(uri big)" "$WORK/copy.img" || fail "nbdcopy to a file failed"
cmp "$STATE/big.img" "$WORK/copy.img" || fail "nbdcopy's copy differs from the source"
wait_for_text 15 "nbdcopy to a file: READ [requests, bytes, hole bytes, errors]" "[\"64\",\"$DATA\",\"0\",\"0\"]" counts READ
qemu-img convert -f raw -O raw "$(uri big)" "$WORK/convert.img" || fail "qemu-img convert failed"
qemu-img compare -f raw -F raw "$(uri big)" "$WORK/convert.img" > "$WORK/compare.out" \
  || fail "qemu-img compare: $(cat "$WORK/compare.out")"
log "ok: qemu-img compare: $(cat "$WORK/compare.out")"
cmp "$STATE/big.img" "$WORK/convert.img" || fail "qemu-img convert's copy differs from the source"
for f in copy convert; do
  alloc=$(allocated "$WORK/$f.img")
  # Within one extent (1 MiB) of the source's allocation, either way.
  [ $alloc -le $((src_alloc + (1 << 20))) ] && [ $alloc -ge $((src_alloc - (1 << 20))) ] \
    || fail "$f.img: $alloc bytes allocated, the source $src_alloc"
  log "ok: $f.img is sparse: $alloc bytes allocated of $SIZE (the source: $src_alloc)"
done
log "PASS"
