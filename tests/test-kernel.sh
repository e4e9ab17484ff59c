#!/usr/bin/env bash
# Kernel attach (issue 4, docs/kernel.md): volumes created with "kernel":true become /dev/nbdN served
# by the agent's own NBD loop; a restarted agent attaches its checkpoint's kernel volumes again and
# clears the devices a killed run left behind. Needs a kernel with the nbd driver and root: on such a
# host it runs here; anywhere else it boots tests/vm/run.sh ONCE (Debian's stock kernel under qemu)
# and runs itself inside, as root, with the repository visible at the same path.
#
# One standalone agent (no controller: one JVM start less) does everything up to a SIGKILL; the second
# start proves the clean-up and the re-attach, then stops with SIGTERM. Inside the VM the agent runs
# with C1 only and from an AOT cache (JDK 25+; dynamic CDS on 21-24) that a training run of the same
# jar makes on the host first (agent/target/vm-agent-*, remade when the jar changes): under software
# emulation Java's start is most of the run. Every step prints how long it took.
#
# timeout: 1200
# (test.sh's limit for this script: about 5 minutes on an idle 2-core machine under TCG, 11 at a load
# average of 16; VM_TIMEOUT, 1080 s by default, stops the VM first with a clear message.)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

T0=$(date +%s%N)
_STEP= _STEP_T=$T0 _TIMES=()
# step WHAT: logs WHAT and closes the previous step's timing; timings prints them all.
step() {
  local now; now=$(date +%s%N)
  [ -n "$_STEP" ] && _TIMES+=("$(printf '%6.1f s  %s' "$(( (now - _STEP_T) / 1000000 ))e-3" "$_STEP")")
  _STEP=$1 _STEP_T=$now
  [ "$1" = end ] || log "$1"
}
timings() {
  step end
  log "timings (total $(printf '%.1f' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3") s):"
  printf '  %s\n' "${_TIMES[@]}"
}

# The npm package's buf is a node script that starts the real binary: node costs seconds under emulation.
native_buf() {
  local b c; b=$(readlink -f "$(command -v buf)")
  if [ "$(head -c2 "$b")" = '#!' ]; then
    for c in "$(dirname "$b")"/../node_modules/@bufbuild/buf-linux-*/bin/buf; do [ -x "$c" ] && { readlink -f "$c"; return; }; done
  fi
  echo "$b"
}

# vm_jvm: sets VM_JVM_OPTS, the agent's JVM options inside the VM; makes the AOT cache if missing or stale.
vm_jvm() {
  local jvm=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED) out use ext key cache
  if [ "$(_dmp_java_major "$JAVA_HOME")" -ge 25 ]; then out=-XX:AOTCacheOutput use=-XX:AOTCache ext=aot
  else out=-XX:ArchiveClassesAtExit use=-XX:SharedArchiveFile ext=jsa; fi
  key=$(printf '%s %s' "$JAVA_HOME" "${jvm[*]}" | sha256sum | cut -c1-12)
  cache=$ROOT/agent/target/vm-agent-$key.$ext
  if [ ! -s "$cache" ] || [ -n "$(find "$ROOT/agent/target/quarkus-app" -newer "$cache" -print -quit)" ]; then
    step "training run on the host for $cache"
    rm -f "$ROOT"/agent/target/vm-agent-*
    start_agent train "${jvm[@]}" "$out=$cache.tmp"
    # What the test does, minus the devices: a file volume loads jnr-ffi (the kernel code uses it too).
    truncate -s 1M "$WORK/train.img"
    agent_rpc CreateVolume "{\"name\":\"train\",\"file\":{\"path\":\"$WORK/train.img\"}}" >/dev/null
    agent_rpc ListVolumes '{}' >/dev/null
    curl -sf -X POST "http://127.0.0.1:$AGENT_PORT/stat/volumes" >/dev/null
    curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes" >/dev/null
    agent_rpc DeleteVolume '{"name":"train"}' >/dev/null
    kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true
    [ -s "$cache.tmp" ] || fail "the training run made no $cache.tmp (see agent-train.log)"
    mv "$cache.tmp" "$cache"
  fi
  VM_JVM_OPTS="${jvm[*]} $use=$cache"
}

