#!/usr/bin/env bash
# Kernel attach (issue 4, docs/kernel.md): volumes created with "kernel":true become /dev/nbdN served
# by the agent's own NBD loop; a restarted agent attaches its checkpoint's kernel volumes again and
# clears the devices a killed run left behind. Needs a kernel with the nbd driver and root: on such a
# host it runs here; anywhere else it boots tests/vm/run.sh ONCE (Debian's stock kernel under qemu)
# and runs itself inside, as root, with the repository visible at the same path.
#
# Three passes, in that one boot, each a process of its own (own work dir, controller, agent),
# each reported with its time; one that fails fails the script and is named:
#   netlink  the interface the agent picks where the kernel has it: steps 1-7 below;
#   ioctl    the fallback, forced with DMP_AGENT_KERNEL_INTERFACE=ioctl: steps 1-5 and the SIGTERM;
#   run.sh   ./run.sh --once's kernel path (tests/test-run-once.sh with DMP_RUN_ONCE_KERNEL=1): dmp1
#            attached as /dev/nbdN, dd O_DIRECT, the exact stats, the device released at the stop.
# DMP_KERNEL_PASSES picks some (default "netlink ioctl run.sh").
#
# In the netlink pass one agent, linked to a controller, does everything up to a SIGKILL; the second
# start proves the take-back, then stops with SIGTERM. The controller's ListVolumes must show what the
# agent's does (device, block size, attachment). Inside the VM both apps run with C1 only and from an
# AOT cache (JDK 25+; dynamic CDS on 21-24) that a training run of the same jar makes on the host first
# (agent/target/vm-agent-*, controller/target/vm-controller-*, remade when the jar changes): under
# software emulation Java's start is most of the run. Every step prints how long it took.
#
# timeout: 2220
# (test.sh's limit for this script. All three passes took 410 s in the VM at a host load average of
# about 2 (netlink 183 s, ioctl 120 s, run.sh 100 s: JVM starts are most of it), 18-24 minutes at
# 5-11. VM_TIMEOUT, 2100 s by default, stops the VM first with a clear message.)
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
  cache=$ROOT/controller/target/vm-controller-$key.$ext
  if [ ! -s "$cache" ] || [ -n "$(find "$ROOT/controller/target/quarkus-app" -newer "$cache" -print -quit)" ]; then
    step "training run on the host for $cache"
    rm -f "$ROOT"/controller/target/vm-controller-*
    start_controller "${jvm[@]}" "$out=$cache.tmp"
    rpc ListHosts '{}' >/dev/null
    rpc ListVolumes '{}' >/dev/null
    rpc QueryStats '{"scope":"FLEET"}' >/dev/null
    kill -TERM "$CONTROLLER_PID"; wait "$CONTROLLER_PID" || true
    [ -s "$cache.tmp" ] || fail "the training run made no $cache.tmp (see controller.log)"
    mv "$cache.tmp" "$cache"
    unset CONTROLLER CONTROLLER_PORT
  fi
  VM_CONTROLLER_JVM_OPTS="${jvm[*]} $use=$cache"
}

# run_pass NAME CMD...: runs one pass and records its result and time in PASSES (a failure in FAILED).
PASSES=() FAILED=()
run_pass() {
  local name=$1 t0 rc=0 took; shift
  t0=$(date +%s%N)
  log "=== pass $name: $*"
  "$@" || rc=$?
  took=$(printf '%.1f' "$(( ($(date +%s%N) - t0) / 1000000 ))e-3")
  case $rc in
    0) PASSES+=("PASS $name ($took s)") ;;
    77) PASSES+=("SKIP $name ($took s)") ;;
    *) PASSES+=("FAIL $name (rc=$rc, $took s)"); FAILED+=("$name") ;;
  esac
  log "=== pass ${PASSES[-1]}"
}

