#!/usr/bin/env bash
# Benchmark (not a test): the same fio (nbd engine) and nbdcopy workloads against dmp, 'nbdkit file'
# and 'qemu-nbd' serving the same backing file over unix sockets, servers visited round-robin per
# workload. Prints MB/s, IOPS, mean latency, the ratio dmp/nbdkit, and each server's CPU per GiB / per
# operation. "dmp-uncounted" is the same agent and volume through its benchmark-only uncounted socket
# (dmp.agent.benchmark-uncounted-socket): the summary compares counting on versus off.
# Usage: bench/run.sh [SECONDS_PER_TEST (default 10)] [SIZE_MIB (default 1024)] [ROUNDS (default 1)]
# With several rounds every figure is the median of the rounds; each round starts with the next server.
# Per workload and round dmp and dmp-uncounted run twice, as back-to-back pairs in opposite orders
# (A B ... B A): the summary gives counting on/off per pair with its spread, and the noise (the same
# server twice). 6 fio runs per workload per round: about 4-5 minutes a round at 5 s, 512 MiB.
# Needs the packaged apps (mvn package), fio with the nbd engine, nbdcopy, nbdkit, qemu-nbd.
# Method and results: docs/benchmarks.md. On 2 cores, client and server share the machine: compare
# CPU per operation, and run on an otherwise quiet machine.
. "$(dirname "$0")/../tests/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires fio nbdcopy nbdkit qemu-nbd jq buf
T=${1:-10} MIB=${2:-1024} ROUNDS=${3:-1}
DIR=$WORK; [ -d /dev/shm ] && DIR=$(mktemp -d /dev/shm/dmp-bench.XXXXXX) && trap 'rc_=$?; rm -rf "$DIR"; set +e; (exit $rc_); _cleanup' EXIT  # keeps the exit code for _cleanup
head -c $((MIB << 20)) /dev/urandom > "$DIR/disk.img"
nbd_setup -Ddmp.agent.allowed-paths="$DIR" -Ddmp.agent.benchmark-uncounted-socket="$DIR/uncounted.sock"
create_volume bench "\"file\":{\"path\":\"$DIR/disk.img\"}"
nbdkit -f --exit-with-parent -U "$DIR/nbdkit.sock" file "$DIR/disk.img" & NBDKIT_PID=$!; _PIDS+=($!)
qemu-nbd -f raw -t -x '' --shared=16 -k "$DIR/qemu.sock" "$DIR/disk.img" & QEMU_PID=$!; _PIDS+=($!)
wait_until 10 test -S "$DIR/nbdkit.sock"
wait_until 10 test -S "$DIR/qemu.sock"
wait_until 10 test -S "$DIR/uncounted.sock"
declare -A URI=([dmp]="$(uri bench)" [dmp-uncounted]="nbd+unix:///bench?socket=$DIR/uncounted.sock" [nbdkit]="nbd+unix:///?socket=$DIR/nbdkit.sock" [qemu-nbd]="nbd+unix:///?socket=$DIR/qemu.sock")
declare -A PID=([dmp]=$AGENT_PID [dmp-uncounted]=$AGENT_PID [nbdkit]=$NBDKIT_PID [qemu-nbd]=$QEMU_PID)
SERVERS="dmp dmp-uncounted nbdkit qemu-nbd"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# measure SERVER CMD...: runs CMD, sets CPU_S (server CPU seconds during it).
measure() { local s=$1 t0; shift; t0=$(ticks "${PID[$s]}"); "$@"; CPU_S=$(echo "($(ticks "${PID[$s]}") - $t0) / $HZ" | bc -l); }