if [ "${DMP_IN_VM:-0}" != 1 ] && ! { [ "$(id -u)" = 0 ] && modprobe nbd 2>/dev/null && [ -e /sys/block/nbd0 ]; }; then
  . "$ROOT/tests/lib.sh"
  requires qemu-system-x86_64 busybox depmod xz mkfs.ext4 fio buf jq curl
  need_jars
  vm_jvm
  step "this kernel has no nbd driver (or we are not root): running inside tests/vm/run.sh"
  export DMP_IN_VM=1 DMP_JDK_CHECKED=$JAVA_HOME DMP_BUF=$(native_buf) DMP_AGENT_JVM_OPTS=$VM_JVM_OPTS
  VM_RW_DIRS=$ROOT VM_TIMEOUT=${VM_TIMEOUT:-1080} \
    VM_PASS_ENV="PATH DMP_IN_VM DMP_REQUIRE_ALL JAVA_HOME DMP_JDK_CHECKED DMP_BUF DMP_AGENT_JVM_OPTS" \
    "$ROOT/tests/vm/run.sh" "bash tests/test-kernel.sh" &
  VM_PID=$!; _PIDS+=("$VM_PID")
  rc=0; wait "$VM_PID" || rc=$?
  timings
  exit $rc
fi

. "$ROOT/tests/lib.sh"
requires blockdev dd mkfs.ext4 fsck.ext4 debugfs fio buf jq curl sha256sum cmp
[ -n "${DMP_BUF:-}" ] && buf() { "$DMP_BUF" "$@"; }
read -ra JVM <<<"${DMP_AGENT_JVM_OPTS:-}"
if [ "${DMP_IN_VM:-0}" = 1 ]; then
  export DMP_START_TIMEOUT=${DMP_START_TIMEOUT:-300}
  log "guest up $(cut -d' ' -f1 /proc/uptime) s after its kernel started"
fi
MNT=$WORK/mnt; mkdir -p "$MNT"
trap 'rc=$?; mountpoint -q "$MNT" && umount "$MNT"; (exit $rc); _cleanup' EXIT

