#!/usr/bin/env bash
# ./run.sh --once (the README's main command, in its exiting form): builds nothing when the jars are
# fresh, creates dmp1 (zero) and dmp2 (file), writes and reads 4 KiB of each, prints the controller's
# view with exact counts, and leaves nothing running. Without nbd (or not root) qemu-io is the client
# of both over the NBD socket. As root on a kernel with the nbd driver run.sh attaches dmp1 as
# /dev/nbdN and does its 4 KiB with dd O_DIRECT: then the device is named, and released at the stop.
# tests/test-kernel.sh runs this script in its VM with DMP_RUN_ONCE_KERNEL=1: the kernel path must
# then be taken. DMP_RUN_ONCE_TIMEOUT [3 x DMP_START_TIMEOUT + 120 s] bounds run.sh.
. "$(dirname "$0")/lib.sh"
requires buf jq curl qemu-io
need_jars

CPORT=$(free_port) APORT=$(free_port)
RUN=$WORK/run
running() { [ -e "/sys/block/${1#/dev/}/pid" ]; }
# The nbd devices running now, one a line ("" without the driver): run.sh must leave this list as it found it.
devices_running() { local p; for p in /sys/block/nbd*/pid; do [ -e "$p" ] && basename "$(dirname "$p")"; done; true; }
BEFORE=$(devices_running)
rc=0
# run.sh's output is shown as it comes (a slow run under emulation shows where it is) and kept.
DMP_CONTROLLER_PORT=$CPORT DMP_AGENT_PORT=$APORT DMP_HOST_ID=node-once DMP_RUN_DIR=$RUN \
  timeout "${DMP_RUN_ONCE_TIMEOUT:-$((3 * ${DMP_START_TIMEOUT:-60} + 120))}" "$ROOT/run.sh" --once 2>&1 | tee "$WORK/run.log" || rc=$?
[ $rc = 0 ] || fail "./run.sh --once exited with $rc"
OUT=$(cat "$WORK/run.log")
# has TEXT...: each TEXT is somewhere in run.sh's output.
has() {
  local want
  for want in "$@"; do
    case $OUT in *"$want"*) log "ok: output has: $want" ;; *) fail "output lacks '$want'" ;; esac
  done
}

# The block printed between the curl line and the next section, compared whole.
STATS=$(sed -n "/^== curl http:\/\/127.0.0.1:$CPORT\/stat\/volumes$/,/^$/p" "$WORK/run.log" | sed '1d;$d')
expect_text "run.sh's stats" "$(old_block node-once/dmp1 1 4096 1 4096 2 4096; old_block node-once/dmp2 1 4096 1 4096 2 4096)" "$STATS"
case $OUT in *"run.sh: building"*) fail "run.sh rebuilt although the jars were fresh" ;; esac
has "created dmp1: 1000000000 bytes, nbd+unix:///dmp1?socket=$RUN/nbd.sock" \
    "created dmp2: 67108864 bytes, nbd+unix:///dmp2?socket=$RUN/nbd.sock" \
    "grpcurl -plaintext localhost:$CPORT list dmp.v1.Controller" \
    "buf curl --protocol grpc --http2-prior-knowledge -d '{\"scope\":\"FLEET\"}' http://localhost:$CPORT/dmp.v1.Controller/QueryStats" \
    "run.sh: agent stopped" "run.sh: controller stopped" "run.sh: done (--once)"
DEV=$(sed -n 's/^run\.sh: created dmp1: .*, attached as \(\/dev\/nbd[0-9][0-9]*\)$/\1/p' "$WORK/run.log")
if [ -n "$DEV" ]; then
  log "run.sh took the kernel path: dmp1 attached as $DEV"
  has "run.sh: dd: write 4 KiB to $DEV (oflag=direct) and read 4 KiB back (iflag=direct); qemu-io on dmp2 (file)"
  grep -q "dmp1 detached from $DEV" "$RUN/agent.log" || fail "agent log does not show dmp1 detached from $DEV"
  ! running "$DEV" || fail "$DEV is still attached after run.sh stopped"
  log "ok: $DEV released at the stop"
else
  [ "${DMP_RUN_ONCE_KERNEL:-0}" != 1 ] || fail "DMP_RUN_ONCE_KERNEL=1, but run.sh did not attach dmp1 as a device"
  has "qemu-io is its client over the NBD socket" "run.sh: qemu-io: write 4 KiB and read 4 KiB on dmp1"
fi
expect_eq "nbd devices running after run.sh (as before it)" "$BEFORE" "$(devices_running)"
# The file backend got the 4 KiB of 0xab qemu-io wrote.
expect_eq "dmp2.img first 4 KiB" "$(head -c 4096 /dev/zero | tr '\0' '\253' | md5sum)" "$(head -c 4096 "$RUN/dmp2.img" | md5sum)"
# Everything stopped: ports free, socket removed.
if curl -s "http://127.0.0.1:$CPORT/stat/volumes" >/dev/null; then fail "the controller still answers"; fi
if curl -s "http://127.0.0.1:$APORT/stat/volumes" >/dev/null; then fail "the agent still answers"; fi
[ ! -e "$RUN/nbd.sock" ] || fail "the NBD socket is still there"
log "PASS"
