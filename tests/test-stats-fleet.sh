#!/usr/bin/env bash
# Fleet statistics are exact: three agents (separate processes, distinct host ids) with two volumes
# each, ground-truth loads on all six at once; in the middle the controller is killed with SIGKILL and
# restarted, and one volume is reset. Then every volume, host and the fleet equals the truth exactly,
# and for the reset volume the counts ResetStats closed plus the counts after it equal the truth.
# Set up as the Kubernetes manifests set up the pods: each agent in a network namespace of its own
# (its own "node", dialling the controller across a veth), every app configured by the environment
# variables the manifests set (checked below), a shared token as from the Secret dmp-auth.
DMP_TOKEN=fleet-$RANDOM$RANDOM
. "$(dirname "$0")/lib.sh"
requires buf jq curl ip
needs_libnbd_python
[ "$(id -u)" = 0 ] || skip "needs root for ip netns"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || skip "needs Debian's python3-yaml to read the manifests (scripts/install-tools.sh installs it)"
for app in agent controller; do
  names=AGENT_ENV_NAMES; [ $app = controller ] && names=CONTROLLER_ENV_NAMES
  for name in $(manifest_env $app); do
    case " ${!names} " in *" $name "*) ;; *) fail "the manifests give the $app $name; this test's $app does not get it" ;; esac
  done
  log "ok: the $app gets every variable the manifests set: $(manifest_env $app | tr '\n' ' ')"
done

start_controller -Dquarkus.http.host=0.0.0.0
declare -A SOCK
i=0
for h in node-a node-b node-c; do
  netns_add $((i += 1))
  AGENT_EXEC="ip netns exec $NETNS" CONTROLLER=$NETNS_HOST_IP:$CONTROLLER_PORT start_agent "$h"
  SOCK[$h]=$NBD_SOCK
  truncate -s 16M "$WORK/$h.img"
  rpc CreateVolume "{\"host\":\"$h\",\"name\":\"zero1\",\"zero\":{\"sizeBytes\":\"67108864\"}}" >/dev/null
  rpc CreateVolume "{\"host\":\"$h\",\"name\":\"file1\",\"file\":{\"path\":\"$WORK/$h.img\"}}" >/dev/null
done

# Requests per volume: all different, so a count landing on the wrong volume or host shows.
declare -A COUNT=([node-a/zero1]=1201 [node-a/file1]=1000 [node-b/zero1]=1103 [node-b/file1]=950
                  [node-c/zero1]=1302 [node-c/file1]=1001)
RATE=250
for k in "${!COUNT[@]}"; do
  load_start "${k/\//-}" "nbd+unix:///${k#*/}?socket=${SOCK[${k%/*}]}" "${COUNT[$k]}" $RATE
done

# Wait until the controller has counted something, then kill it and bring it back on the same port
# and data dir while the loads go on.
counted_some() { [ "$(stats_of FLEET | awk '{print $3}')" -ge 300 ]; }
wait_until 30 counted_some
log "killing the controller with SIGKILL mid-I/O"
kill -9 "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null || true
start_controller -Dquarkus.http.host=0.0.0.0
for h in node-a node-b node-c; do wait_until 30 host_online "$h"; done
log "controller back; resetting node-b/zero1 while its load runs"
BEFORE=$(rpc ResetStats '{"scope":"VOLUME","host":"node-b","volume":"zero1"}' \
  | jq -r '.before[0] | "\(.read.requests) \(.read.bytes) \(.write.requests) \(.write.bytes)"')
log "node-b/zero1 closed with: $BEFORE"

for k in "${!COUNT[@]}"; do load_wait "${k/\//-}" >/dev/null; done

# The truth, from the counts the loads were given (each load alternates WRITE 4096 and READ 8192).
truth() { local n=$1; echo "$((n / 2)) $((n / 2 * 8192)) $(((n + 1) / 2)) $(((n + 1) / 2 * 4096))"; }
sum() { awk '{r+=$1; rb+=$2; w+=$3; wb+=$4} END {print r, rb, w, wb}'; }
FLEET_TRUTH=$(for k in "${!COUNT[@]}"; do truth "${COUNT[$k]}"; done | sum)
for k in "${!COUNT[@]}"; do
  got=$(cat "$WORK/load-${k/\//-}.json" | jq -r '"\(.reads) \(.read_bytes) \(.writes) \(.write_bytes)"')
  expect_eq "load $k answered" "$(truth "${COUNT[$k]}")" "$got"
done

# Every request a load saw answered reaches the controller within a few deltas.
after_fleet() { (echo "$BEFORE"; stats_of FLEET) | sum; }
deadline=$(( $(date +%s) + 30 ))
until [ "$(after_fleet)" = "$FLEET_TRUTH" ]; do
  [ "$(date +%s)" -lt $deadline ] || fail "fleet never reached the truth: $(after_fleet) (before reset + now) vs $FLEET_TRUTH"
  sleep 0.2
done

for k in "${!COUNT[@]}"; do
  h=${k%/*} v=${k#*/}
  if [ "$k" = node-b/zero1 ]; then
    expect_eq "$k before reset + after" "$(truth "${COUNT[$k]}")" "$( (echo "$BEFORE"; stats_of VOLUME "$h" "$v") | sum)"
  else
    expect_eq "$k" "$(truth "${COUNT[$k]}")" "$(stats_of VOLUME "$h" "$v")"
  fi
done
expect_eq "host node-a" "$( (truth 1201; truth 1000) | sum)" "$(stats_of HOST node-a)"
expect_eq "host node-c" "$( (truth 1302; truth 1001) | sum)" "$(stats_of HOST node-c)"
expect_eq "host node-b before reset + after" "$( (truth 1103; truth 950) | sum)" "$( (echo "$BEFORE"; stats_of HOST node-b) | sum)"
expect_eq "fleet before reset + after" "$FLEET_TRUTH" "$(after_fleet)"
log "all exact"
