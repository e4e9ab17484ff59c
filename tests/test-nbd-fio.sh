#!/usr/bin/env bash
# fio's nbd engine (libnbd), 4 jobs each on its own connection, random 4 KiB writes with crc32c
# verification headers then a verify pass reading every block back: zero mismatches. Small and short on
# purpose; bench/ measures speed. Stats: fio's own counts of completed I/Os equal dmp's.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires fio jq buf
fio --enghelp=nbd >/dev/null 2>&1 || skip "fio has no nbd engine"
nbd_setup

truncate -s 64M "$STATE/disk.img"
create_volume f1 "\"file\":{\"path\":\"$STATE/disk.img\"}"
# Each job owns a 16 MiB slice (offset_increment), so verification never races another job's writes.
# fio runs in $WORK: its verify state files (local-verify-*.state) land there, not in the checkout.
(cd "$WORK" && fio --name=verify --ioengine=nbd --uri="$(uri f1)" --rw=randwrite --bs=4k --size=16M --numjobs=4 \
    --offset_increment=16M --iodepth=8 --verify=crc32c --verify_fatal=1 --do_verify=1 \
    --output-format=json --output="$WORK/fio.json") || { cat "$WORK/fio.json"; fail "fio reported an error"; }
errors=$(jq '[.jobs[].error] | add' "$WORK/fio.json")
expect_eq "fio job errors (a verify mismatch is an error)" 0 "$errors"
w_ios=$(jq '[.jobs[].write.total_ios] | add' "$WORK/fio.json")
r_ios=$(jq '[.jobs[].read.total_ios] | add' "$WORK/fio.json")
expect_eq "fio wrote every block once" 16384 "$w_ios"
expect_eq "fio verified every block" 16384 "$r_ios"
expect_stats f1 "$r_ios" $((r_ios * 4096)) "$w_ios" $((w_ios * 4096))
log "PASS"
