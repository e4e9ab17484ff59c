#!/usr/bin/env bash
# Kernel attach (issue 4, docs/kernel.md): volumes created with "kernel":true become /dev/nbdN served
# by the agent's own NBD loop. Needs a kernel with the nbd driver and root: on such a host it runs
# here; anywhere else it boots tests/vm/run.sh ONCE (Debian's stock kernel under qemu) and runs itself
# inside, as root, with the repository visible at the same path.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

if [ "${DMP_IN_VM:-0}" != 1 ] && ! { [ "$(id -u)" = 0 ] && modprobe nbd 2>/dev/null && [ -e /sys/block/nbd0 ]; }; then
  missing=""
  for c in qemu-system-x86_64 busybox depmod mkfs.ext4 fio; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
  if [ -n "$missing" ]; then
    [ "${DMP_REQUIRE_ALL:-0}" = 1 ] && { echo "FAIL test-kernel: would skip, but DMP_REQUIRE_ALL=1: needs$missing (see .ci/run)" >&2; exit 1; }
    echo "SKIP test-kernel: no nbd in this kernel and no VM runner: needs$missing (see .ci/run)"; exit 77
  fi
  echo "[test-kernel] this kernel has no nbd driver (or we are not root): running inside tests/vm/run.sh"
  cd "$ROOT"
  exec env DMP_IN_VM=1 VM_RW_DIRS="$ROOT" VM_TIMEOUT="${VM_TIMEOUT:-1800}" \
    VM_PASS_ENV="PATH DMP_IN_VM DMP_REQUIRE_ALL JAVA_HOME" "$ROOT/tests/vm/run.sh" "bash tests/vm/test-kernel.sh"
fi

. "$ROOT/tests/lib.sh"
requires blockdev dd mkfs.ext4 fsck.ext4 debugfs fio buf jq curl sha256sum cmp
if [ "${DMP_IN_VM:-0}" = 1 ]; then
  # Software emulation: C1 only and one compiler thread start Java several times faster.
  export DMP_START_TIMEOUT=${DMP_START_TIMEOUT:-300}
  export JAVA_TOOL_OPTIONS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1 --enable-native-access=ALL-UNNAMED"
fi
MNT=$WORK/mnt; mkdir -p "$MNT"
trap 'rc=$?; mountpoint -q "$MNT" && umount "$MNT"; (exit $rc); _cleanup' EXIT

