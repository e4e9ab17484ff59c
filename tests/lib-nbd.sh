# Helpers for the NBD data-path scripts (tests/test-nbd-*.sh), on top of lib.sh. Source after lib.sh.
# Every volume is created through the controller, as users do: nbd_setup starts a controller and one
# agent (host node-a) whose allowed path is its state dir $STATE.

# nbd_setup [extra agent -D options...]: sets STATE (the agent's state dir) besides lib.sh's variables.
nbd_setup() {
  start_controller
  start_agent node-a "$@"
  STATE=$WORK/node-a/state
}

# create_volume NAME JSON_FIELDS: e.g. create_volume f1 '"file":{"path":"/x"},"readOnly":true'
create_volume() {
  rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"$1\",$2}" > "$WORK/create-$1.json" \
    || fail "CreateVolume $1 failed: $(cat "$WORK/create-$1.json")"
}

# uri NAME: the volume's NBD URI on the agent's unix socket.
uri() { echo "nbd+unix:///$1?socket=$NBD_SOCK"; }

# stats_line NAME: "READ_REQS READ_BYTES WRITE_REQS WRITE_BYTES" as the controller's QueryStats has them.
stats_line() {
  rpc QueryStats "{\"scope\":\"VOLUME\",\"host\":\"node-a\",\"volume\":\"$1\"}" |
    jq -r '.rows[0] | "\(.read.requests) \(.read.bytes) \(.write.requests) \(.write.bytes)"'
}

# expect_stats NAME READ_REQS READ_BYTES WRITE_REQS WRITE_BYTES: waits (bounded) for the controller to
# show exactly these counts; the agent streams deltas at least once a second.
expect_stats() {
  local want="$2 $3 $4 $5" got deadline=$(( $(date +%s) + 15 ))
  while got=$(stats_line "$1"); [ "$got" != "$want" ] && [ "$(date +%s)" -lt $deadline ]; do sleep 0.2; done
  expect_eq "stats of $1 (read reqs, bytes, write reqs, bytes)" "$want" "$got"
}
