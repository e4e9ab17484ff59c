#!/usr/bin/env bash
# Where backends may point, and where NBD clients may connect. A file backend outside
# dmp.agent.allowed-paths - directly, through '..', or through a symbolic link - is refused with
# PERMISSION_DENIED and a message naming the key, and no volume appears; a listed exact path (as for a
# block device) and anything inside a listed directory are accepted. The unix socket is mode 0660.
# The TCP listener is off by default and, when configured, binds only dmp.agent.nbd-bind.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdsh nbdinfo jq buf
mkdir -p "$WORK/images" "$WORK/other"
truncate -s 1M "$WORK/images/a.img" "$WORK/other/exact.img" "$WORK/other/secret.img"
ln -s "$WORK/other/secret.img" "$WORK/images/link.img"
NBD_PORT=$(free_port)
nbd_setup -Ddmp.agent.allowed-paths="$WORK/images,$WORK/other/exact.img" -Ddmp.agent.nbd-port="$NBD_PORT"

expect_eq "socket mode" 660 "$(stat -c %a "$NBD_SOCK")"

refused() {
  if rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"$1\",\"file\":{\"path\":\"$2\"}}" > /dev/null 2> "$WORK/err-$1.json"; then
    fail "$1: $2 was accepted"
  fi
  expect_eq "$1: status" permission_denied "$(jq -r .code "$WORK/err-$1.json")"
  jq -r .message "$WORK/err-$1.json" | grep -q "dmp.agent.allowed-paths" || fail "$1: message does not name the key"
}
refused outside "$WORK/other/secret.img"
refused dotdot "$WORK/images/../other/secret.img"
refused symlink "$WORK/images/link.img"
refused state "$STATE/../nbd.sock"
create_volume inside "\"file\":{\"path\":\"$WORK/images/a.img\"}"
create_volume exact "\"file\":{\"path\":\"$WORK/other/exact.img\"}"
expect_eq "volumes" "exact inside" "$(rpc ListVolumes '{"host":"node-a"}' | jq -r '[.volumes[].name] | join(" ")')"

# TCP: reachable on the configured loopback address only (the default nbd-bind is 127.0.0.1).
nbdsh -u "nbd://127.0.0.1:$NBD_PORT/inside" -c 'h.pwrite(b"t" * 512, 0); assert h.pread(512, 0) == b"t" * 512'
expect_eq "TCP listener address" "127.0.0.1:$NBD_PORT" \
  "$(ss -Hltn "sport = :$NBD_PORT" | awk '{print $4}')"
expect_stats inside 1 512 1 512
log "PASS"
