#!/usr/bin/env bash
# The link between an agent and the controller is cut for 30 seconds while I/O goes on: the agent
# runs in a network namespace of its own (made here, with a veth pair to the test's side), the link
# is taken down and brought back. The clients reach the agent over its unix socket, which no network
# namespace cuts. After the link heals the controller's counts are exact.
. "$(dirname "$0")/lib.sh"
requires buf jq curl ip
needs_libnbd_python
[ "$(id -u)" = 0 ] || skip "needs root for ip netns"

netns_add 0
# The controller listens on every address of the test's side; the agent dials it across the veth.
start_controller -Dquarkus.http.host=0.0.0.0
CONTROLLER_FOR_AGENT=$NETNS_HOST_IP:$CONTROLLER_PORT
AGENT_EXEC="ip netns exec $NETNS" CONTROLLER=$CONTROLLER_FOR_AGENT start_agent node-a
wait_until 30 host_online node-a
truncate -s 16M "$WORK/a.img"
rpc CreateVolume '{"host":"node-a","name":"zero1","zero":{"sizeBytes":"67108864"}}' >/dev/null
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"file1\",\"file\":{\"path\":\"$WORK/a.img\"}}" >/dev/null

truth() { local n=$1; echo "$((n / 2)) $((n / 2 * 8192)) $(((n + 1) / 2)) $(((n + 1) / 2 * 4096))"; }
# 40 s of I/O at 100 requests/s per volume: it runs before, during and after the 30 s cut.
load_start z "nbd+unix:///zero1?socket=$NBD_SOCK" 4001 100
load_start f "nbd+unix:///file1?socket=$NBD_SOCK" 3999 100
counted() { [ "$(stats_of HOST node-a | awk '{print $3}')" -ge "$1" ]; }
wait_until 30 counted 200
before_cut=$(stats_of HOST node-a)
log "cutting the link for 30 s (counted so far: $before_cut)"
ip link set "$NETNS_HOST_IF" down
cut_start=$(date +%s)
end=$(( cut_start + 30 ))
while [ "$(date +%s)" -lt $end ]; do sleep 1; done
stuck=$(stats_of HOST node-a)
log "after the 30 s cut the controller shows $stuck"
ip link set "$NETNS_HOST_IF" up
log "link restored"
load_wait z >/dev/null; load_wait f >/dev/null
exact() { [ "$(stats_of VOLUME node-a "$1")" = "$2" ]; }
wait_until 60 exact zero1 "$(truth 4001)"
wait_until 60 exact file1 "$(truth 3999)"
expect_eq "zero1 after the cut healed" "$(truth 4001)" "$(stats_of VOLUME node-a zero1)"
expect_eq "file1 after the cut healed" "$(truth 3999)" "$(stats_of VOLUME node-a file1)"
# The cut was real: over 30 s the loads made ~3000 writes, the controller saw at most the deltas
# already on their way when the link went down (3 s of writes).
grew=$(( $(echo "$stuck" | awk '{print $3}') - $(echo "$before_cut" | awk '{print $3}') ))
[ "$grew" -lt 300 ] || fail "the controller counted $grew writes while the link was down"
log "exact after a 30 s link cut"
