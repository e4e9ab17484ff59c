#!/usr/bin/env bash
# The walking skeleton end to end (issue 2): a packaged controller and agent; a `file` and a `zero`
# volume created through the controller's gRPC API (buf curl, reflection); nbdsh and qemu-io write
# known patterns at known offsets and read them back; the agent's /stat/volumes, the controller's
# /stat/volumes and QueryStats (VOLUME, HOST, FLEET) show exactly the requests that were sent;
# resets (agent POST, ResetStats); ListHosts / ListVolumes shapes; DeleteVolume.
. "$(dirname "$0")/lib.sh"
requires buf jq curl nbdsh nbdinfo qemu-io

start_controller
start_agent node-a
SOCK=$NBD_SOCK
DISK=$WORK/disk.img
truncate -s 16M "$DISK"
uri() { echo "nbd+unix:///$1?socket=$SOCK"; }
agent_stat() { curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes${1:-}"; }
controller_stat() { curl -sf "http://$CONTROLLER/stat/volumes"; }
# The old view of each row (rows also carry the detailed counters, in-flight, generation and staleness).
query() { rpc QueryStats "$1" | jq -cS '.rows[] | {host, volume, read, write, total}'; }
zero_row() { stats_row "$1" "$2" 0 0 0 0 0 0 0 0 0; }

log "hosts and volumes before any volume exists"
expect_eq "ListHosts" '{"hosts":[{"id":"node-a","online":true,"volumeCount":0}]}' "$(rpc ListHosts '{}' | jq -c '.hosts |= map({id, online, volumeCount})')"
expect_eq "ListVolumes" '{"volumes":[]}' "$(rpc ListVolumes '{}' | jq -c .)"

log "CreateVolume: dmp1 on a 1 GB zero backend, dmp2 on a 16 MiB file"
DMP1='{"host":"node-a","name":"dmp1","backend":{"zero":{"sizeBytes":"1000000000"}},"sizeBytes":"1000000000","nbdUri":"'$(uri dmp1)'","readOnly":false,"device":"","blockSize":0,"attachment":"","attachmentState":"ATTACHMENT_STATE_NONE"}'
DMP2='{"host":"node-a","name":"dmp2","backend":{"file":{"path":"'$DISK'"}},"sizeBytes":"16777216","nbdUri":"'$(uri dmp2)'","readOnly":false,"device":"","blockSize":0,"attachment":"","attachmentState":"ATTACHMENT_STATE_NONE"}'
expect_eq "CreateVolume dmp1" "{\"volume\":$DMP1}" \
  "$(rpc CreateVolume '{"host":"node-a","name":"dmp1","zero":{"sizeBytes":"1000000000"}}' | jq -c .)"
expect_eq "CreateVolume dmp2" "{\"volume\":$DMP2}" \
  "$(rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp2\",\"file\":{\"path\":\"$DISK\"}}" | jq -c .)"
expect_eq "ListVolumes {}" "{\"volumes\":[$DMP1,$DMP2]}" "$(rpc ListVolumes '{}' | jq -c .)"
expect_eq "ListVolumes host" "{\"volumes\":[$DMP1,$DMP2]}" "$(rpc ListVolumes '{"host":"node-a"}' | jq -c .)"
expect_eq "ListHosts" '{"hosts":[{"id":"node-a","online":true,"volumeCount":2}]}' "$(rpc ListHosts '{}' | jq -c '.hosts |= map({id, online, volumeCount})')"

log "nbdinfo sees both exports (it probes the content with a read, so the counters are reset after)"
expect_eq "nbdinfo --list" "dmp1 dmp2" "$(nbdinfo --list --json "$(uri dmp1)" | jq -r '[.exports[]."export-name"] | join(" ")')"
expect_eq "nbdinfo dmp1 size" 1000000000 "$(nbdinfo --size "$(uri dmp1)")"
expect_eq "nbdinfo dmp2 size" 16777216 "$(nbdinfo --size "$(uri dmp2)")"
expect_eq "ResetStats FLEET" '{"volumesReset":2}' "$(rpc ResetStats '{"scope":"FLEET"}' | jq -c '{volumesReset}')"
# The agent sends the reset's delta before its answer, so the controller is at zero already.
expect_text "controller /stat/volumes after ResetStats" "$(old_block node-a/dmp1 0 0 0 0 0 0; old_block node-a/dmp2 0 0 0 0 0 0)" "$(controller_stat)"
expect_text "agent /stat/volumes after ResetStats" "$(old_block dmp1 0 0 0 0 0 0; old_block dmp2 0 0 0 0 0 0)" "$(agent_stat)"

