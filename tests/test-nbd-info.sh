#!/usr/bin/env bash
# nbdinfo sees each kind of volume with the size, block sizes and transmission flags meant for it:
# read-write volumes offer TRIM, WRITE_ZEROES, FAST_ZERO, FLUSH, FUA, CACHE and multi-conn; a read-only
# volume is read-only and offers no TRIM or zeroing. NBD_OPT_LIST lists every volume.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdinfo jq buf
nbd_setup

truncate -s 10M "$STATE/disk.img"
create_volume f1 "\"file\":{\"path\":\"$STATE/disk.img\"}"
create_volume ro "\"file\":{\"path\":\"$STATE/disk.img\"},\"readOnly\":true"
create_volume m1 '"memory":{"sizeBytes":"1073741824"}'
create_volume z1 '"zero":{"sizeBytes":"1000000000"}'
expect_eq "ro volume says readOnly" true "$(jq -r .volume.readOnly "$WORK/create-ro.json")"

# field VOLUME NAME: one field of nbdinfo's JSON for the volume (--no-content: it reads nothing).
field() {
  [ -f "$WORK/info-$1.json" ] || nbdinfo --json --no-content "$(uri "$1")" > "$WORK/info-$1.json"
  jq -r --arg k "$2" '.exports[0][$k]' "$WORK/info-$1.json"
}

for v in f1 m1 z1; do
  for flag in can_trim can_zero can_fast_zero can_flush can_fua can_cache can_multi_conn; do
    expect_eq "$v $flag" true "$(field $v $flag)"
  done
  expect_eq "$v is_read_only" false "$(field $v is_read_only)"
  expect_eq "$v block_size_minimum" 1 "$(field $v block_size_minimum)"
  expect_eq "$v block_size_preferred" 4096 "$(field $v block_size_preferred)"
  expect_eq "$v block_size_maximum" 33554432 "$(field $v block_size_maximum)"
done
expect_eq "f1 export-size" 10485760 "$(field f1 export-size)"
expect_eq "m1 export-size" 1073741824 "$(field m1 export-size)"
expect_eq "z1 export-size" 1000000000 "$(field z1 export-size)"

expect_eq "ro is_read_only" true "$(field ro is_read_only)"
for flag in can_trim can_zero can_fast_zero; do expect_eq "ro $flag" false "$(field ro $flag)"; done
for flag in can_flush can_fua can_cache can_multi_conn; do expect_eq "ro $flag" true "$(field ro $flag)"; done

expect_eq "NBD_OPT_LIST" "f1 m1 ro z1" "$(nbdinfo --list --json "nbd+unix://?socket=$NBD_SOCK" | jq -r '[.exports[]."export-name"] | sort | join(" ")')"
# An unknown export is refused (NBD_REP_ERR_UNKNOWN), and nothing was read or written by any of this.
if nbdinfo --no-content "$(uri nosuch)" 2> "$WORK/unknown.err"; then fail "nbdinfo accepted an unknown export"; fi
grep -q "nosuch" "$WORK/unknown.err" || fail "unknown export: unexpected message: $(cat "$WORK/unknown.err")"
expect_stats f1 0 0 0 0
# No NBD over TCP unless dmp.agent.nbd-port is set: the agent listens on its HTTP port only.
expect_eq "agent TCP listening ports" "$AGENT_PORT" "$(ss -Hltnp | awk -v p="pid=$AGENT_PID," 'index($0, p) {sub(/.*:/, "", $4); print $4}')"
log "PASS"
