#!/usr/bin/env bash
# Benchmark (not a test): what counting costs the agent per request, three ways, so that a shared,
# noisy machine can still tell whether counting on versus off is within 3% (issue 3):
# 1. Bound: bench/CountingCost.java times exactly the code a counted request runs and an uncounted one
#    does not (two clock reads, Shard.started, Shard.completed) in-process, in ns per request; beside it
#    the agent's CPU per op of each workload (part 3's uncounted side): bound = 1 + ns / CPU per op.
# 2. Profile (needs perf): one agent, its counting code kept out of line (CompileCommand dontinline, so
#    it is a method of its own: an upper bound, the calls cost a little), each workload on its counted
#    socket while `perf record -g -e cpu-clock` samples it; counting's share of the agent's CPU = the
#    samples in Shard.started/completed, TransmissionLoop.counted and the receipt's clock read, with a
#    95% interval (Poisson). A share of the same process in the same seconds: the machine's load
#    slows both parts alike, so this is the low-noise figure; on/off ratio = 1 / (1 - share). Its
#    control: the same on the uncounted socket (one workload), which must find next to nothing.
# 3. End to end, simultaneous A/B: two identical standalone agents, X and Y, each serving a file volume
#    on the same file (/dev/shm) on its normal socket (counting on) and on its uncounted socket
#    (dmp.agent.benchmark-uncounted-socket). Every run is ONE fio process with two identical jobs that
#    run AT THE SAME TIME, one on X and one on Y, so both see the same load from everything else; each
#    agent's CPU per op is its own process's CPU (all its threads, from its CPU clock) over the run
#    divided by the ops its job completed.
#      on/off run: one job on a counted socket, the other on the other agent's uncounted socket;
#                  ratio = CPU per op (counted) / CPU per op (uncounted).
#      A/A run:    both jobs on counted sockets, one side over the other: the method's own noise.
#    Each pair of runs swaps the agents (X on with Y off, then Y on with X off; the same for A/A) and
#    the pair's ratio is the geometric mean of its two runs, so a difference between the two JVMs, or
#    between fio's first and second job, cancels. Per workload: the median of the pairs' ratios with a
#    bootstrap 95% interval; the same pooled over the workloads.
# Verdict: within 3% when the profile's interval (every workload) and the end-to-end interval (pooled)
# say so; the last lines say which of them shows it.
# Usage: bench/counting.sh [SECONDS_PER_RUN (default 3)] [PAIRS (default 6)] [MIB (default 512)] [WORKLOADS]
#   WORKLOADS: space-separated NAME:RW:BS:DEPTH (fio) or NAME:copy (nbdcopy reads to null:);
#   default the six of bench/run.sh. Env PROFILE_SECONDS (default 8; 0 skips part 2); PIN=1 pins X and
#   its fio job to CPU 0, Y and its job to CPU 1 (an experiment: see docs/benchmarks.md).
# Duration: ~3 min for parts 1-2, then 6 workloads x PAIRS x 4 runs x (SECONDS + ~1 s) and a warm-up:
# 14.7 minutes at the defaults on 2 cores at load average 7-9 (less on a quiet machine); quick mode
# `bench/counting.sh 2 2 256` about 6 minutes.
# Needs the packaged apps (mvn -B -q -ntp -pl agent,controller -am package -DskipTests), fio with the
# nbd engine, nbdcopy, perf and jcmd for part 2. Method and results: docs/benchmarks.md ("Counting on
# versus off"). COUNTING_RAW=FILE keeps part 3's raw lines.
. "$(dirname "$0")/../tests/lib.sh"
requires fio nbdcopy jq buf python3
T=${1:-3} PAIRS=${2:-6} MIB=${3:-512} PROF_T=${PROFILE_SECONDS:-8}
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3  # a pyenv shim takes a second or two to start
WL=${4:-"seqread-1M-qd8:read:1M:8 seqwrite-1M-qd8:write:1M:8 randread-4k-qd1:randread:4k:1 randread-4k-qd16:randread:4k:16 randwrite-4k-qd16:randwrite:4k:16 nbdcopy-read:copy"}
DIR=$(mktemp -d /dev/shm/dmp-count.XXXXXX); trap 'rc_=$?; rm -rf "$DIR"; set +e; (exit $rc_); _cleanup' EXIT
head -c $((MIB << 20)) /dev/urandom > "$DIR/disk.img"
echo "# dmp counting on/off: ${MIB} MiB file on $DIR, $(nproc) CPUs, $(fio --version), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
# Part 1: counting's own cost per request, in-process, before any agent starts.
"$JAVA" -cp "$ROOT/agent/target/quarkus-app/app/*:$ROOT/agent/target/quarkus-app/lib/main/*" \
  "$ROOT/bench/CountingCost.java" | tee "$WORK/cost.txt" | sed 's/^/# /'
