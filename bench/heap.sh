#!/usr/bin/env bash
# Benchmark (not a test): the agent's memory with many volumes and connections (issue 3: heap under
# 256 MiB with 64 volumes and 256 connections). Starts a standalone agent with -Xmx$HEAP, creates
# VOLUMES file volumes (sparse files on /dev/shm), and opens CONNS NBD connections spread evenly over
# them with fio (nbd engine, one connection per fio thread) doing random 4 KiB reads and writes. Once
# every connection is open and serving, reports: connections seen by the agent, heap used (jstat), heap
# used after a full GC (the live set), committed heap, RSS, and the JVM's own breakdown (NMT) of
# heap, thread stacks and other native memory (direct payload buffers are "Other").
# Usage: bench/heap.sh [VOLUMES (default 64)] [CONNS (default 256)] [SECONDS (default 30)]
# Env: HEAP (default 256m) caps the agent's heap, so a live set over the target fails the run (OOM);
# RATE (default 100) is the IOPS of each connection, so that 256 of them leave the 2 cores able to
# take the measurements (unthrottled, jcmd took longer than the run at a load average over 100).
# LIMIT (e.g. 512m) runs the agent as its image runs in a container with that memory limit: the
# image's JVM options (agent/pom.xml's quarkus.jib.jvm-additional-arguments) and -XX:MaxRAM=LIMIT
# instead of -Xmx$HEAP. /q/metrics is scraped (every volume's histograms) before the measurement.
. "$(dirname "$0")/../tests/lib.sh"
requires fio jq buf
VOLUMES=${1:-64} CONNS=${2:-256} T=${3:-30} HEAP=${HEAP:-256m}
[ $((CONNS % VOLUMES)) = 0 ] || fail "CONNS ($CONNS) must be a multiple of VOLUMES ($VOLUMES)"
DIR=$WORK; [ -d /dev/shm ] && DIR=$(mktemp -d /dev/shm/dmp-heap.XXXXXX) && trap 'rc_=$?; rm -rf "$DIR"; set +e; (exit $rc_); _cleanup' EXIT  # keeps the exit code for _cleanup
if [ -n "${LIMIT:-}" ]; then
  read -ra MEMORY <<<"-XX:MaxRAM=$LIMIT $(sed -n 's:.*<quarkus.jib.jvm-additional-arguments>\(.*\)</quarkus.jib.jvm-additional-arguments>.*:\1:p' \
    "$ROOT/agent/pom.xml" | tr ',' ' ')"
else
  MEMORY=(-Xmx"$HEAP")
fi
start_agent node-a "${MEMORY[@]}" -XX:NativeMemoryTracking=summary -Ddmp.agent.allowed-paths="$DIR"
JOBS=$WORK/heap.fio
printf '[global]\nioengine=nbd\nthread\nrw=randrw\nbs=4k\niodepth=2\nrate_iops=%d\nnumjobs=%d\ntime_based\nruntime=%d\nnorandommap\nrandrepeat=0\n' \
  "${RATE:-100}" $((CONNS / VOLUMES)) "$T" > "$JOBS"
for i in $(seq "$VOLUMES"); do
  truncate -s 64M "$DIR/v$i.img"
  agent_rpc CreateVolume "{\"name\":\"v$i\",\"file\":{\"path\":\"$DIR/v$i.img\"}}" > /dev/null
  printf '[v%d]\nuri=nbd+unix:///v%d?socket=%s\n' "$i" "$i" "$NBD_SOCK" >> "$JOBS"