# The launcher: without DMP_KERNEL_PASS this process boots the VM (no nbd here) or, in the VM or on a
# host with nbd, runs the passes, each as this script again with DMP_KERNEL_PASS set.
if [ -z "${DMP_KERNEL_PASS:-}" ]; then
  . "$ROOT/tests/lib.sh"
  if [ "${DMP_IN_VM:-0}" != 1 ] && ! { [ "$(id -u)" = 0 ] && modprobe nbd 2>/dev/null && [ -e /sys/block/nbd0 ]; }; then
    requires qemu-system-x86_64 busybox depmod xz mkfs.ext4 fio buf jq curl qemu-io
    need_jars
    vm_jvm
    step "this kernel has no nbd driver (or we are not root): running inside tests/vm/run.sh"
    export DMP_IN_VM=1 DMP_JDK_CHECKED=$JAVA_HOME DMP_BUF=$(native_buf) DMP_AGENT_JVM_OPTS=$VM_JVM_OPTS \
      DMP_CONTROLLER_JVM_OPTS=$VM_CONTROLLER_JVM_OPTS
    VM_RW_DIRS=$ROOT VM_TIMEOUT=${VM_TIMEOUT:-2100} \
      VM_PASS_ENV="PATH DMP_IN_VM DMP_REQUIRE_ALL JAVA_HOME DMP_JDK_CHECKED DMP_BUF DMP_AGENT_JVM_OPTS DMP_CONTROLLER_JVM_OPTS DMP_KERNEL_PASSES" \
      "$ROOT/tests/vm/run.sh" "bash tests/test-kernel.sh" &
    VM_PID=$!; _PIDS+=("$VM_PID")
    rc=0; wait "$VM_PID" || rc=$?
    timings
    exit $rc
  fi
  if [ "${DMP_IN_VM:-0}" = 1 ]; then
    # run.sh's SIGKILL after a slow SIGTERM would leave a netlink device attached.
    export DMP_START_TIMEOUT=${DMP_START_TIMEOUT:-300} DMP_STOP_TIMEOUT=${DMP_STOP_TIMEOUT:-120}
    log "guest up $(cut -d' ' -f1 /proc/uptime) s after its kernel started"
  fi
  # run.sh calls buf itself: the native binary, as for this script's own calls (DMP_BUF).
  if [ -n "${DMP_BUF:-}" ]; then mkdir "$WORK/bin"; ln -s "$DMP_BUF" "$WORK/bin/buf"; export PATH=$WORK/bin:$PATH; fi
  for p in ${DMP_KERNEL_PASSES:-netlink ioctl run.sh}; do
    case $p in
      netlink) run_pass netlink env -u DMP_AGENT_KERNEL_INTERFACE DMP_KERNEL_PASS=netlink bash "$ROOT/tests/test-kernel.sh" ;;
      ioctl) run_pass ioctl env DMP_AGENT_KERNEL_INTERFACE=ioctl DMP_KERNEL_PASS=ioctl bash "$ROOT/tests/test-kernel.sh" ;;
      run.sh) run_pass run.sh env DMP_RUN_ONCE_KERNEL=1 bash "$ROOT/tests/test-run-once.sh" ;;
      *) fail "DMP_KERNEL_PASSES: unknown pass '$p' (netlink, ioctl, run.sh)" ;;
    esac
  done
  log "passes:"; printf '  %s\n' "${PASSES[@]}"
  [ ${#FAILED[@]} = 0 ] || fail "the ${FAILED[*]} pass(es) failed (their logs are above)"
  case " ${PASSES[*]} " in *PASS*) ;; *) exit 77 ;; esac
  exit 0
fi

