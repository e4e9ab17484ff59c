#!/usr/bin/env bash
# Benchmark (not a test): copying a sparse disk out, `nbdcopy VOLUME null:`, through dmp, nbdkit file
# and qemu-nbd in one run, and dmp without block status: the same build with structured replies turned
# off (dmp-simple), and a build from before them when BEFORE names one. The file is
# GIB GiB holding EXTENTS extents of 1 MiB of random bytes, evenly spread; every server serves the same
# file. Rounds visit the servers in turn, each round starting with the next one. Prints per server the
# median seconds and server CPU per copy, the ratio to nbdkit's time, and what dmp's counters say one
# copy moved (READ bytes = the data, BLOCK_STATUS bytes = the size), and each server's time against
# dmp's.
# Usage: [BEFORE=APP_DIR] bench/sparse.sh [ROUNDS] [GIB] [EXTENTS]
#   BEFORE: a copy of agent/target/quarkus-app built before structured replies (git checkout 8c3ea6d,
#   mvn package, cp -r agent/target/quarkus-app /tmp/agent-before-13).
. "$(dirname "$0")/../tests/lib.sh"
requires nbdcopy nbdkit qemu-nbd jq buf bc
ROUNDS=${1:-5} GIB=${2:-16} EXTENTS=${3:-64}
DIR=$(mktemp -d /var/tmp/dmp-sparse.XXXXXX); trap 'rc_=$?; rm -rf "$DIR"; set +e; (exit $rc_); _cleanup' EXIT
truncate -s "${GIB}G" "$DIR/sparse.img"
/usr/bin/python3 - "$DIR/sparse.img" "$GIB" "$EXTENTS" <<'PY'
import os, sys
path, gib, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_WRONLY)
step = (gib << 30) // n
for i in range(n):
    os.pwrite(fd, os.urandom(1 << 20), i * step + (step // 2 & ~0xfffff))
os.fsync(fd)
os.close(fd)
PY
SIZE=$((GIB << 30)) DATA=$((EXTENTS << 20))
echo "# $GIB GiB file, $EXTENTS data extents of 1 MiB ($DATA bytes), $(( $(stat -c '%b * %B' "$DIR/sparse.img") )) bytes allocated"

declare -A URI PID
start_controller
start_agent dmp -Ddmp.agent.allowed-paths="$DIR"
rpc CreateVolume "{\"host\":\"dmp\",\"name\":\"v\",\"file\":{\"path\":\"$DIR/sparse.img\"}}" > /dev/null
URI[dmp]="nbd+unix:///v?socket=$NBD_SOCK" PID[dmp]=$AGENT_PID
SERVERS="dmp"
start_agent dmp-simple -Ddmp.agent.allowed-paths="$DIR" -Ddmp.agent.nbd-structured-replies=false
rpc CreateVolume "{\"host\":\"dmp-simple\",\"name\":\"v\",\"file\":{\"path\":\"$DIR/sparse.img\"}}" > /dev/null
URI[dmp-simple]="nbd+unix:///v?socket=$NBD_SOCK" PID[dmp-simple]=$AGENT_PID
SERVERS="$SERVERS dmp-simple"
if [ -n "${BEFORE:-}" ]; then
  AGENT_JAR=$BEFORE/quarkus-run.jar start_agent dmp-before -Ddmp.agent.allowed-paths="$DIR"
  rpc CreateVolume "{\"host\":\"dmp-before\",\"name\":\"v\",\"file\":{\"path\":\"$DIR/sparse.img\"}}" > /dev/null
  URI[dmp-before]="nbd+unix:///v?socket=$NBD_SOCK" PID[dmp-before]=$AGENT_PID
  SERVERS="$SERVERS dmp-before"
fi
nbdkit -f --exit-with-parent -r -U "$DIR/nbdkit.sock" file "$DIR/sparse.img" & PID[nbdkit]=$!; _PIDS+=($!)
qemu-nbd -f raw -r -t -e 8 -k "$DIR/qemu.sock" "$DIR/sparse.img" & PID[qemu-nbd]=$!; _PIDS+=($!)
wait_until 10 test -S "$DIR/nbdkit.sock"; wait_until 10 test -S "$DIR/qemu.sock"
URI[nbdkit]="nbd+unix:///?socket=$DIR/nbdkit.sock" URI[qemu-nbd]="nbd+unix:///?socket=$DIR/qemu.sock"
SERVERS="$SERVERS nbdkit qemu-nbd"

# What one copy through dmp moved, from its counters (READ bytes, hole bytes, BLOCK_STATUS requests, bytes).
rpc ResetStats '{"scope":"VOLUME","host":"dmp","volume":"v"}' > /dev/null
nbdcopy "${URI[dmp]}" null:
moved() {
  rpc QueryStats '{"scope":"VOLUME","host":"dmp","volume":"v"}' | jq -r '[.rows[0].ops[] | {(.op): .}] | add
    | "READ \(.OP_READ.requests) requests, \(.OP_READ.bytes) bytes (\(.OP_READ.holeBytes // "0") as holes); BLOCK_STATUS \(.OP_BLOCK_STATUS.requests) requests, \(.OP_BLOCK_STATUS.bytes) bytes"'
}
want="READ $((DATA >> 18)) requests, $DATA bytes (0 as holes); BLOCK_STATUS $(( (SIZE + (128 << 20) - 1) / (128 << 20) )) requests, $SIZE bytes"
wait_for_text 15 "one copy through dmp" "$want" moved

# One copy each first, not counted: the JVM's JIT, and the page cache of the file's holes (the first
# full read of them by a server without block status fills it: 29 s where later ones take 6).
for s in $SERVERS; do nbdcopy "${URI[$s]}" null:; done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  read -ra ORDER <<< "$SERVERS"; n=${#ORDER[@]}; k=$(( (round - 1) % n )); ORDER=("${ORDER[@]:$k}" "${ORDER[@]:0:$k}")
  for s in "${ORDER[@]}"; do
    t0=$(ticks "${PID[$s]}"); st=$(date +%s%N)
    nbdcopy "${URI[$s]}" null:
    secs=$(echo "($(date +%s%N) - $st) / 10^9" | bc -l); t1=$(ticks "${PID[$s]}")
    echo "$s $round $secs $(echo "($t1 - $t0) / $HZ" | bc -l)"
  done
  echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
done | tee "$WORK/raw.txt"
python3 - "$WORK/raw.txt" "$SERVERS" <<'PY'
import sys, statistics as st
d = {}
for line in open(sys.argv[1]):
    if line.startswith('#'):
        continue
    s, r, secs, cpu = line.split()
    d.setdefault(s, []).append((float(secs), float(cpu)))
base = st.median(x[0] for x in d['nbdkit'])
dmp = st.median(x[0] for x in d['dmp'])
print("| server | median s per copy | rounds (s) | server CPU s per copy | time / nbdkit | time / dmp |")
print("|---|---|---|---|---|---|")
for s in sys.argv[2].split():
    secs = st.median(x[0] for x in d[s])
    print("| %s | %.3f | %s | %.3f | %.2f | %.1f |" % (s, secs, " ".join("%.3f" % x[0] for x in d[s]),
          st.median(x[1] for x in d[s]), secs / base, secs / dmp))
PY
