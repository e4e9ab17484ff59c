#!/usr/bin/env bash
# Benchmark (not a test): the same fio (nbd engine) and nbdcopy workloads against dmp, 'nbdkit file'
# and 'qemu-nbd' serving the same backing file over unix sockets, servers visited round-robin per
# workload. Prints MB/s, IOPS, the ratio dmp/nbdkit, and each server's CPU per GiB / per operation.
# Usage: bench/run.sh [SECONDS_PER_TEST (default 10)] [SIZE_MIB (default 1024)]
# Needs the packaged apps (mvn package), fio with the nbd engine, nbdcopy, nbdkit, qemu-nbd.
# Method and results: docs/benchmarks.md. On 2 cores, client and server share the machine: compare
# CPU per operation, and run on an otherwise quiet machine.
. "$(dirname "$0")/../tests/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires fio nbdcopy nbdkit qemu-nbd jq buf
T=${1:-10} MIB=${2:-1024}
DIR=$WORK; [ -d /dev/shm ] && DIR=$(mktemp -d /dev/shm/dmp-bench.XXXXXX) && trap 'rm -rf "$DIR"; _cleanup' EXIT
head -c $((MIB << 20)) /dev/urandom > "$DIR/disk.img"
nbd_setup -Ddmp.agent.allowed-paths="$DIR"
create_volume bench "\"file\":{\"path\":\"$DIR/disk.img\"}"
nbdkit -f --exit-with-parent -U "$DIR/nbdkit.sock" file "$DIR/disk.img" & NBDKIT_PID=$!; _PIDS+=($!)
qemu-nbd -f raw -t -x '' --shared=16 -k "$DIR/qemu.sock" "$DIR/disk.img" & QEMU_PID=$!; _PIDS+=($!)
wait_until 10 test -S "$DIR/nbdkit.sock"
wait_until 10 test -S "$DIR/qemu.sock"
declare -A URI=([dmp]="$(uri bench)" [nbdkit]="nbd+unix:///?socket=$DIR/nbdkit.sock" [qemu-nbd]="nbd+unix:///?socket=$DIR/qemu.sock")
declare -A PID=([dmp]=$AGENT_PID [nbdkit]=$NBDKIT_PID [qemu-nbd]=$QEMU_PID)
SERVERS="dmp nbdkit qemu-nbd"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# measure SERVER CMD...: runs CMD, sets CPU_S (server CPU seconds during it).
measure() { local s=$1 t0; shift; t0=$(ticks "${PID[$s]}"); "$@"; CPU_S=$(echo "($(ticks "${PID[$s]}") - $t0) / $HZ" | bc -l); }

echo "# dmp bench: ${MIB} MiB file on $DIR, ${T}s per fio test, $(nproc) CPUs, $(fio --version), $(date -u +%FT%TZ)"
printf "| %-22s | %-8s | %9s | %9s | %8s | %14s |\n" test server MB/s IOPS "x nbdkit" "server CPU"
printf "|%s|%s|%s|%s|%s|%s|\n" "------------------------" "----------" "-----------" "-----------" "----------" "----------------"
for spec in seqread-1M-qd8:read:1M:8 seqwrite-1M-qd8:write:1M:8 randread-4k-qd1:randread:4k:1 \
            randread-4k-qd16:randread:4k:16 randwrite-4k-qd16:randwrite:4k:16; do
  IFS=: read -r name rw bs qd <<< "$spec"
  declare -A MBS=() IOPS=() CPU=()
  for s in $SERVERS; do
    measure "$s" fio --name="$name" --ioengine=nbd --uri="${URI[$s]}" --rw="$rw" --bs="$bs" --iodepth="$qd" \
      --numjobs=1 --time_based --runtime="$T" --ramp_time=2 --norandommap --randrepeat=0 \
      --output-format=json --output="$WORK/$name-$s.json" > /dev/null
    read -r MBS[$s] IOPS[$s] ops < <(jq -r '.jobs[0] | "\((.read.bw_bytes + .write.bw_bytes) / 1e6) \(.read.iops + .write.iops) \(.read.total_ios + .write.total_ios)"' "$WORK/$name-$s.json")
    # CPU over the whole run (ramp included) divided by the I/Os fio counted after the ramp: an upper bound.
    if [ "$bs" = 1M ]; then cpu=$(printf "%.0f ms/GiB" "$(echo "$CPU_S * 1000 * 1024 / ($ops + 0.000001)" | bc -l)")
    else cpu=$(printf "%.1f us/op" "$(echo "$CPU_S * 1000000 / ($ops + 0.000001)" | bc -l)"); fi
    CPU[$s]=$cpu
  done
  for s in $SERVERS; do
    printf "| %-22s | %-8s | %9.1f | %9.0f | %8.2f | %14s |\n" "$name" "$s" "${MBS[$s]}" "${IOPS[$s]}" \
      "$(echo "${MBS[$s]} / ${MBS[nbdkit]}" | bc -l)" "${CPU[$s]}"
  done
done

# nbdcopy: write the file in through each server (not timed), then read it out to null: and time that.
for s in $SERVERS; do
  nbdcopy --request-size=1048576 "$DIR/disk.img" "${URI[$s]}"
  start=$(date +%s.%N)
  measure "$s" nbdcopy --request-size=1048576 "${URI[$s]}" null:
  secs=$(echo "$(date +%s.%N) - $start" | bc -l)
  printf "| %-22s | %-8s | %9.1f | %9s | %8s | %14s |\n" "nbdcopy-read-${MIB}M" "$s" "$(echo "$MIB * 1048576 / 1000000 / $secs" | bc -l)" "" "" \
    "$(printf "%.0f ms/GiB" "$(echo "$CPU_S * 1000 * 1024 / $MIB" | bc -l)")"
done
