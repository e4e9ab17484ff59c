#!/usr/bin/env bash
# A real Prometheus (Debian's) scrapes a controller and an agent on loopback every second while nbdsh
# does known I/O, and PromQL answers exactly:
#   - increase() of request and byte counters over the I/O equals what nbdsh did, on both apps;
#   - histogram_quantile() of the latency histogram lands in the bucket of the latency the client saw
#     (reads of a volume proxied to nbdkit's delay filter, rdelay=40ms), and of the size histogram is
#     exactly the interpolation inside the bucket of the known 64 KiB reads; the controller's per-host
#     histograms (its default) add up the host's volumes exactly;
#   - the alerting rules load and evaluate in this Prometheus (health ok);
#   - `promtool check metrics` is clean on both /q/metrics;
#   - every metric that the Grafana dashboard and the alerting rules name is one the apps export.
# Exactness: increase() extrapolates to the ends of its range unless a sample sits on each end, so the
# range runs from a scrape before the I/O to a scrape after it (their own timestamps, in ms) and the
# query is evaluated at the second (Prometheus 2.x ranges include their start).
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires prometheus promtool nbdkit nbdsh jq curl buf
# Per-volume histograms on the controller too (its default is per host), so both apps can be compared.
start_controller -Ddmp.controller.metrics-histograms=volume
start_agent node-a
STATE=$WORK/node-a/state

nbdkit -f --exit-with-parent --unix "$STATE/slow.sock" --filter=delay memory 16M rdelay=40ms > "$WORK/nbdkit.log" 2>&1 &
_PIDS+=($!)
wait_until 10 test -S "$STATE/slow.sock"
create_volume mem '"memory":{"sizeBytes":"67108864"}'
create_volume slow "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/slow.sock\"}"

PPORT=$(free_port)
cat > "$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/monitoring/dmp-alerts.rules.yaml
scrape_configs:
  - job_name: dmp-controller
    metrics_path: /q/metrics
    static_configs: [{targets: ["$CONTROLLER"]}]
  - job_name: dmp-agent
    metrics_path: /q/metrics
    static_configs: [{targets: ["127.0.0.1:$AGENT_PORT"]}]
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" --web.listen-address="127.0.0.1:$PPORT" \
  --log.level=warn > "$WORK/prometheus.log" 2>&1 &
_PIDS+=($!)
PROM=http://127.0.0.1:$PPORT