. "$ROOT/tests/lib.sh"
requires blockdev dd mkfs.ext4 fsck.ext4 debugfs fio buf jq curl sha256sum cmp
[ -n "${DMP_BUF:-}" ] && buf() { "$DMP_BUF" "$@"; }
read -ra JVM <<<"${DMP_AGENT_JVM_OPTS:-}"
read -ra CJVM <<<"${DMP_CONTROLLER_JVM_OPTS:-}"
MNT=$WORK/mnt; mkdir -p "$MNT"
# How long the kernel holds a device's I/O while no agent serves it: it must cover the agent's restart,
# 80-250 s under TCG on a loaded 2-core machine (docs/kernel.md, "Timeouts").
export DMP_AGENT_KERNEL_DEAD_CONN_TIMEOUT=${DMP_AGENT_KERNEL_DEAD_CONN_TIMEOUT:-600}
# The ioctl pass (DMP_AGENT_KERNEL_INTERFACE=ioctl) tests the fallback: steps 1-5 and the SIGTERM; no take-back.
VIA=netlink; [ "${DMP_AGENT_KERNEL_INTERFACE:-auto}" = ioctl ] && VIA=ioctl
# set +e first: under set -e the failing "(exit $rc)" of a failed run would end the trap before _cleanup.
trap 'rc=$?; set +e; mountpoint -q "$MNT" && umount "$MNT"; (exit $rc); _cleanup' EXIT