COST_NS=$(sed -n 's/^counting ns per request: //p' "$WORK/cost.txt")

# load WORKLOAD-SPEC URI SECONDS: the workload on URI for SECONDS (nbdcopy: whole-file reads, again and again).
load() {
  local name rw bs qd end
  IFS=: read -r name rw bs qd <<< "$1"
  if [ "$rw" = copy ]; then
    end=$((SECONDS + $3)); while [ $SECONDS -lt $end ]; do nbdcopy --request-size=1048576 "$2" null:; done
  else
    fio --name="$name" --ioengine=nbd --uri="$2" --rw="$rw" --bs="$bs" --iodepth="$qd" --time_based \
      --runtime="$3" --norandommap --randrepeat=0 --output-format=terse > /dev/null
  fi
}

# Part 2: counting's share of the agent's CPU under each workload, by sampling.
PROFILE=$WORK/profile.txt; : > "$PROFILE"
if [ "$PROF_T" = 0 ]; then
  echo "# profile: skipped (PROFILE_SECONDS=0)"
elif ! command -v perf > /dev/null || ! command -v jcmd > /dev/null || ! perf record -q -e cpu-clock -o /dev/null -- true 2> /dev/null; then
  echo "# profile: skipped (needs perf, allowed to sample, and jcmd)"
