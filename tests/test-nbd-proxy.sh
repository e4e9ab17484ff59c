#!/usr/bin/env bash
# The nbd backend in front of nbdkit: an unreachable or mute upstream is refused at CreateVolume with a
# clear message; a read-only upstream makes a read-only volume (NBD_EPERM for writes); an upstream without
# WRITE_ZEROES gets zeroes written for it, and FAST_ZERO fails fast with NBD_ENOTSUP; when the upstream
# dies its volume answers NBD_EIO and the agent carries on serving the others. The stats count what the
# client sent, not what dmp sent upstream.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdkit nbdsh nbdinfo jq buf
nbd_setup

touch "$STATE/stale.sock"   # a socket path nobody listens on
if rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"gone\",\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/stale.sock\"}}" \
    > /dev/null 2> "$WORK/err.json"; then fail "a volume on an unreachable upstream was created"; fi
expect_eq "unreachable upstream: status" failed_precondition "$(jq -r .code "$WORK/err.json")"
jq -r .message "$WORK/err.json" | grep -q "cannot reach" || fail "unreachable upstream: message: $(cat "$WORK/err.json")"
# An upstream that accepts the connection and never speaks: refused after the 10 s handshake limit.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()
c, _ = s.accept(); c.recv(1)' "$STATE/mute.sock" & _PIDS+=($!)
wait_until 10 test -S "$STATE/mute.sock"
if rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"mute\",\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/mute.sock\"}}" \
    > /dev/null 2> "$WORK/err3.json"; then fail "a volume on a mute upstream was created"; fi
jq -r .message "$WORK/err3.json" | grep -q "no NBD handshake" || fail "mute upstream: message: $(cat "$WORK/err3.json")"
log "ok: mute upstream refused: $(jq -r .message "$WORK/err3.json")"
if rpc CreateVolume '{"host":"node-a","name":"bad","nbd":{"uri":"nbds://example.com/x"}}' > /dev/null 2> "$WORK/err2.json"; then
  fail "an nbds:// URI was accepted"; fi
expect_eq "TLS URI: status" invalid_argument "$(jq -r .code "$WORK/err2.json")"

nbdkit -f --exit-with-parent -r --unix "$STATE/ro.sock" memory 1M > "$WORK/nbdkit-ro.log" 2>&1 & _PIDS+=($!)
nbdkit -f --exit-with-parent --unix "$STATE/nz.sock" --filter=nozero memory 1M > "$WORK/nbdkit-nz.log" 2>&1 &
NZ_PID=$!; _PIDS+=($NZ_PID)
wait_until 10 test -S "$STATE/ro.sock"
wait_until 10 test -S "$STATE/nz.sock"
create_volume ro "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/ro.sock\"}"
create_volume nz "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/nz.sock\"}"
create_volume m1 '"memory":{"sizeBytes":"1048576"}'
expect_eq "volume on a read-only upstream is read-only" true "$(jq -r .volume.readOnly "$WORK/create-ro.json")"

nbdsh -u "$(uri ro)" -c '
import errno
h.set_strict_mode(0)
assert h.is_read_only()
try:
    h.pwrite(b"x" * 512, 0); raise AssertionError("write on a read-only upstream succeeded")
except nbd.Error as e:
    assert e.errnum == errno.EPERM, e.string
assert h.pread(512, 0) == bytes(512)
'
nbdsh -u "$(uri nz)" -c '
import errno
h.pwrite(b"y" * 65536, 0)
try:
    h.zero(65536, 0, nbd.CMD_FLAG_FAST_ZERO); raise AssertionError("fast zero succeeded without upstream support")
except nbd.Error as e:
    assert e.errnum == errno.ENOTSUP, e.string
assert h.pread(65536, 0) == b"y" * 65536, "a failed fast zero changed the data"
h.zero(65536, 0)
assert h.pread(65536, 0) == bytes(65536)
'
expect_stats ro 1 512 0 0
expect_stats nz 2 131072 1 65536

# Over TCP (nbd://HOST:PORT/EXPORT) as well as unix sockets.
TCP_PORT=$(free_port)
nbdkit -f --exit-with-parent -i 127.0.0.1 -p "$TCP_PORT" memory 1M > "$WORK/nbdkit-tcp.log" 2>&1 & _PIDS+=($!)
wait_until 10 nbdinfo --size "nbd://127.0.0.1:$TCP_PORT/"
create_volume tcp "\"nbd\":{\"uri\":\"nbd://127.0.0.1:$TCP_PORT/\"}"
nbdsh -u "$(uri tcp)" -c 'h.pwrite(b"q" * 4096, 8192); assert h.pread(4096, 8192) == b"q" * 4096'
expect_stats tcp 1 4096 1 4096

# The upstream dies: its volume fails requests with EIO, the others carry on.
kill -KILL "$NZ_PID"; wait "$NZ_PID" 2>/dev/null || true
nbdsh -u "$(uri nz)" -c '
import errno
try:
    h.pread(512, 0); raise AssertionError("read from a dead upstream succeeded")
except nbd.Error as e:
    assert e.errnum == errno.EIO, e.string
'
nbdsh -u "$(uri m1)" -c 'h.pwrite(b"z" * 512, 0); assert h.pread(512, 0) == b"z" * 512'
expect_stats m1 1 512 1 512
log "PASS"
