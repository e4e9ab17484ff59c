#!/usr/bin/env bash
# Bad input to the walking skeleton (issue 2): every bad CreateVolume gets the right gRPC code and a
# message that says what to change, and changes nothing (volumes, hosts, counters, data); bad agent
# configuration stops start-up with a message naming the key.
. "$(dirname "$0")/lib.sh"
requires buf jq curl nbdsh

start_controller
start_agent node-a
DISK=$WORK/disk.img
truncate -s 1M "$DISK"
rpc CreateVolume '{"host":"node-a","name":"dmp1","zero":{"sizeBytes":"1000000000"}}' >/dev/null
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp2\",\"file\":{\"path\":\"$DISK\"}}" >/dev/null
# Some counts, so that "nothing changed" covers the counters too.
nbdsh -u "nbd+unix:///dmp2?socket=$NBD_SOCK" -c 'h.pwrite(b"\x11" * 4096, 0)'
mkdir "$WORK/adir"
: > "$WORK/empty.img"

state() {
  rpc ListVolumes '{}' | jq -c .
  rpc ListHosts '{}' | jq -c '.hosts |= map({id, online, volumeCount})'
  curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes"
  md5sum < "$DISK"
}
wait_for_text 10 "controller has the write" "$(old_block node-a/dmp1 0 0 0 0 0 0; old_block node-a/dmp2 0 0 1 4096 1 4096)" \
  curl -sf "http://$CONTROLLER/stat/volumes"
BEFORE=$(state)
VOLUMES=$(rpc ListVolumes '{}' | jq -c .)

# bad_create WHAT REQUEST EXPECTED: CreateVolume must fail with EXPECTED ("CODE message") and leave
# ListVolumes as it was (the whole state, counters and data included, is compared after the lot).
bad_create() {
  expect_eq "$1" "$3" "$(rpc_error CreateVolume "$2")"
  expect_eq "ListVolumes after $1" "$VOLUMES" "$(rpc ListVolumes '{}' | jq -c .)"
}
Z='"zero":{"sizeBytes":"1000000000"}'
bad_create "missing file" '{"host":"node-a","name":"dmp3","file":{"path":"/nonexistent/disk.img"}}' \
  "INVALID_ARGUMENT file backend: path /nonexistent/disk.img does not exist or cannot be resolved (NoSuchFileException)"
bad_create "relative path" '{"host":"node-a","name":"dmp3","file":{"path":"disk.img"}}' \
  "INVALID_ARGUMENT file backend: path must be absolute, got 'disk.img'"
bad_create "directory" "{\"host\":\"node-a\",\"name\":\"dmp3\",\"file\":{\"path\":\"$WORK/adir\"}}" \
  "INVALID_ARGUMENT file backend: $WORK/adir is neither a regular file nor a block device"
bad_create "empty file" "{\"host\":\"node-a\",\"name\":\"dmp3\",\"file\":{\"path\":\"$WORK/empty.img\"}}" \
  "INVALID_ARGUMENT file backend: $WORK/empty.img is empty; a volume needs at least one byte"
bad_create "empty path" '{"host":"node-a","name":"dmp3","file":{}}' "INVALID_ARGUMENT file.path is required"
bad_create "bad name" "{\"host\":\"node-a\",\"name\":\"Bad name!\",$Z}" \
  "INVALID_ARGUMENT invalid volume name 'Bad name!': use 1-63 characters of a-z 0-9 . _ -"
LONG=$(printf 'a%.0s' $(seq 64))
bad_create "64-character name" "{\"host\":\"node-a\",\"name\":\"$LONG\",$Z}" \
  "INVALID_ARGUMENT invalid volume name '$LONG': use 1-63 characters of a-z 0-9 . _ -"
bad_create "name '..'" "{\"host\":\"node-a\",\"name\":\"..\",$Z}" \
  "INVALID_ARGUMENT invalid volume name '..': '.' and '..' are reserved"
bad_create "no name" "{\"host\":\"node-a\",$Z}" \
  "INVALID_ARGUMENT volume name is required (1-63 characters of a-z 0-9 . _ -)"
bad_create "no host" "{\"name\":\"dmp3\",$Z}" "INVALID_ARGUMENT host is required"
bad_create "unknown host" "{\"host\":\"node-b\",\"name\":\"dmp3\",$Z}" \
  "NOT_FOUND no host 'node-b' has connected to this controller; ListHosts shows the known hosts"
bad_create "no backend" '{"host":"node-a","name":"dmp3"}' \
  'INVALID_ARGUMENT a backend is required: "zero":{"sizeBytes":"..."}, "file":{"path":"..."}, "memory":{"sizeBytes":"..."} or "nbd":{"uri":"nbd+unix:///EXPORT?socket=..."}'
bad_create "zero size" '{"host":"node-a","name":"dmp3","zero":{"sizeBytes":"0"}}' \
  "INVALID_ARGUMENT zero.sizeBytes must be greater than 0"
bad_create "kernel timeout without a kernel device" "{\"host\":\"node-a\",\"name\":\"dmp3\",\"kernelTimeoutSeconds\":5,$Z}" \
  'INVALID_ARGUMENT kernel_timeout_seconds is the request timeout of a kernel device: set "kernel":true too, or leave it out'