VOLS=
list() { VOLS=$(agent_rpc ListVolumes '{}'); }
field() { jq -r --arg n "$1" ".volumes[] | select(.name==\$n) | .$2" <<<"$VOLS"; }
# The controller's view of the agent's volumes: name, device, block size, attachment state and text,
# one line each.
view() { jq -r '[.volumes[] | "\(.name) \(.device) \(.blockSize) \(.attachmentState) \(.attachment)"] | sort | join("; ")'; }
controller_view() { rpc ListVolumes '{"host":"node-a"}' | view; }
same_view() { [ "$(controller_view)" = "$(view <<<"$VOLS")" ]; }
# expect_same_view WHEN: the controller's ListVolumes shows what the agent's does (the agent tells it
# at Hello and in each CommandResult).
expect_same_view() {
  local deadline=$(( $(date +%s) + 30 ))
  until same_view || [ "$(date +%s)" -ge $deadline ]; do sleep 0.2; done
  expect_eq "controller's ListVolumes $1 (name device blockSize attachmentState attachment)" "$(view <<<"$VOLS")" "$(controller_view)"
}
running() { [ -e "/sys/block/${1#/dev/}/pid" ]; }
not_running() { ! running "$1"; }
stat_text() { curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=$1"; }

# Both at once: under emulation a JVM's start keeps about one CPU busy, and the VM has two.
step "controller and agent start"
launch_controller "${CJVM[@]}"
start_agent node-a "${JVM[@]}"

step "attach dmp1 (zero, 10^9 bytes) and dmp2 (64 MiB file) at the same time, through the controller"
DISK=$WORK/disk.img
truncate -s 64M "$DISK"
rpc CreateVolume '{"host":"node-a","name":"dmp1","kernel":true,"zero":{"sizeBytes":"1000000000"}}' >"$WORK/c1.json" 2>&1 &
c1=$!
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp2\",\"kernel\":true,\"file\":{\"path\":\"$DISK\"}}" >"$WORK/c2.json" 2>&1 &
c2=$!
wait $c1 || fail "CreateVolume dmp1: $(cat "$WORK/c1.json")"
wait $c2 || fail "CreateVolume dmp2: $(cat "$WORK/c2.json")"
list
DEV1=$(field dmp1 device); DEV2=$(field dmp2 device)
[ -n "$DEV1" ] && [ -n "$DEV2" ] || fail "no device in ListVolumes: $VOLS"
[ "$DEV1" != "$DEV2" ] || fail "two volumes got the same device $DEV1"
expect_eq "dmp1 attachment" "attached via $VIA" "$(field dmp1 attachment)"
expect_eq "dmp1 attachmentState" ATTACHMENT_STATE_ATTACHED "$(field dmp1 attachmentState)"
expect_eq "dmp1 block size" 512 "$(field dmp1 blockSize)"
expect_eq "dmp2 block size" 4096 "$(field dmp2 blockSize)"
expect_eq "blockdev --getsize64 $DEV1" 1000000000 "$(blockdev --getsize64 "$DEV1")"
expect_eq "blockdev --getsize64 $DEV2" 67108864 "$(blockdev --getsize64 "$DEV2")"
expect_same_view "after the attach"

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

if [ "$VIA" = netlink ]; then
  step "SIGKILL while a writer runs on ext4 on $DEV2; restart: the agent takes $DEV2 back"
  mkfs.ext4 -q -F "$DEV2"
  mount "$DEV2" "$MNT"
  mkdir -p "$WORK/src"
  DMESG_BEFORE=$(dmesg | wc -l)
  # The writer: 64 KiB files of random bytes, each written with fsync, until told to stop; every file's
  # source stays in $WORK/src (the guest's memory), so the data can be checked afterwards.
  (
    i=0
    while [ ! -e "$WORK/stop" ]; do
      i=$((i + 1))
      head -c 65536 /dev/urandom >"$WORK/src/f$i"
      dd if="$WORK/src/f$i" of="$MNT/f$i" bs=65536 conv=fsync status=none || { echo "write f$i failed" >"$WORK/writer.err"; exit 1; }
      echo "$i" >"$WORK/written"
    done
  ) & WRITER=$!; _PIDS+=("$WRITER")
  written() { cat "$WORK/written" 2>/dev/null || echo 0; }
  at_least() { [ "$(written)" -ge "$1" ]; }
  wait_until 120 at_least 3
  kill -KILL "$AGENT_PID"; { wait "$AGENT_PID"; } 2>/dev/null || true
  KILLED_AT=$(written)
  running "$DEV2" || fail "$DEV2 was released when the agent died"
  log "agent killed after $KILLED_AT files; $DEV2 still configured, backend '$(cat "/sys/block/${DEV2#/dev/}/backend")'"
  mv "$WORK/agent-node-a.log" "$WORK/agent-node-a.1.log"
  start_agent node-a "${JVM[@]}"
  grep -qE "volume dmp2 from the checkpoint took back $DEV2 via netlink" "$WORK/agent-node-a.log" ||
    fail "the restarted agent did not take $DEV2 back"
  log "ok: $(grep -oE "volume dmp2 from the checkpoint took back $DEV2 via netlink[^:]*" "$WORK/agent-node-a.log")"
  list
  expect_eq "volumes after the restart" dmp2 "$(jq -r '[.volumes[].name] | join(" ")' <<<"$VOLS")"
  expect_eq "dmp2 device after the restart (same number)" "$DEV2" "$(field dmp2 device)"
  expect_eq "dmp2 attachment after the restart" "attached via netlink" "$(field dmp2 attachment)"
  expect_same_view "after the take-back"
  wait_until 300 at_least $((KILLED_AT + 3))
  touch "$WORK/stop"
  rc=0; wait "$WRITER" || rc=$?
  expect_eq "writer exit status (files written: $(written), $KILLED_AT before the SIGKILL)" 0 "$rc"
  dmesg | tail -n +"$((DMESG_BEFORE + 1))" >"$WORK/dmesg.txt"
  if grep -E "I/O error|EXT4-fs (error|warning)|Aborting journal|Buffer I/O" "$WORK/dmesg.txt"; then
    fail "the kernel logged I/O errors while the agent was away (see dmesg.txt)"
  fi
  log "ok: no I/O error in the kernel log; its nbd lines meanwhile (count, text):"
  grep -oE "nbd[0-9]+: .*" "$WORK/dmesg.txt" | sort | uniq -c | sed 's/^/    /' || true
  umount "$MNT"
  fsck.ext4 -n -f "$DEV2" >"$WORK/fsck.out" 2>&1 || fail "fsck -n found problems: $(cat "$WORK/fsck.out")"
  mount -o ro "$DEV2" "$MNT"
  N=$(written)
  (cd "$WORK/src" && sha256sum $(seq -f 'f%g' 1 "$N")) >"$WORK/src.sums"
  (cd "$MNT" && sha256sum -c --quiet "$WORK/src.sums") || fail "files on $DEV2 differ from what the writer wrote"
  log "ok: fsck -n clean, all $N files read back from $DEV2 after a remount match (sha256 of the list $(sha256sum <"$WORK/src.sums" | cut -c1-16))"
  umount "$MNT"
else
  log "dmp.agent.kernel-interface=ioctl: no take-back to prove, the SIGKILL step is skipped"
fi

if [ "$VIA" = netlink ]; then
  # A socket failure (docs/kernel.md, "When the connection fails"): the kernel drops a connection whose
  # request went unanswered for the volume's request timeout. The volumes of these steps have a short
  # one of their own (kernelTimeoutSeconds); the agent's default stays for the steps above.
  NBDKIT_PID=
  # A stopped agent or nbdkit would not stop on SIGTERM at the end: let them go on first.
  trap 'rc=$?; for p in $AGENT_PID $NBDKIT_PID; do kill -CONT "$p" 2>/dev/null || true; done; mountpoint -q "$MNT" && umount "$MNT"; (exit $rc); _cleanup' EXIT
  dmesg_since() { dmesg | tail -n +"$(($1 + 1))"; }
  # in_dmesg SINCE PATTERN: the kernel logged PATTERN after line SINCE.
  in_dmesg() { dmesg_since "$1" | grep -qE "$2"; }
  ended() { ! kill -0 "$1" 2>/dev/null; }
  links() { grep -c 'connected as host' "$WORK/agent-node-a.log" || true; }

  step "heal: the agent frozen (SIGSTOP) past a 3 s request timeout; a dd started meanwhile completes after SIGCONT"
  rpc CreateVolume '{"host":"node-a","name":"dmp3","kernel":true,"kernelTimeoutSeconds":3,"memory":{"sizeBytes":"4194304"}}' >"$WORK/c3.json" ||
    fail "CreateVolume dmp3: $(cat "$WORK/c3.json")"
  DEV3=$(jq -r .volume.device "$WORK/c3.json")
  [ -n "$DEV3" ] && [ "$DEV3" != null ] || fail "no device for dmp3: $(cat "$WORK/c3.json")"
  head -c 4096 /dev/urandom >"$WORK/block3"
  dd if="$WORK/block3" of="$DEV3" bs=4096 seek=5 count=1 oflag=direct status=none
  RECONNECTS_BEFORE=$(grep -c "volume dmp3 on $DEV3: .*gave the kernel a new socket" "$WORK/agent-node-a.log" || true)
  DMESG_BEFORE=$(dmesg | wc -l)
  kill -STOP "$AGENT_PID"
  dd if="$DEV3" of="$WORK/read3" bs=4096 skip=5 count=1 iflag=direct status=none 2>"$WORK/dd3.err" & DD=$!
  wait_until 60 in_dmesg "$DMESG_BEFORE" "${DEV3#/dev/}: Connection timed out"
  ended "$DD" && fail "the dd on $DEV3 ended while the agent was frozen: $(cat "$WORK/dd3.err")"
  log "the kernel timed the request out while the agent was frozen: $(dmesg_since "$DMESG_BEFORE" | grep -oE "${DEV3#/dev/}: Connection timed out.*" | head -1)"
  kill -CONT "$AGENT_PID"
  wait_until 60 ended "$DD"
  rc=0; wait "$DD" || rc=$?
  expect_eq "exit status of the dd started during the freeze" 0 "$rc"
  cmp "$WORK/block3" "$WORK/read3" || fail "the dd on $DEV3 read other bytes than were written"
  log "ok: it read the 4096 bytes written before the freeze"
  reconnected() { [ "$(grep -c "volume dmp3 on $DEV3: .*gave the kernel a new socket" "$WORK/agent-node-a.log")" -gt "$RECONNECTS_BEFORE" ]; }
  wait_until 30 reconnected
  log "ok: agent log: $(grep -oE "volume dmp3 on $DEV3: .*gave the kernel a new socket.*" "$WORK/agent-node-a.log" | tail -1)"
  list
  expect_eq "dmp3 device after the heal (same number)" "$DEV3" "$(field dmp3 device)"
  expect_eq "dmp3 attachment after the heal" "attached via netlink" "$(field dmp3 attachment)"
  dmesg_since "$DMESG_BEFORE" >"$WORK/dmesg-heal.txt"
  grep -q "${DEV3#/dev/}: reconnected socket" "$WORK/dmesg-heal.txt" || fail "no 'reconnected socket' for $DEV3 in the kernel log"
  if grep -E "I/O error|Buffer I/O" "$WORK/dmesg-heal.txt"; then fail "the kernel logged an I/O error during the heal (dmesg-heal.txt)"; fi
  log "ok: no I/O error in the kernel log; its nbd lines meanwhile (count, text):"
  grep -oE "nbd[0-9]+: .*" "$WORK/dmesg-heal.txt" | sort | uniq -c | sed 's/^/    /'

  step "failed: an upstream NBD server that stops answering (nbdkit SIGSTOP): every connection dies, the device is given up"
  if ! command -v nbdkit >/dev/null; then
    [ "${DMP_REQUIRE_ALL:-0}" = 1 ] && fail "needs nbdkit (scripts/tools.sh lists it)"
    log "SKIP: no nbdkit on this host (scripts/install-tools.sh installs it): the failed-device step is not run"
  else
    nbdkit -f -U "$WORK/upstream.sock" memory 64M >"$WORK/nbdkit.log" 2>&1 & NBDKIT_PID=$!; _PIDS+=("$NBDKIT_PID")
    wait_until 30 test -S "$WORK/upstream.sock"
    rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp4\",\"kernel\":true,\"kernelTimeoutSeconds\":2,\"nbd\":{\"uri\":\"nbd+unix:///?socket=$WORK/upstream.sock\"}}" \
      >"$WORK/c4.json" || fail "CreateVolume dmp4: $(cat "$WORK/c4.json")"
    DEV4=$(jq -r .volume.device "$WORK/c4.json")
    [ -n "$DEV4" ] && [ "$DEV4" != null ] || fail "no device for dmp4: $(cat "$WORK/c4.json")"
    expect_eq "blockdev --getsize64 $DEV4 (opened, partitions scanned, while nbdkit answers)" 67108864 "$(blockdev --getsize64 "$DEV4")"
    LINKS=$(links)
    OTHERS=$(jq -r '[.volumes[].name] | sort | join(" ")' <<<"$VOLS") # as the heal step left them
    DMESG_BEFORE=$(dmesg | wc -l)
    kill -STOP "$NBDKIT_PID"; STOPPED=$(date +%s%N)
    dd if="$DEV4" of=/dev/null bs=4096 skip=3 count=1 iflag=direct status=none 2>"$WORK/dd4.err" & DD=$!
    wait_until 120 not_running "$DEV4"
    log "$DEV4 released $(( ($(date +%s%N) - STOPPED) / 1000000 )) ms after nbdkit stopped"
    wait_until 30 ended "$DD"
    rc=0; wait "$DD" || rc=$?
    [ "$rc" != 0 ] || fail "the dd on the failed $DEV4 exited 0"
    grep -q "Input/output error" "$WORK/dd4.err" || fail "the dd on $DEV4 failed otherwise: $(cat "$WORK/dd4.err")"
    log "ok: the reader got an I/O error (dd exit $rc: $(cat "$WORK/dd4.err"))"
    expect_eq "size of $DEV4 after the failure" 0 "$(blockdev --getsize64 "$DEV4")"
    log "agent log: $(grep -oE "volume dmp4: kernel attachment failed.*" "$WORK/agent-node-a.log" | tail -1)"
    list
    expect_eq "dmp4 device in the agent's ListVolumes" "" "$(field dmp4 device)"
    expect_eq "dmp4 attachmentState in the agent's ListVolumes" ATTACHMENT_STATE_FAILED "$(field dmp4 attachmentState)"
    # 4 quick connections in a row (each ended within the 2 s timeout + 10 s of its start); the first,
    # made at the attach, counts too when it ended that soon: 3 reconnects, or 4 (more only if a
    # connection of a loaded machine took longer), as many as the log shows.
    grep -qxE "failed: $DEV4: the kernel closed the connection \(a request unanswered for 2 s, or NBD_CMD_DISC\); 4 connections in a row ended within 12000 ms \([0-9]+ reconnects\); the device was released" \
      <<<"$(field dmp4 attachment)" || fail "dmp4 attachment: $(field dmp4 attachment)"
    expect_eq "reconnects logged before the agent gave $DEV4 up" "$(field dmp4 attachment | grep -oE '[0-9]+ reconnects' | cut -d' ' -f1)" \
      "$(grep -c "volume dmp4 on $DEV4: .*gave the kernel a new socket" "$WORK/agent-node-a.log")"
    log "ok: agent's ListVolumes: dmp4 attachment '$(field dmp4 attachment)'"
    dmp4_in_controller() { [ "$(rpc ListVolumes '{"host":"node-a"}' | jq -r '.volumes[] | select(.name=="dmp4") | .attachment')" = "$(field dmp4 attachment)" ]; }
    wait_until 15 dmp4_in_controller
    expect_same_view "after the failure"
    expect_eq "agent links to the controller meanwhile (no reconnect: the volume_changed message told it)" "$LINKS" "$(links)"
    grep -q "told of volume dmp4" "$WORK/agent-node-a.log" || fail "the agent did not log telling the controller"
    dmesg_since "$DMESG_BEFORE" >"$WORK/dmesg-fail.txt"
    log "the kernel's nbd lines meanwhile (count, text):"
    grep -oE "nbd[0-9]+: .*|I/O error, dev nbd.*" "$WORK/dmesg-fail.txt" | sed -E 's/sector [0-9]+.*/sector .../' | sort | uniq -c | sed 's/^/    /'
    dd if="$DEV3" of="$WORK/read3b" bs=4096 skip=5 count=1 iflag=direct status=none
    cmp "$WORK/block3" "$WORK/read3b" || fail "$DEV3 read other bytes after $DEV4 failed"
    dd if="$DEV2" of=/dev/null bs=4096 count=1 iflag=direct status=none
    log "ok: $DEV3 and $DEV2 still read (the agent and its other devices go on)"
    agent_rpc DeleteVolume '{"name":"dmp4"}' >/dev/null
    list
    expect_eq "volumes after deleting the failed dmp4" "$OTHERS" "$(jq -r '[.volumes[].name] | sort | join(" ")' <<<"$VOLS")"
    kill -CONT "$NBDKIT_PID"; kill -TERM "$NBDKIT_PID"
    rc=0; wait "$NBDKIT_PID" 2>/dev/null || rc=$?
    log "nbdkit continued and stopped (exit status $rc; its log: $(tail -c 400 "$WORK/nbdkit.log" | tr '\n' ' '))"
  fi
  agent_rpc DeleteVolume '{"name":"dmp3"}' >/dev/null
  wait_until 30 not_running "$DEV3"
fi

step "SIGTERM: the agent detaches every device on its way out"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true
grep -q "dmp2 detached from $DEV2" "$WORK/agent-node-a.log" || fail "agent log does not show dmp2 detached from $DEV2"
# Only the devices this test used: on a host with nbd, other programs may run devices of their own.
for d in "$DEV1" "$DEV2"; do not_running "$d" || fail "$d still attached after SIGTERM"; done
log "ok: neither $DEV1 nor $DEV2 attached after SIGTERM"
timings