agent_stats() { curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=$1"; }
field() { rpc ListVolumes '{"host":"node-a"}' | jq -r --arg n "$1" ".volumes[] | select(.name==\$n) | .$2"; }
running() { [ -e "/sys/block/${1#/dev/}/pid" ]; }
not_running() { ! running "$1"; }

start_controller
start_agent node-a

log "attach dmp1 (zero, 10^9 bytes) and dmp2 (64 MiB file) at the same time"
DISK=$WORK/disk.img
truncate -s 64M "$DISK"
rpc CreateVolume '{"host":"node-a","name":"dmp1","kernel":true,"zero":{"sizeBytes":"1000000000"}}' >"$WORK/c1.json" &
c1=$!
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp2\",\"kernel\":true,\"file\":{\"path\":\"$DISK\"}}" >"$WORK/c2.json" &
c2=$!
wait $c1 || fail "CreateVolume dmp1: $(cat "$WORK/c1.json")"
wait $c2 || fail "CreateVolume dmp2: $(cat "$WORK/c2.json")"
DEV1=$(field dmp1 device); DEV2=$(field dmp2 device)
[ -n "$DEV1" ] && [ -n "$DEV2" ] || fail "no device in ListVolumes: $(rpc ListVolumes '{}')"
[ "$DEV1" != "$DEV2" ] || fail "two volumes got the same device $DEV1"
expect_eq "dmp1 attachment" attached "$(field dmp1 attachment)"
expect_eq "dmp1 block size" 512 "$(field dmp1 blockSize)"
expect_eq "dmp2 block size" 4096 "$(field dmp2 blockSize)"
expect_eq "blockdev --getsize64 $DEV1" 1000000000 "$(blockdev --getsize64 "$DEV1")"
expect_eq "blockdev --getsize64 $DEV2" 67108864 "$(blockdev --getsize64 "$DEV2")"

log "the old run.sh sequence on $DEV1: reset after the attach-time probing, then one dd out and one in"
curl -sf -X POST "http://127.0.0.1:$AGENT_PORT/stat/volumes" >/dev/null
dd if=/dev/urandom of="$WORK/block" bs=4096 count=1 status=none
dd if="$WORK/block" of="$DEV1" bs=4096 count=1 oflag=direct status=none
dd if="$DEV1" of=/dev/null bs=4096 count=1 iflag=direct status=none
expected=$'dmp1:\nread:\n  reqs: 1\n  avg size: 4096\nwrite:\n  reqs: 1\n  avg size: 4096\ntotal:\n  reqs: 2\n  avg size: 4096'
got=$(agent_stats dmp1)
[ "$got" = "$expected" ] || fail "agent /stat/volumes after one 4 KiB write and read: got
$got"
log "ok: exactly 1 write and 1 read of 4096 bytes"

log "ext4 on $DEV2: mkfs, mount, write, sync, umount, fsck -n"
mkfs.ext4 -q -F "$DEV2"
mount "$DEV2" "$MNT"
for i in 1 2 3; do head -c $((i * 300000)) /dev/urandom >"$MNT/f$i"; done
(cd "$MNT" && sha256sum f1 f2 f3) >"$WORK/sums"
sync
log "delete while mounted is refused and changes nothing"
if rpc DeleteVolume '{"host":"node-a","name":"dmp2"}' 2>"$WORK/busy.err"; then fail "DeleteVolume of a mounted volume succeeded"; fi
grep -q 'is in use on' "$WORK/busy.err" || fail "busy delete: unexpected error $(cat "$WORK/busy.err")"
expect_eq "dmp2 still attached" attached "$(field dmp2 attachment)"
umount "$MNT"
fsck.ext4 -n -f "$DEV2" >"$WORK/fsck.out" 2>&1 || fail "fsck -n found problems: $(cat "$WORK/fsck.out")"
log "ok: fsck -n clean"
for i in 1 2 3; do
  want=$(awk -v f="f$i" '$2==f {print $1}' "$WORK/sums")
  have=$(debugfs -R "cat /f$i" "$DISK" 2>/dev/null | sha256sum | cut -d' ' -f1)
  expect_eq "f$i read from the backing file" "$want" "$have"
done
cmp "$DEV2" "$DISK" || fail "$DEV2 and its backing file differ"
log "ok: the device and the backing file hold the same bytes"

log "fio verify=crc32c on $DEV2"
fio --name=verify --filename="$DEV2" --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k \
  --size=8M --verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 --output-format=json >"$WORK/fio.json" ||
  fail "fio failed: $(tail -c 2000 "$WORK/fio.json")"
expect_eq "fio errors" 0 "$(jq '.jobs[0].error' "$WORK/fio.json")"
expect_eq "fio bytes verified (read back)" 8388608 "$(jq '.jobs[0].read.io_bytes' "$WORK/fio.json")"

log "delete dmp1 while idle: the device is released"
rpc DeleteVolume '{"host":"node-a","name":"dmp1"}' >/dev/null
wait_until 10 not_running "$DEV1"
expect_eq "size of $DEV1 after delete" 0 "$(blockdev --getsize64 "$DEV1")"

log "SIGTERM: the agent detaches every device on its way out"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true
not_running "$DEV2" || fail "$DEV2 still runs after the agent stopped (SIGTERM)"
grep -q "dmp2 detached from $DEV2" "$WORK/agent-node-a.log" || fail "agent log does not show dmp2 detached"
log "ok: no device left after SIGTERM"

log "SIGKILL: devices left behind are found and cleared by the next start"
mv "$WORK/agent-node-a.log" "$WORK/agent-node-a.1.log"
start_agent node-a
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp2\",\"kernel\":true,\"file\":{\"path\":\"$DISK\"}}" >/dev/null
DEV2=$(field dmp2 device)
running "$DEV2" || fail "$DEV2 not running after CreateVolume"
# A program that keeps the device open keeps its configuration alive after the agent dies.
sleep 600 <"$DEV2" & HOLDER=$!; _PIDS+=("$HOLDER")
kill -KILL "$AGENT_PID"; wait "$AGENT_PID" || true
log "after SIGKILL: $DEV2 pid file: $(cat "/sys/block/${DEV2#/dev/}/pid" 2>&1 || true)"
mv "$WORK/agent-node-a.log" "$WORK/agent-node-a.2.log"
start_agent node-a
grep -E "$DEV2 .*(cleared|already released)" "$WORK/agent-node-a.log" ||
  fail "the restarted agent did not report $DEV2 from the killed run"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
wait_until 10 not_running "$DEV2"
expect_eq "size of $DEV2 after the restart" 0 "$(blockdev --getsize64 "$DEV2")"
log "ok: nothing left bound to the killed agent's socket"
