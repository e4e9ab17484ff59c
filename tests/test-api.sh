#!/usr/bin/env bash
# The control API as operators use it: GetVolume, ListHosts (online, last seen, version, count),
# idempotent CreateVolume, NOT_FOUND delete that changes nothing, each bad request's exact status,
# the agent's own dmp.v1.Agent service (the controller learns of volumes made there), health.
. "$(dirname "$0")/lib.sh"
requires buf jq curl

start_controller
start_agent node-a

# status METHOD JSON: the gRPC status code of a Controller call ("ok" on success).
status() { local out; if out=$(rpc "$1" "$2" 2>&1); then echo ok; else echo "$out" | jq -r .code; fi; }
agent_status() { local out; if out=$(agent_rpc "$1" "$2" 2>&1); then echo ok; else echo "$out" | jq -r .code; fi; }
volumes() { rpc ListVolumes '{}' | jq -c '[.volumes[] | .host + "/" + .name]'; }

Z='"zero":{"sizeBytes":"1048576"}'
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp1\",$Z}" >/dev/null
# Same spec again: OK with the same volume; another spec: ALREADY_EXISTS.
expect_eq "create again, same spec" ok "$(status CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp1\",$Z}")"
expect_eq "create again, other spec" already_exists \
  "$(status CreateVolume '{"host":"node-a","name":"dmp1","zero":{"sizeBytes":"4096"}}')"
expect_eq "GetVolume size" 1048576 "$(rpc GetVolume '{"host":"node-a","name":"dmp1"}' | jq -r .volume.sizeBytes)"

# Bad requests: the right code, and nothing changes.
before=$(volumes)
expect_eq "bad name" invalid_argument "$(status CreateVolume "{\"host\":\"node-a\",\"name\":\"../etc\",$Z}")"
expect_eq "no backend" invalid_argument "$(status CreateVolume '{"host":"node-a","name":"dmp2"}')"
expect_eq "zero size" invalid_argument "$(status CreateVolume '{"host":"node-a","name":"dmp2","zero":{}}')"
expect_eq "missing file" invalid_argument \
  "$(status CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp2\",\"file\":{\"path\":\"$WORK/none.img\"}}")"
expect_eq "unknown host" not_found "$(status CreateVolume "{\"host\":\"node-x\",\"name\":\"dmp2\",$Z}")"
expect_eq "get unknown volume" not_found "$(status GetVolume '{"host":"node-a","name":"dmp9"}')"
expect_eq "delete unknown volume" not_found "$(status DeleteVolume '{"host":"node-a","name":"dmp9"}')"
expect_eq "query without scope" invalid_argument "$(status QueryStats '{}')"
expect_eq "reset fleet with a host" invalid_argument "$(status ResetStats '{"scope":"FLEET","host":"node-a"}')"
expect_eq "agent: other host" invalid_argument "$(agent_status ListVolumes '{"host":"node-b"}')"
expect_eq "volumes unchanged by bad requests" "$before" "$(volumes)"

# ListHosts: online, a recent last_seen, the agent's version, the volume count.
h=$(rpc ListHosts '{}' | jq -c '.hosts[0]')
expect_eq "host online" true "$(jq -r .online <<<"$h")"
expect_eq "volume count" 1 "$(jq -r .volumeCount <<<"$h")"
expect_eq "agent version" 0.1.0-SNAPSHOT "$(jq -r .agentVersion <<<"$h")"
# The idle agent's heartbeat keeps last_seen about a second old. The agent is left idle for 5 s on
# purpose (this sleep is the condition under test, not a wait for one); without the heartbeat its
# last message would be 5 s old. Measured from when the ListHosts call began, which may be slow.
sleep 5
asked=$(date +%s)
h=$(rpc ListHosts '{}' | jq -c '.hosts[0]')
seen=$(date -d "$(jq -r .lastSeen <<<"$h")" +%s)
[ $(( asked - seen )) -le 3 ] || fail "last seen $(( asked - seen )) s before ListHosts while idle and online, expected at most 3 s"
log "ok: idle for 5 s, last seen $(( asked - seen )) s before ListHosts"

# A volume made directly on the agent shows up at the controller; deleted there, it goes.
agent_rpc CreateVolume "{\"name\":\"direct\",$Z}" >/dev/null
has_direct() { volumes | grep -q '"node-a/direct"'; }
wait_until 10 has_direct
log "ok: controller learned of node-a/direct"
expect_eq "agent GetVolume" direct "$(agent_rpc GetVolume '{"name":"direct"}' | jq -r .volume.name)"
agent_rpc DeleteVolume '{"name":"direct"}' >/dev/null
expect_eq "agent delete again" not_found "$(agent_status DeleteVolume '{"name":"direct"}')"
no_direct() { ! has_direct; }
wait_until 10 no_direct
log "ok: controller saw node-a/direct go"

# Stats through the agent: 2 reads of 4096 bytes.
nbdsh -u "nbd+unix:///dmp1?socket=$NBD_SOCK" -c 'h.pread(4096, 0); h.pread(4096, 8192)'
expect_eq "agent QueryStats HOST" '{"requests":"2","bytes":"8192","avgSize":"4096"}' \
  "$(agent_rpc QueryStats '{"scope":"HOST"}' | jq -c '.rows[0].read')"
expect_eq "agent ResetStats" 1 "$(agent_rpc ResetStats '{"scope":"VOLUME","volume":"dmp1"}' | jq -r .volumesReset)"
expect_eq "after reset" 0 "$(agent_rpc QueryStats '{"scope":"VOLUME","volume":"dmp1"}' | jq -r '.rows[0].total.requests')"

# Health: HTTP live/ready on both, and the gRPC health service.
for url in "http://$CONTROLLER" "http://127.0.0.1:$AGENT_PORT"; do
  for p in live ready; do
    expect_eq "$url/q/health/$p" UP "$(curl -s "$url/q/health/$p" | jq -r .status)"
  done
done
expect_eq "gRPC health" SERVING "$(buf curl --protocol grpc --http2-prior-knowledge -d '{}' \
  "http://$CONTROLLER/grpc.health.v1.Health/Check" | jq -r .status)"

# Operator words in the logs, and no stack trace for the refused requests above.
grep -q "agent connected: host node-a" "$WORK/controller.log" || fail "no 'agent connected' log line"
grep -q "volume node-a/dmp1 ready (zero, 1048576 bytes)" "$WORK/controller.log" || fail "no 'volume ready' log line"
if grep -q "^\s*at " "$WORK/controller.log" "$WORK/agent-node-a.log"; then fail "a stack trace in the logs"; fi
log "ok: logs in operator words, no stack trace"

# A standalone agent (no controller) works fully through its own service.
CONTROLLER= start_agent solo
agent_rpc CreateVolume "{\"name\":\"s1\",$Z}" >/dev/null
nbdsh -u "nbd+unix:///s1?socket=$NBD_SOCK" -c 'h.pwrite(b"x" * 512, 0)'
expect_eq "standalone: volumes" '["solo/s1"]' "$(agent_rpc ListVolumes '{}' | jq -c '[.volumes[] | .host + "/" + .name]')"
expect_eq "standalone: write counted" '{"requests":"1","bytes":"512","avgSize":"512"}' \
  "$(agent_rpc QueryStats '{"scope":"VOLUME","volume":"s1"}' | jq -c '.rows[0].write')"
expect_eq "standalone: ready" UP "$(curl -s "http://127.0.0.1:$AGENT_PORT/q/health/ready" | jq -r .status)"
