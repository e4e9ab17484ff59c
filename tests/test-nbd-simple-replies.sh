#!/usr/bin/env bash
# Clients that do not ask for structured replies (the kernel's nbd driver is one: tests/test-kernel.sh)
# get what they got before structured replies existed. libnbd asks for them by default, so every
# nbdsh-driven script below runs here again with DMP_NBD_STRUCTURED_REPLIES=0 (lib.sh's nbdsh then calls
# h.set_request_structured_replies(False) before connecting): the same commands, errors, proxy,
# shutdown and stats checks, over simple replies. First, proof that the switch takes, and that the
# agent's own switch (dmp.agent.nbd-structured-replies=false) refuses them to a client that asks.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdsh jq buf
nbd_setup
create_volume m '"memory":{"sizeBytes":"1048576"}'
expect_eq "structured replies negotiated by default" True \
  "$(nbdsh -u "$(uri m)" -c 'print(h.get_structured_replies_negotiated())')"
expect_eq "structured replies negotiated with DMP_NBD_STRUCTURED_REPLIES=0" False \
  "$(DMP_NBD_STRUCTURED_REPLIES=0 nbdsh -u "$(uri m)" -c 'print(h.get_structured_replies_negotiated())')"
# The agent's own switch: started with dmp.agent.nbd-structured-replies=false (its volume m comes back
# from the checkpoint), it refuses them to a client that asks, so no block status either; READs work.
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
start_agent node-a -Ddmp.agent.nbd-structured-replies=false
expect_eq "structured replies, base:allocation, bytes read, from an agent with them off" "False False 1048576" \
  "$(nbdsh -u "$(uri m)" -c 'print(h.get_structured_replies_negotiated(), h.can_meta_context("base:allocation"), len(h.pread(1048576, 0)))')"
grep -q "dmp.agent.nbd-structured-replies=false: every client gets simple replies" "$WORK/agent-node-a.log" \
  || fail "the agent did not log that structured replies are off"
_stop_all; _PIDS=()

for t in test-nbd-commands test-nbd-errors test-nbd-proxy test-nbd-shutdown test-skeleton; do
  start=$(date +%s)
  rc=0; DMP_NBD_STRUCTURED_REPLIES=0 bash "$TESTS_DIR/$t.sh" > "$WORK/$t.log" 2>&1 || rc=$?
  [ $rc = 77 ] && skip "$t.sh skipped: $(grep -m1 '^SKIP' "$WORK/$t.log")"
  [ $rc = 0 ] || fail "$t.sh with simple replies (exit $rc):
$(tail -n 20 "$WORK/$t.log")"
  log "ok: $t.sh passes with simple replies ($(( $(date +%s) - start )) s)"
done
log "PASS"
