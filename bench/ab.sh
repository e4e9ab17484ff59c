#!/usr/bin/env bash
# Benchmark (not a test): before/after of agent builds by server CPU per operation, back to back.
# Starts one standalone agent per variant (each with a file volume on the same file in /dev/shm) and
# nbdkit, and runs each fio workload on every server in turn, round after round, each round starting
# with the next server. Prints per workload the median MB/s and CPU per op (us; per MiB for copy),
# the per-round values, and each variant's CPU per op against the first's, per round and median.
# Usage: VARIANTS='NAME|APP_DIR|JVM_OPTS;NAME|APP_DIR|JVM_OPTS...' bench/ab.sh [SECONDS] [ROUNDS] [MIB] [WORKLOADS]
#   APP_DIR: a copy of agent/target/quarkus-app (e.g. cp -r it to /tmp/dmp-before before a change).
#   WORKLOADS: space-separated NAME:RW:BS:DEPTH (fio) or NAME:copy (nbdcopy read to null:).
. "$(dirname "$0")/../tests/lib.sh"
requires fio nbdcopy nbdkit jq buf
[ -n "${VARIANTS:-}" ] || fail "set VARIANTS (see the usage at the top)"
T=${1:-4} ROUNDS=${2:-3} MIB=${3:-512}
WL=${4:-"seqread:read:1M:8 randwrite:randwrite:4k:16 randread16:randread:4k:16"}
DIR=$(mktemp -d /dev/shm/dmp-ab.XXXXXX); trap 'rc_=$?; rm -rf "$DIR"; set +e; (exit $rc_); _cleanup' EXIT
head -c $((MIB << 20)) /dev/urandom > "$DIR/disk.img"
declare -A URI PID
# VARIANTS: "NAME|APPDIR|OPTS;NAME|APPDIR|OPTS..."
IFS=';' read -ra VS <<< "$VARIANTS"; NAMES=""
for v in "${VS[@]}"; do IFS='|' read -r nm app opts <<< "$v"
  AGENT_JAR=$app/quarkus-run.jar start_agent $nm -Ddmp.agent.allowed-paths="$DIR" $opts
  agent_rpc CreateVolume "{\"name\":\"v\",\"file\":{\"path\":\"$DIR/disk.img\"}}" >/dev/null
  URI[$nm]="nbd+unix:///v?socket=$NBD_SOCK"; PID[$nm]=$AGENT_PID; NAMES="$NAMES $nm"
done
nbdkit -f --exit-with-parent -U "$DIR/nbdkit.sock" file "$DIR/disk.img" & PID[nbdkit]=$!; _PIDS+=($!)
wait_until 10 test -S "$DIR/nbdkit.sock"; URI[nbdkit]="nbd+unix:///?socket=$DIR/nbdkit.sock"
SERVERS="$NAMES nbdkit"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq $ROUNDS); do
  read -ra ORDER <<< "$SERVERS"; n=${#ORDER[@]}; k=$(( (round-1) % n )); ORDER=("${ORDER[@]:$k}" "${ORDER[@]:0:$k}")
  for spec in $WL; do
    IFS=: read -r name rw bs qd <<< "$spec"
    for s in "${ORDER[@]}"; do
      if [ "$rw" = copy ]; then
        t0=$(ticks ${PID[$s]}); st=$(date +%s.%N)
        nbdcopy --request-size=1048576 "${URI[$s]}" null:
        t1=$(ticks ${PID[$s]}); secs=$(echo "$(date +%s.%N) - $st" | bc -l)
        echo "$name $s $round $(echo "$MIB*1.048576/$secs" | bc -l) $(echo "($t1-$t0)/$HZ*1000*1024/$MIB" | bc -l)"
        continue
      fi
      t0=$(ticks ${PID[$s]})
      fio --name=$name --ioengine=nbd --uri="${URI[$s]}" --rw=$rw --bs=$bs --iodepth=$qd --numjobs=1 --time_based \
        --runtime=$T --ramp_time=1 --norandommap --randrepeat=0 --output-format=json --output=$WORK/o.json >/dev/null
      t1=$(ticks ${PID[$s]})
      jq -r --arg n $name --arg s $s --arg r $round --arg c "$(echo "($t1-$t0)/$HZ" | bc -l)" '.jobs[0] | (.read.total_ios+.write.total_ios) as $o |
        "\($n) \($s) \($r) \((.read.bw_bytes+.write.bw_bytes)/1e6) \(($c|tonumber)*1e6/$o)"' $WORK/o.json
    done
  done
  echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
done | tee $WORK/raw.txt
python3 - $WORK/raw.txt "$NAMES" <<'PY'
import sys, statistics as st
d={}
names=sys.argv[2].split()
for l in open(sys.argv[1]):
    if l.startswith('#'): continue
    n,s,r,mb,c=l.split(); d.setdefault((n,s),[]).append((float(mb),float(c)))
for n in dict.fromkeys(k[0] for k in d):
    row=[]
    for s in names+["nbdkit"]:
        if (n,s) in d:
            v=d[(n,s)]; row.append(f"{s}: {st.median(x[0] for x in v):8.1f} MB/s cpu {st.median(x[1] for x in v):8.1f} [{' '.join('%.1f'%x[1] for x in v)}]")
    print(n, ' | '.join(row))
    a=[x[1] for x in d[(n,names[0])]]
    for o in names[1:]+['nbdkit']:
        b=[x[1] for x in d[(n,o)]]
        print(f"   {o}/{names[0]} cpu per round: {' '.join('%.3f'%(y/x) for x,y in zip(a,b))}  median {st.median(y/x for x,y in zip(a,b)):.3f}")
    k=[x[1] for x in d[(n,'nbdkit')]]
    for o in names:
        b=[x[1] for x in d[(n,o)]]
        print(f"   {o}/nbdkit cpu per round: {' '.join('%.3f'%(y/x) for x,y in zip(k,b))}  median {st.median(y/x for x,y in zip(k,b)):.3f}")
PY