# pq QUERY [TIME]: the instant query's result vector, as JSON.
pq() {
  curl -sf "$PROM/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} | jq -c '.data.result'
}
# pv QUERY [TIME]: the single value of an instant query ("" when there is none).
pv() { pq "$@" | jq -r 'if length == 1 then .[0].value[1] else "" end'; }
scraped() { [ "$(pv "up{job=\"$1\"}")" = 1 ]; }
wait_until 60 scraped dmp-controller
wait_until 30 scraped dmp-agent
log "ok: Prometheus $(prometheus --version 2>&1 | head -n 1 | cut -d' ' -f3) scrapes both apps"

# Warm-up: one write and one read on each volume, so that the controller's series (an operation's
# appear once it counted something) exist before the measured I/O.
for v in mem slow; do
  nbdsh -u "$(uri $v)" -c 'h.pwrite(b"w" * 4096, 0)' -c 'h.pread(4096, 0)'
done
expect_stats mem 1 4096 1 4096
expect_stats slow 1 4096 1 4096
# at_value JOB VOLUME OP VALUE: Prometheus' latest sample of the job's request counter has VALUE.
at_value() { [ "$(pv "dmp_volume_requests_total{job=\"$1\",volume=\"$2\",op=\"$3\"}")" = "$4" ]; }
# sample_ms JOB: the timestamp (ms) of the job's latest scrape.
sample_ms() { pv "timestamp(dmp_volume_requests_total{job=\"$1\",volume=\"mem\",op=\"write\"})" | jq -r '. | tonumber * 1000 | round'; }
declare -A T0 T1
for job in dmp-controller dmp-agent; do
  for v in mem slow; do wait_until 15 at_value $job $v read 1; done
  T0[$job]=$(sample_ms $job)
done

# The measured I/O: mem gets 40 writes of 4 KiB and 25 reads of 64 KiB; slow 20 reads of 4 KiB, each
# held 40 ms by nbdkit; the client times each read of slow.
nbdsh -u "$(uri mem)" -c '
for i in range(40):
    h.pwrite(b"m" * 4096, i * 4096)
for i in range(25):
    h.pread(65536, i * 65536)
'
nbdsh -u "$(uri slow)" -c '
import time
took = []
for i in range(20):
    t = time.monotonic_ns()
    h.pread(4096, i * 4096)
    took.append(time.monotonic_ns() - t)
print(min(took), max(took))
' > "$WORK/slow-times"
read -r MIN_NS MAX_NS < "$WORK/slow-times"
log "client-side latency of the 20 reads of slow: $((MIN_NS / 1000)) to $((MAX_NS / 1000)) us"
expect_stats mem 26 1642496 41 167936
expect_stats slow 21 86016 1 4096
for job in dmp-controller dmp-agent; do
  wait_until 15 at_value $job mem write 41
  wait_until 15 at_value $job mem read 26
  wait_until 15 at_value $job slow read 21
  T1[$job]=$(sample_ms $job)
done

# at JOB QUERY_WITH_RANGE: the query with [R] replaced by the exact range, evaluated at the job's T1.
at() {
  local job=$1 q=$2 range=$(( T1[$1] - T0[$1] ))
  pv "${q//\[R\]/[${range}ms]}" "$(jq -n "${T1[$job]} / 1000")"
}
for job in dmp-controller dmp-agent; do
  s="job=\"$job\""
  # metric volume op: what nbdsh did
  while read -r metric vol op want; do
    expect_eq "$job: increase($metric{volume=$vol,op=$op})" "$want" \
      "$(at $job "increase($metric{$s,volume=\"$vol\",op=\"$op\"}[R])")"
  done <<'EOF'
dmp_volume_requests_total mem write 40
dmp_volume_bytes_total mem write 163840
dmp_volume_requests_total mem read 25
dmp_volume_bytes_total mem read 1638400
dmp_volume_requests_total slow read 20
dmp_volume_request_duration_seconds_count slow read 20
EOF
  # 25 reads of exactly 65536 bytes: all in the bucket (65535, 131071], so the median is its
  # interpolated middle, 65535 + 65536 * 12.5 / 25.
  expect_eq "$job: histogram_quantile(0.5) of the read sizes of mem" 98303 \
    "$(at $job "histogram_quantile(0.5, rate(dmp_volume_request_size_bytes_bucket{$s,volume=\"mem\",op=\"read\"}[R]))")"
  # The reads of slow took MIN_NS..MAX_NS at the client, so at most that in dmp: the quantiles must lie
  # in the log2 buckets (le = 2^(i+1) - 1 ns) from the one holding 40 ms (nbdkit's delay) to the one
  # holding the client's slowest read.
  lo=$(jq -n "(40000000 | log2 | floor) as \$i | (pow(2; \$i) - 1) / 1e9")
  hi=$(jq -n "($MAX_NS | log2 | floor) as \$i | (pow(2; \$i + 1) - 1) / 1e9")
  for q in 0.5 0.99; do
    got=$(at $job "histogram_quantile($q, rate(dmp_volume_request_duration_seconds_bucket{$s,volume=\"slow\",op=\"read\"}[R]))")
    jq -en "$got > $lo and $got <= $hi" >/dev/null || fail "$job: p$q latency of slow's reads is $got s, not in ($lo, $hi]"
    log "ok: $job: histogram_quantile($q) of slow's read latency = $got s, in ($lo, $hi]"
  done
done

# The controller's per-host histograms: node-a's volumes added up. Its 40 measured writes were all on
# mem, all of 4096 bytes: the median is the middle of the bucket (4095, 8191], 4095 + 4096 * 20 / 40.
s='job="dmp-controller",host="node-a"'
expect_eq "increase(dmp_host_request_size_bytes_count{host=node-a,op=write})" 40 \
  "$(at dmp-controller "increase(dmp_host_request_size_bytes_count{$s,op=\"write\"}[R])")"
expect_eq "increase(dmp_host_request_duration_seconds_count{host=node-a,op=read}): mem's 25 and slow's 20" 45 \
  "$(at dmp-controller "increase(dmp_host_request_duration_seconds_count{$s,op=\"read\"}[R])")"
expect_eq "histogram_quantile(0.5) of node-a's write sizes" 6143 \
  "$(at dmp-controller "histogram_quantile(0.5, rate(dmp_host_request_size_bytes_bucket{$s,op=\"write\"}[R]))")"

# The alerting rules loaded and were evaluated without error; none fires on this healthy pair.
rules_ok() { curl -sf "$PROM/api/v1/rules" | jq -e '[.data.groups[].rules[] | select(.health == "ok" and .lastEvaluation != "0001-01-01T00:00:00Z")] | length == 5' >/dev/null; }
wait_until 15 rules_ok
expect_eq "firing alerts" "[]" "$(curl -sf "$PROM/api/v1/alerts" | jq -c '[.data.alerts[] | select(.state == "firing") | .labels.alertname]')"

# promtool's linter on both expositions (now with histograms on both), in the text format it reads.
for target in "controller $CONTROLLER" "agent 127.0.0.1:$AGENT_PORT"; do
  set -- $target
  curl -sf -H 'Accept: text/plain; version=0.0.4' "http://$2/q/metrics" > "$WORK/$1.metrics"
  out=$(promtool check metrics < "$WORK/$1.metrics" 2>&1) || fail "promtool check metrics on the $1's /q/metrics: $out"
  [ -z "$out" ] || fail "promtool check metrics on the $1's /q/metrics: $out"
  log "ok: promtool check metrics: the $1's /q/metrics is clean ($(grep -c '^dmp_' "$WORK/$1.metrics") dmp_ samples)"
done

# Every metric the dashboard and the rules name is exported by one of the apps (a sample of it, or its
# family's # TYPE line with the suffixes its type gives).
exported=$(cat "$WORK/controller.metrics" "$WORK/agent.metrics" |
  awk '/^# TYPE / { print $3; if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" } if ($4 == "counter") print $3 "_total"; next }
       /^[a-z]/ { sub(/[{ ].*/, ""); print }' | sort -u)
named=$( { jq -r '.. | .expr? // empty' "$ROOT/deploy/monitoring/dmp-dashboard.json"
           /usr/bin/python3 -c 'import sys, yaml; [print(r["expr"]) for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]' \
             "$ROOT/deploy/monitoring/dmp-alerts.rules.yaml"; } | grep -o 'dmp_[a-z_]*' | sort -u)
[ "$(wc -l <<<"$named")" -ge 10 ] || fail "found only $(wc -l <<<"$named") metric names in the dashboard and rules"
missing=$(comm -23 <(echo "$named") <(echo "$exported"))
[ -z "$missing" ] || fail "the dashboard or the rules name metrics no app exports: $(echo $missing)"
log "ok: the $(wc -l <<<"$named") metrics the dashboard and the rules name are all exported: $(echo $named)"
log "PASS"