# WatchStats (server streaming) from here on: its first message is the zeroes, a later one the I/O below.
buf curl --protocol grpc --http2-prior-knowledge --emit-defaults -d '{"scope":"FLEET"}' \
  "http://$CONTROLLER/dmp.v1.Controller/WatchStats" > "$WORK/watch.json" 2>"$WORK/watch.err" &
_PIDS+=($!); WATCH_PID=$!
watched() { jq -cS '.rows[] | {host, volume, read, write, total}' "$WORK/watch.json" 2>/dev/null; }
wait_until 10 eval '[ -n "$(watched)" ]'
expect_text "WatchStats first message" "$(zero_row "" "")" "$(watched)"

log "nbdsh on dmp2 (file): 3 writes of 4096 bytes, 2 reads of 8192 bytes, bytes compared"
DISK=$DISK nbdsh -u "$(uri dmp2)" -c '
import os
size = 16 * 1024 * 1024
a = bytes(range(256)) * 16
b = b"\x5a" * 4096
c = bytes((i * 7 + 3) % 251 for i in range(4096))
h.pwrite(a, 0)
h.pwrite(b, 1024 * 1024)
h.pwrite(c, size - 4096)
assert h.pread(8192, 0) == a + bytes(4096), "read of 8192 at 0 differs"
assert h.pread(8192, size - 8192) == bytes(4096) + c, "read of 8192 at 16 MiB - 8192 differs"
fd = os.open(os.environ["DISK"], os.O_RDONLY)
for offset, data in ((0, a), (1024 * 1024, b), (size - 4096, c)):
    assert os.pread(fd, 4096, offset) == data, "backing file differs at %d" % offset
os.close(fd)
'
log "ok: nbdsh read back what it wrote, and the backing file holds it"

DMP2_BLOCK=$(cat <<'EOF'
read:
  reqs: 2
  avg size: 8192
write:
  reqs: 3
  avg size: 4096
total:
  reqs: 5
  avg size: 5734
EOF
)
expect_text "agent /stat/volumes" "$(old_block dmp1 0 0 0 0 0 0; echo "dmp2:"; echo "$DMP2_BLOCK")" "$(agent_stat)"
expect_text "agent /stat/volumes?volume=dmp2" "$(echo "dmp2:"; echo "$DMP2_BLOCK")" "$(agent_stat '?volume=dmp2')"
expect_text "agent /stat/volumes?volume=dmp1" "$(old_block dmp1 0 0 0 0 0 0)" "$(agent_stat '?volume=dmp1')"
wait_for_text 10 "controller /stat/volumes" "$(old_block node-a/dmp1 0 0 0 0 0 0; echo "node-a/dmp2:"; echo "$DMP2_BLOCK")" controller_stat
expect_text "QueryStats VOLUME node-a/dmp2" "$(stats_row node-a dmp2 2 16384 8192 3 12288 4096 5 28672 5734)" \
  "$(query '{"scope":"VOLUME","host":"node-a","volume":"dmp2"}')"
expect_text "QueryStats VOLUME (all)" "$(zero_row node-a dmp1; stats_row node-a dmp2 2 16384 8192 3 12288 4096 5 28672 5734)" \
  "$(query '{"scope":"VOLUME"}')"
expect_text "QueryStats HOST node-a" "$(stats_row node-a "" 2 16384 8192 3 12288 4096 5 28672 5734)" \
  "$(query '{"scope":"HOST","host":"node-a"}')"
expect_text "QueryStats FLEET" "$(stats_row "" "" 2 16384 8192 3 12288 4096 5 28672 5734)" "$(query '{"scope":"FLEET"}')"

# First and latest message (a delta tick may fall amid the I/O and show a part of it in between).
watched_ends() { watched | sed -n '1p;$p'; }
wait_for_text 10 "WatchStats first and latest messages" "$(zero_row "" ""; stats_row "" "" 2 16384 8192 3 12288 4096 5 28672 5734)" watched_ends
kill "$WATCH_PID"

log "POST /stat/volumes on the agent resets its counters; the controller follows"
expect_eq "agent POST /stat/volumes" "reset 2 volumes" "$(curl -sf -X POST -d '' "http://127.0.0.1:$AGENT_PORT/stat/volumes")"
expect_text "agent /stat/volumes after POST" "$(old_block dmp1 0 0 0 0 0 0; old_block dmp2 0 0 0 0 0 0)" "$(agent_stat)"
wait_for_text 10 "QueryStats FLEET after the agent's reset" "$(zero_row "" "")" query '{"scope":"FLEET"}'