# Checked before any device is looked for, so this host without nbd gives the same answer as one with it.
bad_create "kernel timeout over an hour" "{\"host\":\"node-a\",\"name\":\"dmp3\",\"kernel\":true,\"kernelTimeoutSeconds\":4000000000,$Z}" \
  "INVALID_ARGUMENT kernel_timeout_seconds must be 1-3600 (0 or absent: the agent's dmp.agent.kernel-timeout), got 4000000000"
# The same spec again is not an error: CreateVolume is idempotent (issue 6) and answers the volume.
expect_eq "the same CreateVolume again" "dmp1" "$(rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp1\",$Z}" | jq -r .volume.name)"
bad_create "duplicate name, other backend" "{\"host\":\"node-a\",\"name\":\"dmp2\",\"file\":{\"path\":\"$WORK/empty.img\"}}" \
  "ALREADY_EXISTS volume 'dmp2' already exists with another backend; delete it first or choose another name"

log "other bad requests"
expect_eq "QueryStats without scope" "INVALID_ARGUMENT scope is required: VOLUME, HOST or FLEET" "$(rpc_error QueryStats '{}')"
expect_eq "QueryStats unknown volume" "NOT_FOUND host 'node-a' has no volume 'dmp9'" \
  "$(rpc_error QueryStats '{"scope":"VOLUME","host":"node-a","volume":"dmp9"}')"
expect_eq "ResetStats VOLUME without volume" "INVALID_ARGUMENT volume is required" \
  "$(rpc_error ResetStats '{"scope":"VOLUME","host":"node-a"}')"
expect_eq "DeleteVolume unknown host" \
  "NOT_FOUND no host 'node-b' has connected to this controller; ListHosts shows the known hosts" \
  "$(rpc_error DeleteVolume '{"host":"node-b","name":"dmp1"}')"
expect_eq "ListVolumes unknown host" \
  "NOT_FOUND no host 'node-b' has connected to this controller; ListHosts shows the known hosts" \
  "$(rpc_error ListVolumes '{"host":"node-b"}')"
expect_eq "agent /stat/volumes?volume=nope" "404 no volume named 'nope'" \
  "$(curl -s -w '%{http_code}' -o "$WORK/body" "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=nope") $(cat "$WORK/body")"
expect_text "volumes, hosts, counters and data after every bad request" "$BEFORE" "$(state)"

log "the agent still serves its volumes, with the data intact"
nbdsh -u "nbd+unix:///dmp2?socket=$NBD_SOCK" -c 'assert h.pread(4096, 0) == b"\x11" * 4096'
expect_text "agent /stat/volumes?volume=dmp2 after the read" "$(old_block dmp2 1 4096 1 4096 2 4096)" \
  "$(curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=dmp2")"

log "a host whose agent is gone is offline: volume commands get FAILED_PRECONDITION"
kill "$AGENT_PID"; wait "$AGENT_PID" || true
wait_until 10 eval "rpc ListHosts '{}' | jq -e '.hosts[0].online == false'"
expect_eq "ListHosts with node-a offline" '{"hosts":[{"id":"node-a","online":false,"volumeCount":2}]}' "$(rpc ListHosts '{}' | jq -c '.hosts |= map({id, online, volumeCount})')"
expect_eq "CreateVolume on an offline host" \
  "FAILED_PRECONDITION host 'node-a' is offline: its agent is not connected; retry when it is back" \
  "$(rpc_error CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp3\",$Z}")"
expect_eq "ResetStats FLEET with a host offline" \
  "FAILED_PRECONDITION hosts offline: node-a; nothing was reset. Reset each online host with scope HOST, or wait for them" \
  "$(rpc_error ResetStats '{"scope":"FLEET"}')"

log "bad agent configuration stops start-up, naming the key"
# bad_agent WHAT MESSAGE -Dkey=value...: the agent must exit non-zero within 60 s and log MESSAGE.
bad_agent() {
  local what=$1 message=$2 rc=0; shift 2
  timeout 60 "$JAVA" -Dquarkus.http.port=0 -Ddmp.agent.nbd-socket="$WORK/bad/nbd.sock" \
    -Ddmp.agent.state-dir="$WORK/bad/state" "$@" -jar "$AGENT_JAR" > "$WORK/bad-agent.log" 2>&1 || rc=$?
  [ $rc != 0 ] && [ $rc != 124 ] || fail "$what: the agent did not stop (rc=$rc)"
  grep -qF -- "$message" "$WORK/bad-agent.log" || fail "$what: no '$message' in $(cat "$WORK/bad-agent.log")"
  [ ! -e "$WORK/bad/nbd.sock" ] || fail "$what: the agent left a socket behind"
  log "ok: $what: exit $rc, logged \"$message\""
}
bad_agent "host id 'bad id!'" "dmp.agent.host-id: 'bad id!' is not a valid host id" -Ddmp.agent.host-id='bad id!'
bad_agent "controller without port" "dmp.agent.controller: 'nohostport' is not host:port" -Ddmp.agent.controller=nohostport
bad_agent "relative state dir" "dmp.agent.state-dir: 'state' must be an absolute path" -Ddmp.agent.state-dir=state
bad_agent "state dir under a file" "dmp.agent.state-dir: cannot use $DISK/state" -Ddmp.agent.state-dir="$DISK/state"
log "PASS"