# One line per measurement in $RAW: test server round MB/s IOPS mean-latency-us CPU-us-per-op
RAW=$WORK/raw.txt; : > "$RAW"
echo "# dmp bench: ${MIB} MiB file on $DIR, ${T}s per fio test, $ROUNDS round(s), $(nproc) CPUs, $(fio --version), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
for round in $(seq "$ROUNDS"); do
  # Each round starts with a different server, so that no server is always the first (JIT still warming,
  # caches as the previous server left them). dmp and dmp-uncounted are visited as an A/B pair, back to
  # back, and again at the end of each workload in the other order (A B ... B A): each round gives two
  # on/off pairs whose order effects cancel, and each of the two servers twice (the noise, same server).
  PAIR=(dmp dmp-uncounted); [ $((round % 2)) = 0 ] && PAIR=(dmp-uncounted dmp)
  UNITS=(pair nbdkit qemu-nbd); k=$(( (round - 1) % ${#UNITS[@]} ))
  ORDER=()
  for u in "${UNITS[@]:$k}" "${UNITS[@]:0:$k}"; do
    if [ "$u" = pair ]; then ORDER+=("${PAIR[0]}:1" "${PAIR[1]}:1"); else ORDER+=("$u:1"); fi
  done
  ORDER+=("${PAIR[1]}:2" "${PAIR[0]}:2")
  for spec in seqread-1M-qd8:read:1M:8 seqwrite-1M-qd8:write:1M:8 randread-4k-qd1:randread:4k:1 \
              randread-4k-qd16:randread:4k:16 randwrite-4k-qd16:randwrite:4k:16; do
    IFS=: read -r name rw bs qd <<< "$spec"
    for sv in "${ORDER[@]}"; do
      s=${sv%:*} visit=${sv#*:}
      measure "$s" fio --name="$name" --ioengine=nbd --uri="${URI[$s]}" --rw="$rw" --bs="$bs" --iodepth="$qd" \
        --numjobs=1 --time_based --runtime="$T" --ramp_time=2 --norandommap --randrepeat=0 \
        --output-format=json --output="$WORK/$name-$s.json" > /dev/null
      # CPU over the whole run (ramp included) divided by the I/Os fio counted after the ramp: an upper
      # bound, equally so for every server. Latency: fio's mean from submission to completion.
      jq -r --arg t "$name" --arg s "$s" --arg r "$round.$visit" --arg cpu "$CPU_S" '.jobs[0] |
        (.read.total_ios + .write.total_ios) as $ops |
        "\($t) \($s) \($r) \((.read.bw_bytes + .write.bw_bytes) / 1e6) \(.read.iops + .write.iops)" +
        " \((.read.lat_ns.mean + .write.lat_ns.mean) / 1000) \(($cpu | tonumber) * 1e6 / ($ops + 1e-9))"' \
        "$WORK/$name-$s.json" >> "$RAW"
    done
  done
  # nbdcopy: write the file in through each server (not timed), then read it out to null: and time that.
  for sv in "${ORDER[@]}"; do
    s=${sv%:*} visit=${sv#*:}
    [ "$visit" = 1 ] && nbdcopy --request-size=1048576 "$DIR/disk.img" "${URI[$s]}"
    start=$(date +%s.%N)
    measure "$s" nbdcopy --request-size=1048576 "${URI[$s]}" null:
    secs=$(echo "$(date +%s.%N) - $start" | bc -l)
    echo "nbdcopy-read-${MIB}M $s $round.$visit $(echo "$MIB * 1048576 / 1000000 / $secs" | bc -l) $MIB - $(echo "$CPU_S * 1000000 / $MIB" | bc -l)" >> "$RAW"
  done
done
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# The tables: per test and server the median over rounds; then dmp against nbdkit and against itself uncounted.
python3 - "$RAW" <<'PY'
import statistics, sys
rows, runs = {}, {}
for line in open(sys.argv[1]):
    t, s, rv, mbs, iops, lat, cpu = line.split()
    v = (float(mbs), float(iops), None if lat == "-" else float(lat), float(cpu))
    rows.setdefault((t, s), []).append(v)
    runs[(t, s, rv)] = v
med = {k: tuple(None if v[0][i] is None else statistics.median(x[i] for x in v) for i in range(4)) for k, v in rows.items()}
tests = list(dict.fromkeys(t for t, _ in rows)); servers = list(dict.fromkeys(s for _, s in rows))
rounds = sorted({rv.split(".")[0] for _, _, rv in runs}, key=int)
def cpu(t, c):  # c: us per operation (per MiB for nbdcopy); shown per GiB for 1 MiB requests
    return f"{c * 1024 / 1000:.0f} ms/GiB" if "1M" in t or t.startswith("nbdcopy") else f"{c:.1f} us/op"
print("| test | server | MB/s | IOPS | mean latency | x nbdkit | server CPU |")
print("|---|---|---|---|---|---|---|")
for t in tests:
    for s in servers:
        mbs, iops, lat, c = med[(t, s)]
        print(f"| {t} | {s} | {mbs:.1f} | {'' if t.startswith('nbdcopy') else f'{iops:.0f}'} | "
              f"{'' if lat is None else f'{lat:.0f} us'} | {mbs / med[(t, 'nbdkit')][0]:.2f} | {cpu(t, c)} |")
print()
print("| test | dmp / nbdkit throughput | dmp / nbdkit latency | dmp / nbdkit CPU per op |")
print("|---|---|---|---|")
for t in tests:
    d, k = med[(t, "dmp")], med[(t, "nbdkit")]
    lat = "" if d[2] is None else f"{d[2] / k[2]:.2f}"
    print(f"| {t} | {d[0] / k[0]:.2f} | {lat} | {d[3] / k[3]:.2f} |")
print()
# Counting on / off: one ratio per back-to-back pair (two per round, in opposite orders); the noise: the
# same server measured twice in a round (second visit / first), dmp's and dmp-uncounted's.
def pairs(t, i):
    return [runs[(t, "dmp", f"{r}.{v}")][i] / runs[(t, "dmp-uncounted", f"{r}.{v}")][i] for r in rounds for v in "12"]
def same(t, i):
    return [runs[(t, s, f"{r}.2")][i] / runs[(t, s, f"{r}.1")][i] for r in rounds for s in ("dmp", "dmp-uncounted")]
def q(xs):  # median and quartiles (inclusive method)
    xs = sorted(xs)
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    a, m, b = statistics.quantiles(xs, n=4, method="inclusive")
    return m, a, b
def verdict(xs, noise):
    m, a, b = q(xs)
    if 0.97 <= a and b <= 1.03:
        return "yes"
    if min(noise) <= m <= max(noise):
        return "inside the noise"
    if b < 0.97 or a > 1.03:
        return "no"
    return "not shown (spread)"
print("Counting on / off (dmp / dmp-uncounted), one ratio per back-to-back pair: median [quartiles] and min-max.")
print("Noise: the same server measured twice in a round (second visit / first), min-max.")
print()
print("| test | pairs | CPU per op on/off | min-max | throughput on/off | min-max | noise, CPU per op | noise, throughput | CPU per op within 3% |")
print("|---|---|---|---|---|---|---|---|---|")
pooled, pooled_noise = [], []
for t in tests:
    c, m, nc, nm = pairs(t, 3), pairs(t, 0), same(t, 3), same(t, 0)
    pooled += c
    pooled_noise += nc
    (cm, ca, cb), (mm, ma, mb) = q(c), q(m)
    print(f"| {t} | {len(c)} | {cm:.3f} [{ca:.3f}-{cb:.3f}] | {min(c):.3f}-{max(c):.3f} | {mm:.3f} [{ma:.3f}-{mb:.3f}] | "
          f"{min(m):.3f}-{max(m):.3f} | {min(nc):.3f}-{max(nc):.3f} | {min(nm):.3f}-{max(nm):.3f} | {verdict(c, nc)} |")
pm, pa, pb = q(pooled)
print(f"| all tests pooled | {len(pooled)} | {pm:.3f} [{pa:.3f}-{pb:.3f}] | {min(pooled):.3f}-{max(pooled):.3f} | | | | | {verdict(pooled, pooled_noise)} |")
print()
print("Targets (issue 3): throughput >= 1.0 (sequential 1 MiB, random 4 KiB at depth 16); latency <= 1.25 at depth 1;")
print("CPU per op <= 1.1; counting on / off within 3%: 'yes' when the quartiles of the pairs' CPU-per-op ratios")
print("lie within 0.97-1.03; 'inside the noise' when their median lies within the noise (the same server twice);")
print("'no' when the quartiles lie wholly outside 0.97-1.03 and the median outside the noise; else the pairs spread")
print("too widely to tell. Noise wider than 3% means the run cannot show 3%: re-run quieter or with more rounds.")
PY
echo "# raw figures (test server round.visit MB/s IOPS latency-us CPU-us-per-op): $(tr '\n' ';' < "$RAW")" | head -c 100000
