#!/usr/bin/env bash
# nbdcopy moves 256 MiB of random data into a file volume and back out, and the same through an nbd
# volume proxying to 'nbdkit memory': checksums equal end to end, the bytes really sit in the backing
# file / the upstream server, and the stats equal exactly what nbdcopy moved (1 MiB requests:
# 256 writes of 1048576 bytes in, 256 reads out). bench/ copies 1 GiB; 256 MiB keeps CI fast.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdcopy nbdkit jq buf
nbd_setup
MiB=1048576 N=256

head -c $((N * MiB)) /dev/urandom > "$WORK/random.img"
want=$(sha256sum < "$WORK/random.img")

# copy_through VOLUME: random.img -> volume -> out-VOLUME.img, checksum and exact stats.
copy_through() {
  nbdcopy --request-size=$MiB "$WORK/random.img" "$(uri "$1")"
  nbdcopy --request-size=$MiB "$(uri "$1")" "$WORK/out-$1.img"
  expect_eq "$1: sha256 of what came back" "$want" "$(sha256sum < "$WORK/out-$1.img")"
  expect_stats "$1" $N $((N * MiB)) $N $((N * MiB))
  rm -f "$WORK/out-$1.img"
}

truncate -s $((N * MiB)) "$STATE/disk.img"
create_volume f1 "\"file\":{\"path\":\"$STATE/disk.img\"}"
copy_through f1
expect_eq "backing file holds the data" "$want" "$(sha256sum < "$STATE/disk.img")"

# The upstream listens inside the agent's allowed paths (its state dir), as an operator would arrange.
nbdkit -f --exit-with-parent --unix "$STATE/up.sock" memory $((N * MiB)) > "$WORK/nbdkit.log" 2>&1 &
_PIDS+=($!)
wait_until 10 test -S "$STATE/up.sock"
create_volume p1 "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/up.sock\"}"
expect_eq "p1 size from upstream" $((N * MiB)) "$(jq -r .volume.sizeBytes "$WORK/create-p1.json")"
copy_through p1
# Straight from nbdkit, bypassing dmp: the upstream really holds the bytes.
nbdcopy "nbd+unix:///?socket=$STATE/up.sock" "$WORK/direct.img"
expect_eq "upstream holds the data" "$want" "$(sha256sum < "$WORK/direct.img")"
log "PASS"