VOLS=
list() { VOLS=$(agent_rpc ListVolumes '{}'); }
field() { jq -r --arg n "$1" ".volumes[] | select(.name==\$n) | .$2" <<<"$VOLS"; }
running() { [ -e "/sys/block/${1#/dev/}/pid" ]; }
not_running() { ! running "$1"; }
stat_text() { curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=$1"; }

step "agent start (standalone)"
start_agent node-a "${JVM[@]}"

step "attach dmp1 (zero, 10^9 bytes) and dmp2 (64 MiB file) at the same time"
DISK=$WORK/disk.img
truncate -s 64M "$DISK"
agent_rpc CreateVolume '{"name":"dmp1","kernel":true,"zero":{"sizeBytes":"1000000000"}}' >"$WORK/c1.json" 2>&1 &
c1=$!
agent_rpc CreateVolume "{\"name\":\"dmp2\",\"kernel\":true,\"file\":{\"path\":\"$DISK\"}}" >"$WORK/c2.json" 2>&1 &
c2=$!
wait $c1 || fail "CreateVolume dmp1: $(cat "$WORK/c1.json")"
wait $c2 || fail "CreateVolume dmp2: $(cat "$WORK/c2.json")"
list
DEV1=$(field dmp1 device); DEV2=$(field dmp2 device)
[ -n "$DEV1" ] && [ -n "$DEV2" ] || fail "no device in ListVolumes: $VOLS"
[ "$DEV1" != "$DEV2" ] || fail "two volumes got the same device $DEV1"
expect_eq "dmp1 attachment" attached "$(field dmp1 attachment)"
expect_eq "dmp1 block size" 512 "$(field dmp1 blockSize)"
expect_eq "dmp2 block size" 4096 "$(field dmp2 blockSize)"
expect_eq "blockdev --getsize64 $DEV1" 1000000000 "$(blockdev --getsize64 "$DEV1")"
expect_eq "blockdev --getsize64 $DEV2" 67108864 "$(blockdev --getsize64 "$DEV2")"

step "the old run.sh sequence on $DEV1: reset after the attach-time probing, one dd 4 KiB out and one in"
curl -sf -X POST "http://127.0.0.1:$AGENT_PORT/stat/volumes" >/dev/null
dd if=/dev/urandom of="$WORK/block" bs=4096 count=1 status=none
dd if="$WORK/block" of="$DEV1" bs=4096 count=1 oflag=direct status=none
dd if="$DEV1" of=/dev/null bs=4096 count=1 iflag=direct status=none
expect_text "agent /stat/volumes after one 4 KiB write and one 4 KiB read" \
  "$(old_block dmp1 1 4096 1 4096 2 4096)" "$(stat_text dmp1)"

step "ext4 on $DEV2: mkfs, mount, write, sync, refused delete, umount, fsck -n"
mkfs.ext4 -q -F "$DEV2"
mount "$DEV2" "$MNT"
for i in 1 2 3; do head -c $((i * 300000)) /dev/urandom >"$MNT/f$i"; done
(cd "$MNT" && sha256sum f1 f2 f3) >"$WORK/sums"
sync
if agent_rpc DeleteVolume '{"name":"dmp2"}' 2>"$WORK/busy.err"; then fail "DeleteVolume of a mounted volume succeeded"; fi
grep -q 'is in use on' "$WORK/busy.err" || fail "busy delete: unexpected error $(cat "$WORK/busy.err")"
log "ok: DeleteVolume of the mounted volume refused: $(jq -r .message "$WORK/busy.err")"
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

step "fio verify=crc32c on $DEV2 (4 MiB of random 4 KiB writes, libaio depth 8)"
fio --name=verify --filename="$DEV2" --direct=1 --ioengine=libaio --iodepth=8 --rw=randwrite --bs=4k \
  --size=4M --verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 --output-format=json >"$WORK/fio.json" ||
  fail "fio failed: $(tail -c 2000 "$WORK/fio.json")"
expect_eq "fio errors" 0 "$(jq '.jobs[0].error' "$WORK/fio.json")"
expect_eq "fio bytes written" 4194304 "$(jq '.jobs[0].write.io_bytes' "$WORK/fio.json")"
expect_eq "fio bytes verified (read back)" 4194304 "$(jq '.jobs[0].read.io_bytes' "$WORK/fio.json")"
sha256sum <"$DISK" >"$WORK/disk.sum"

step "delete dmp1 while idle: the device is released"
agent_rpc DeleteVolume '{"name":"dmp1"}' >/dev/null
wait_until 30 not_running "$DEV1"
expect_eq "size of $DEV1 after delete" 0 "$(blockdev --getsize64 "$DEV1")"

step "SIGKILL with a program holding $DEV2"
# A program that keeps the device open keeps its configuration alive after the agent dies.
sleep 3600 <"$DEV2" & HOLDER=$!; _PIDS+=("$HOLDER")
kill -KILL "$AGENT_PID"; { wait "$AGENT_PID"; } 2>/dev/null || true
running "$DEV2" || fail "$DEV2 was released at once: the SIGKILL case is not exercised"
log "after SIGKILL: $DEV2 still configured, its pid file names the dead task $(cat "/sys/block/${DEV2#/dev/}/pid")"
mv "$WORK/agent-node-a.log" "$WORK/agent-node-a.1.log"

step "agent restart: clears $DEV2, attaches dmp2 from its checkpoint again"
start_agent node-a "${JVM[@]}"
grep -qE "$DEV2 was left attached by a previous run \(volume dmp2, .*\): cleared" "$WORK/agent-node-a.log" ||
  fail "the restarted agent did not clear $DEV2 of the killed run"
log "ok: $(grep -oE "$DEV2 was left attached by a previous run.*" "$WORK/agent-node-a.log")"
list
expect_eq "volumes after the restart" dmp2 "$(jq -r '[.volumes[].name] | join(" ")' <<<"$VOLS")"
expect_eq "dmp2 attachment after the restart" attached "$(field dmp2 attachment)"
DEV3=$(field dmp2 device)
[ -n "$DEV3" ] && [ "$DEV3" != "$DEV2" ] || fail "dmp2 should be on a new device (the old one is held), got '$DEV3'"
expect_eq "blockdev --getsize64 $DEV3" 67108864 "$(blockdev --getsize64 "$DEV3")"
expect_eq "sha256 of $DEV3 (the fio data)" "$(cat "$WORK/disk.sum")" "$(sha256sum <"$DEV3")"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
wait_until 30 not_running "$DEV2"
expect_eq "size of $DEV2 once its holder closed it" 0 "$(blockdev --getsize64 "$DEV2")"

step "SIGTERM: the agent detaches every device on its way out"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true
grep -q "dmp2 detached from $DEV3" "$WORK/agent-node-a.log" || fail "agent log does not show dmp2 detached from $DEV3"
# Only the devices this test used: on a host with nbd, other programs may run devices of their own.
for d in "$DEV1" "$DEV2" "$DEV3"; do not_running "$d" || fail "$d still attached after SIGTERM"; done
log "ok: none of $DEV1 $DEV2 $DEV3 attached after SIGTERM"
timings