else
  # The agent runs under perf from its start, so that every thread it ever starts is sampled (perf -p
  # follows only the threads that exist when it attaches: a new connection's reader would be missed).
  mkdir -p "$WORK/count-P/state"; AGENT_PORT=$(free_port); NBD_SOCK=$WORK/count-P/nbd.sock
  # Sampling is off (-D -1) but in the windows, switched through perf's control fifo.
  mkfifo "$WORK/perf.ctl" "$WORK/perf.ack"
  perf record -q -g -e cpu-clock -F 1999 -k CLOCK_MONOTONIC -D -1 --control "fifo:$WORK/perf.ctl,$WORK/perf.ack" \
    -o "$WORK/perf.data" -- \
    env QUARKUS_HTTP_PORT="$AGENT_PORT" QUARKUS_HTTP_HOST=127.0.0.1 DMP_AGENT_HOST_ID=count-P DMP_AGENT_CONTROLLER= \
    DMP_AGENT_STATE_DIR="$WORK/count-P/state" DMP_AGENT_NBD_SOCKET="$NBD_SOCK" $(_token_env) "$JAVA" \
    -Ddmp.agent.allowed-paths="$DIR" -Ddmp.agent.benchmark-uncounted-socket="$DIR/P-uncounted.sock" \
    -XX:+UnlockDiagnosticVMOptions -XX:+PreserveFramePointer \
    -XX:CompileCommand=quiet '-XX:CompileCommand=dontinline,dev.dmp.agent.stats.VolumeStats$Shard::*' \
    '-XX:CompileCommand=dontinline,dev.dmp.agent.nbd.TransmissionLoop::counted' \
    '-XX:CompileCommand=dontinline,dev.dmp.agent.nbd.InputBuffer::fill' \
    -jar "$AGENT_JAR" >> "$WORK/agent-count-P.log" 2>&1 &
  PERF_PID=$!; _PIDS+=("$PERF_PID")
  wait_until "${DMP_START_TIMEOUT:-60}" curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes"
  JPID=$(pgrep -P "$PERF_PID")  # env execs java
  exec 7> "$WORK/perf.ctl" 8< "$WORK/perf.ack"
  sampling() { echo "$1" >&7; read -t 30 -r _ <&8 || fail "perf did not acknowledge '$1'"; }
  agent_rpc CreateVolume "{\"name\":\"v\",\"file\":{\"path\":\"$DIR/disk.img\"}}" > /dev/null
  wait_until 10 test -S "$DIR/P-uncounted.sock"
  for spec in $WL; do load "$spec" "nbd+unix:///v?socket=$NBD_SOCK" 3; done  # warm-up: the JIT sees every path
  # The control: one workload (4 KiB writes at depth 16 if listed) on the uncounted socket, where the
  # same classification must find (next to) nothing.
  CONTROL=$(for spec in $WL; do echo "$spec"; done | grep -m1 ':randwrite:4k:16$' || echo "${WL%% *}")
  load "$CONTROL" "nbd+unix:///v?socket=$DIR/P-uncounted.sock" 3
  PROFILES=(); for spec in $WL; do PROFILES+=("${spec%%:*}|$spec|$NBD_SOCK"); done
  PROFILES+=("${CONTROL%%:*}-uncounted|$CONTROL|$DIR/P-uncounted.sock")
  mono() { $PY -c 'import time; print(time.monotonic())'; }  # perf's -k CLOCK_MONOTONIC
  : > "$WORK/windows.txt"
  for p in "${PROFILES[@]}"; do
    IFS='|' read -r pname spec sock <<< "$p"
    load "$spec" "nbd+unix:///v?socket=$sock" $((PROF_T + 3)) & lp=$!
    sleep 2  # past fio's start-up and connection (a second or two on a loaded machine)
    sampling enable; t0=$(mono); sleep "$PROF_T"; t1=$(mono); sampling disable
    wait $lp
    echo "$pname $t0 $t1" >> "$WORK/windows.txt"
  done
  jcmd "$JPID" Compiler.perfmap > /dev/null  # /tmp/perf-PID.map: the JIT's code, for perf script
  kill "$JPID"; wait "$PERF_PID" 2> /dev/null || true; exec 7>&- 8<&-
  perf script -i "$WORK/perf.data" 2> /dev/null | $PY "$ROOT/bench/counting.py" profile "$WORK/windows.txt" > "$PROFILE"
  rm -f "/tmp/perf-$JPID.map"
  sed 's/^/# profile: /' "$PROFILE"
fi

# Part 3: end to end, the two agents at once.
declare -A URI PID CORE
for a in X Y; do
  start_agent "count-$a" -Ddmp.agent.allowed-paths="$DIR" -Ddmp.agent.benchmark-uncounted-socket="$DIR/$a-uncounted.sock"
  agent_rpc CreateVolume "{\"name\":\"v\",\"file\":{\"path\":\"$DIR/disk.img\"}}" > /dev/null
  wait_until 10 test -S "$DIR/$a-uncounted.sock"
  URI[$a-on]="nbd+unix:///v?socket=$NBD_SOCK" URI[$a-off]="nbd+unix:///v?socket=$DIR/$a-uncounted.sock" PID[$a]=$AGENT_PID
  # PIN=1 (experiment): X and its fio job on CPU 0, Y and its job on CPU 1.
  CORE[$a]=$([ $a = X ] && echo 0 || echo 1)
  [ "${PIN:-0}" = 1 ] && taskset -a -p -c "${CORE[$a]}" "$AGENT_PID" > /dev/null
done
# cpu PID...: each process's CPU time in ns, all its threads (dead ones too), from its CPU clock
# (clock_gettime of the clock id clock_getcpuclockid(PID) gives: ~PID << 3 | CPUCLOCK_SCHED);
# /proc/PID/stat counts in 10 ms ticks, 1-2 % of a 3 s run.
cpu() { $PY -c 'import sys, time; print(*(time.clock_gettime_ns((~int(p) << 3) | 2) for p in sys.argv[1:]))' "$@"; }