log "qemu-io on dmp1 (zero: writes dropped, reads zeroes) and on dmp2 (file)"
qemu_io() {
  local out
  out=$(qemu-io -f raw "$@" 2>&1) || fail "qemu-io $*: $out"
  case $out in *"verification failed"*) fail "qemu-io $*: $out" ;; esac
}
qemu_io -c 'write -P 0xab 0 4k' -c 'write -P 0xab 1M 64k' -c 'read -P 0 0 4k' "$(uri dmp1)"
qemu_io -c 'write -P 0xcd 4M 4k' -c 'read -P 0xcd 4M 4k' "$(uri dmp2)"
log "ok: qemu-io read zeroes back from dmp1 and 0xcd from dmp2"
# dmp1: reads 1 x 4096; writes 4096 + 65536 = 69632 in 2 (avg 34816); total 73728 in 3 (avg 24576).
# dmp2: 1 read and 1 write of 4096. Host and fleet: reads 8192 in 2, writes 73728 in 3, total 81920 in 5.
expect_text "agent /stat/volumes after qemu-io" "$(old_block dmp1 1 4096 2 34816 3 24576; old_block dmp2 1 4096 1 4096 2 4096)" "$(agent_stat)"
wait_for_text 10 "QueryStats VOLUME after qemu-io" \
  "$(stats_row node-a dmp1 1 4096 4096 2 69632 34816 3 73728 24576; stats_row node-a dmp2 1 4096 4096 1 4096 4096 2 8192 4096)" \
  query '{"scope":"VOLUME","host":"node-a"}'
expect_text "QueryStats HOST after qemu-io" "$(stats_row node-a "" 2 8192 4096 3 73728 24576 5 81920 16384)" \
  "$(query '{"scope":"HOST"}')"
expect_text "QueryStats FLEET after qemu-io" "$(stats_row "" "" 2 8192 4096 3 73728 24576 5 81920 16384)" \
  "$(query '{"scope":"FLEET"}')"
expect_text "controller /stat/volumes after qemu-io" \
  "$(old_block node-a/dmp1 1 4096 2 34816 3 24576; old_block node-a/dmp2 1 4096 1 4096 2 4096)" "$(controller_stat)"

log "ResetStats VOLUME resets that volume only"
expect_eq "ResetStats VOLUME dmp1" '{"volumesReset":1}' "$(rpc ResetStats '{"scope":"VOLUME","host":"node-a","volume":"dmp1"}' | jq -c '{volumesReset}')"
expect_text "QueryStats VOLUME after ResetStats dmp1" \
  "$(zero_row node-a dmp1; stats_row node-a dmp2 1 4096 4096 1 4096 4096 2 8192 4096)" "$(query '{"scope":"VOLUME"}')"
expect_text "agent /stat/volumes after ResetStats dmp1" "$(old_block dmp1 0 0 0 0 0 0; old_block dmp2 1 4096 1 4096 2 4096)" "$(agent_stat)"
expect_eq "ResetStats HOST" '{"volumesReset":2}' "$(rpc ResetStats '{"scope":"HOST","host":"node-a"}' | jq -c '{volumesReset}')"
expect_text "QueryStats FLEET after ResetStats HOST" "$(zero_row "" "")" "$(query '{"scope":"FLEET"}')"

log "DeleteVolume dmp1"
expect_eq "DeleteVolume dmp1" '{}' "$(rpc DeleteVolume '{"host":"node-a","name":"dmp1"}' | jq -c .)"
expect_eq "ListVolumes after delete" "{\"volumes\":[$DMP2]}" "$(rpc ListVolumes '{}' | jq -c .)"
expect_eq "ListHosts after delete" '{"hosts":[{"id":"node-a","online":true,"volumeCount":1}]}' "$(rpc ListHosts '{}' | jq -c '.hosts |= map({id, online, volumeCount})')"
expect_text "agent /stat/volumes after delete" "$(old_block dmp2 0 0 0 0 0 0)" "$(agent_stat)"
expect_text "controller /stat/volumes after delete" "$(old_block node-a/dmp2 0 0 0 0 0 0)" "$(controller_stat)"
expect_eq "nbdinfo --list after delete" "dmp2" "$(nbdinfo --list --json "$(uri dmp2)" | jq -r '[.exports[]."export-name"] | join(" ")')"
if nbdinfo --size "$(uri dmp1)" >/dev/null 2>&1; then fail "dmp1 is still served after DeleteVolume"; fi
expect_eq "DeleteVolume dmp1 again" "NOT_FOUND volume 'dmp1' does not exist" \
  "$(rpc_error DeleteVolume '{"host":"node-a","name":"dmp1"}')"
log "PASS"