done
JCMD=$JAVA_HOME/bin/jcmd JSTAT=$JAVA_HOME/bin/jstat
# heap_used_mib: S0U + S1U + EU + OU of `jstat -gc` (KiB), whatever the collector.
heap_used_mib() { "$JSTAT" -gc "$AGENT_PID" | awk 'NR==2 {printf "%.1f", ($3 + $4 + $6 + $8) / 1024}'; }
heap_committed_mib() { "$JSTAT" -gc "$AGENT_PID" | awk 'NR==2 {printf "%.1f", ($1 + $2 + $5 + $7) / 1024}'; }
# conns: sockets the agent holds beyond those it held idle (its listeners, HTTP): the NBD connections.
sockets() { find /proc/"$AGENT_PID"/fd -lname 'socket:*' 2>/dev/null | wc -l; }
conns() { echo $(( $(sockets) - IDLE_SOCKETS )); }
readers() { cat /proc/"$AGENT_PID"/task/*/comm 2>/dev/null | grep -c '^nbd-conn' || true; }
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/"$AGENT_PID"/status; }
IDLE_USED=$(heap_used_mib) IDLE_RSS=$(rss_mib) IDLE_SOCKETS=$(sockets)
fio --output-format=json --output="$WORK/heap-fio.json" "$JOBS" > /dev/null 2> "$WORK/fio.err" & FIO=$!; _PIDS+=($FIO)
all_open() { [ "$(conns)" -ge "$CONNS" ]; }
wait_until 60 all_open
# Measured while every connection is open and serving; readers counted again after the full GC, to
# show the connections were still there for the live set.
SCRAPE=$(curl -sf -o /dev/null -w '%{size_download} bytes in %{time_total} s' "http://127.0.0.1:$AGENT_PORT/q/metrics")
SEEN=$(conns) READERS=$(readers) USED=$(heap_used_mib) COMMITTED=$(heap_committed_mib) RSS=$(rss_mib)
"$JCMD" "$AGENT_PID" GC.run > /dev/null
LIVE=$(heap_used_mib) READERS_AFTER=$(readers)
"$JCMD" "$AGENT_PID" VM.native_memory summary scale=MB > "$WORK/nmt.txt"
THREADS=$(ls /proc/"$AGENT_PID"/task | wc -l)
wait $FIO || fail "fio failed: $(tail -n 5 "$WORK/fio.err")"
# fio's nbd engine may print a line before its JSON.
sed -n '/^{/,$p' "$WORK/heap-fio.json" > "$WORK/heap-fio.clean.json"
IOPS=$(jq '[.jobs[] | .read.iops + .write.iops] | add' "$WORK/heap-fio.clean.json")
ERRS=$(jq '[.jobs[].error] | add' "$WORK/heap-fio.clean.json")
nmt() { awk -v k="$1" '$0 ~ "^-? *" k " \\(" {match($0, /committed=[0-9]+MB/); v = substr($0, RSTART + 10, RLENGTH - 12); exit} END {print v == "" ? "<1" : v}' "$WORK/nmt.txt"; }
echo "# dmp agent memory: $VOLUMES volumes, $CONNS connections (fio nbd, randrw 4k qd2 at ${RATE:-100} IOPS each), ${MEMORY[*]}, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "| volumes | connections seen (reader threads, after GC) | fio IOPS (errors) | heap used | heap live after GC | heap committed | RSS | NMT heap / thread / other (MiB) | threads |"
echo "|---|---|---|---|---|---|---|---|---|"
printf "| %s | %s (%s, %s) | %.0f (%s) | %s MiB | %s MiB | %s MiB | %s MiB | %s / %s / %s | %s |\n" "$VOLUMES" "$SEEN" "$READERS" "$READERS_AFTER" "$IOPS" "$ERRS" "$USED" "$LIVE" \
  "$COMMITTED" "$RSS" "$(nmt 'Java Heap')" "$(nmt Thread)" "$(nmt Other)" "$THREADS"
echo "idle agent before the connections: heap used $IDLE_USED MiB, RSS $IDLE_RSS MiB; peak RSS $(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' /proc/"$AGENT_PID"/status) MiB; /q/metrics scrape: $SCRAPE"
[ "$READERS" -ge "$CONNS" ] || fail "only $READERS of $CONNS connections were open when the heap was measured"
[ "$READERS_AFTER" -ge "$CONNS" ] || echo "NOTE: $READERS_AFTER of $CONNS connections were still open after the full GC" \
  "(jcmd is slow on a loaded machine): the live set was measured after fio ended; lower RATE or raise SECONDS"
[ "$ERRS" = 0 ] || fail "fio reported errors"