# run SPEC XSOCK YSOCK ON LABEL: one run of both agents at once, X on socket XSOCK (on or off), Y on
# YSOCK; ON (X or Y) is the side whose ratio to the other's is taken. JOB_A (X or Y) goes first on fio's
# command line. Appends to $RAW: workload, label, ON, then per agent X, Y: socket, ops, CPU ns, MB/s.
run() {
  local spec=$1 xs=$2 ys=$3 on=$4 label=$5 name rw bs qd x0 y0 x1 y1 ja jb
  IFS=: read -r name rw bs qd <<< "$spec"
  ja=X-$xs jb=Y-$ys; [ "$JOB_A" = Y ] && ja=Y-$ys jb=X-$xs
  local PIN_A= PIN_B=; [ "${PIN:-0}" = 1 ] && PIN_A=${CORE[${ja%-*}]} PIN_B=${CORE[${jb%-*}]}
  read -r x0 y0 <<< "$(cpu "${PID[X]}" "${PID[Y]}")"
  if [ "$rw" = copy ]; then
    # Two whole-file reads at once; CPU is taken once both have finished (an agent is idle after its own).
    nbdcopy --request-size=1048576 "${URI[$ja]}" null: & local p1=$!
    nbdcopy --request-size=1048576 "${URI[$jb]}" null: & local p2=$!
    wait $p1 && wait $p2 || fail "nbdcopy failed"
    read -r x1 y1 <<< "$(cpu "${PID[X]}" "${PID[Y]}")"
    set -- "$MIB" "$MIB" 0 0
  else
    # No ramp: CPU over the whole run against every op of the run (connection set-up is a few ms of it).
    fio --ioengine=nbd --rw="$rw" --bs="$bs" --iodepth="$qd" --time_based --runtime="${RT:-$T}" --norandommap \
      --randrepeat=0 --output-format=json --output="$WORK/o.json" \
      --name=a --uri="${URI[$ja]}" ${PIN_A:+--cpus_allowed=$PIN_A} --name=b --uri="${URI[$jb]}" ${PIN_B:+--cpus_allowed=$PIN_B} \
      > /dev/null || fail "fio failed"
    read -r x1 y1 <<< "$(cpu "${PID[X]}" "${PID[Y]}")"
    # shellcheck disable=SC2046
    set -- $(jq -r '[.jobs[] | .read.total_ios + .write.total_ios] + [.jobs[] | (.read.bw_bytes + .write.bw_bytes) / 1e6] | @tsv' "$WORK/o.json")
    [ "$JOB_A" = Y ] && set -- "$2" "$1" "$4" "$3"
  fi
  echo "$name $label $on $xs $1 $(( x1 - x0 )) $3 $ys $2 $(( y1 - y0 )) $4" >> "$RAW"
}

RAW=$WORK/raw.txt; : > "$RAW"
echo "# end to end: agents X and Y, ${T}s per run, $PAIRS pair(s) of each kind per workload, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
# Warm-up (not recorded): every workload once on both agents, counted and uncounted, so the JIT has seen
# every path on both sockets before the first measured run.
# 4 s each: C2 compiles slowly on 2 busy cores, and an agent still compiling loses its first run.
JOB_A=X RT=4
for spec in $WL; do run "$spec" on off X warmup; run "$spec" off on Y warmup; done
RT=$T
: > "$RAW"
START=$(date +%s)
for p in $(seq "$PAIRS"); do
  # Odd pairs: X is fio's first job and the four runs go on/off, on/off, A/A, A/A; even pairs: Y first and
  # the runs in the reverse order, so that order and drift cancel too.
  if [ $((p % 2)) = 1 ]; then JOB_A=X; ORDER="1 2 3 4"; else JOB_A=Y; ORDER="4 3 2 1"; fi
  for spec in $WL; do
    for i in $ORDER; do
      case $i in
        1) run "$spec" on off X "onoff.$p" ;;  # X counts, Y does not
        2) run "$spec" off on Y "onoff.$p" ;;  # Y counts, X does not
        3) run "$spec" on on X "aa.$p" ;;      # both count: X against Y
        4) run "$spec" on on Y "aa.$p" ;;      # both count: Y against X
      esac
    done
  done
  echo "# pair $p of $PAIRS done at $(( $(date +%s) - START )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "${COUNTING_RAW:-}" ] && cp "$RAW" "$COUNTING_RAW"
$PY "$ROOT/bench/counting.py" "$RAW" "$COST_NS" "$PROFILE"
