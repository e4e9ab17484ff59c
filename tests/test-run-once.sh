#!/usr/bin/env bash
# ./run.sh --once (the README's main command, in its exiting form): builds nothing when the jars are
# fresh, creates dmp1 (zero) and dmp2 (file), writes and reads 4 KiB of each with qemu-io, prints the
# controller's view with exact counts, and leaves nothing running.
. "$(dirname "$0")/lib.sh"
requires buf jq curl qemu-io
need_jars

CPORT=$(free_port) APORT=$(free_port)
RUN=$WORK/run
rc=0
DMP_CONTROLLER_PORT=$CPORT DMP_AGENT_PORT=$APORT DMP_HOST_ID=node-once DMP_RUN_DIR=$RUN \
  timeout 300 "$ROOT/run.sh" --once > "$WORK/run.log" 2>&1 || rc=$?
[ $rc = 0 ] || fail "./run.sh --once exited with $rc"
OUT=$(cat "$WORK/run.log")

# The block printed between the curl line and the next section, compared whole.
STATS=$(sed -n "/^== curl http:\/\/127.0.0.1:$CPORT\/stat\/volumes$/,/^$/p" "$WORK/run.log" | sed '1d;$d')
expect_text "run.sh's stats" "$(old_block node-once/dmp1 1 4096 1 4096 2 4096; old_block node-once/dmp2 1 4096 1 4096 2 4096)" "$STATS"
case $OUT in *"run.sh: building"*) fail "run.sh rebuilt although the jars were fresh" ;; esac
for want in "created dmp1: 1000000000 bytes, nbd+unix:///dmp1?socket=$RUN/nbd.sock" \
            "created dmp2: 67108864 bytes, nbd+unix:///dmp2?socket=$RUN/nbd.sock" \
            "grpcurl -plaintext localhost:$CPORT list dmp.v1.Controller" \
            "buf curl --protocol grpc --http2-prior-knowledge -d '{\"scope\":\"FLEET\"}' http://localhost:$CPORT/dmp.v1.Controller/QueryStats" \
            "run.sh: agent stopped" "run.sh: controller stopped" "run.sh: done (--once)"; do
  case $OUT in *"$want"*) log "ok: output has: $want" ;; *) fail "output lacks '$want':
$OUT" ;; esac
done
# The file backend got the 4 KiB of 0xab qemu-io wrote.
expect_eq "dmp2.img first 4 KiB" "$(head -c 4096 /dev/zero | tr '\0' '\253' | md5sum)" "$(head -c 4096 "$RUN/dmp2.img" | md5sum)"
# Everything stopped: ports free, socket removed.
if curl -s "http://127.0.0.1:$CPORT/stat/volumes" >/dev/null; then fail "the controller still answers"; fi
if curl -s "http://127.0.0.1:$APORT/stat/volumes" >/dev/null; then fail "the agent still answers"; fi
[ ! -e "$RUN/nbd.sock" ] || fail "the NBD socket is still there"
log "PASS"
