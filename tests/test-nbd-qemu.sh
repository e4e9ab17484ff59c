#!/usr/bin/env bash
# qemu's NBD client against dmp: qemu-io writes and verifies patterns (with FUA, write-zeroes, discard
# and flush) on a file volume; qemu-img convert copies a raw image into it and qemu-img compare finds
# the volume identical to the source; the stats equal exactly qemu-io's reads and writes.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires qemu-io qemu-img jq buf
nbd_setup

truncate -s 32M "$STATE/disk.img"
create_volume f1 "\"file\":{\"path\":\"$STATE/disk.img\"}"
u=$(uri f1)
# -t none: no qemu cache, so every read reaches dmp and the counts are exact.
qio() { qemu-io -f raw -t none "$u" "$@"; }

qio -c 'write -P 0xa5 0 1M' -c 'write -P 0x5a -f 1M 64k' -c 'write -z 2M 1M' -c 'discard 4M 1M' -c 'flush' \
    -c 'read -P 0xa5 0 1M' -c 'read -P 0x5a 1M 64k' -c 'read -P 0 2M 1M' > "$WORK/qio.out" 2>&1 ||
  { cat "$WORK/qio.out"; fail "qemu-io patterns"; }
grep -q 'Pattern verification failed' "$WORK/qio.out" && { cat "$WORK/qio.out"; fail "pattern mismatch"; }
expect_eq "qemu-io: bytes written at 1M" "$(head -c 65536 /dev/zero | tr '\0' '\132' | sha256sum)" \
  "$(dd if="$STATE/disk.img" bs=64K skip=16 count=1 status=none | sha256sum)"
# Reads: 1M + 64k + 1M; writes: 1M + 64k (write -z and discard carry no payload).
expect_stats f1 3 $((2 * 1048576 + 65536)) 2 $((1048576 + 65536))

head -c 8M /dev/urandom > "$WORK/src.img"
truncate -s 32M "$WORK/src.img"
qemu-img convert -n -f raw -O raw "$WORK/src.img" "$u" || fail "qemu-img convert"
qemu-img compare -f raw -F raw "$WORK/src.img" "$u" || fail "qemu-img compare: the volume differs from the source"
cmp "$WORK/src.img" "$STATE/disk.img" || fail "backing file differs from the source"
log "PASS"
