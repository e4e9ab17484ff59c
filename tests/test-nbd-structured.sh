#!/usr/bin/env bash
# Structured replies (NBD_OPT_STRUCTURED_REPLY) as libnbd's nbdsh receives them, chunk by chunk
# (pread_structured's callback sees each chunk's offset, length and kind):
#   - a READ of a file's hole arrives as OFFSET_HOLE; of data and holes, as their chunks in order; with
#     NBD_CMD_FLAG_DF, as one data chunk; memory and zero volumes' unwritten ranges as holes;
#   - with structured replies off (h.set_request_structured_replies(False)) the same bytes arrive;
#   - errors are error chunks with dmp's message: a READ past the end; a READ whose upstream fails; a
#     READ whose backing file was truncated under it, after sendfile began (ERROR_OFFSET at the exact
#     byte, the connection goes on);
#   - counters: READ bytes are what the client asked for, data and holes alike; hole bytes are those
#     sent as holes, in QueryStats and in the agent's /q/metrics; /stat/volumes keeps its old text.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdsh nbdkit jq buf curl
nbd_setup

# 8 MiB: data (bytes "x") at [1 MiB, 2 MiB) and [4 MiB, 4 MiB + 64 KiB), holes elsewhere.
truncate -s 8M "$STATE/sparse.img"
/usr/bin/python3 - "$STATE/sparse.img" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"x" * (1 << 20), 1 << 20)
os.pwrite(fd, b"x" * (64 << 10), 4 << 20)
os.fsync(fd)
os.close(fd)
PY
create_volume sp "\"file\":{\"path\":\"$STATE/sparse.img\"}"
create_volume mem '"memory":{"sizeBytes":"8388608"}'
create_volume z '"zero":{"sizeBytes":"1073741824"}'

# chunks(count, offset, flags): prints each chunk as "offset length kind" and checks the bytes
# reassembled: data chunks are "x" in the sparse file, holes are zeroes.
CHUNKS='
KIND = {nbd.READ_DATA: "data", nbd.READ_HOLE: "hole", nbd.READ_ERROR: "error"}
def chunks(count, offset, flags=0):
    seen = []
    def cb(sub, off, status, err):
        seen.append("%d %d %s" % (off, len(sub), KIND[status]))
        return 0
    buf = h.pread_structured(count, offset, cb, flags)
    return seen, buf
'
out=$(nbdsh -u "$(uri sp)" -c "$CHUNKS" -c '
print("NEGOTIATED", h.get_structured_replies_negotiated())
seen, buf = chunks(1 << 20, 0)
print("HOLE", seen, buf == bytes(1 << 20))
seen, buf = chunks(2 << 20, 0)
print("MIXED", seen, buf == bytes(1 << 20) + b"x" * (1 << 20))
seen, buf = chunks(2 << 20, 0, nbd.CMD_FLAG_DF)
print("DF", seen, buf == bytes(1 << 20) + b"x" * (1 << 20))
seen, buf = chunks(4 << 20, 3 << 20)
print("TAIL", seen, buf == bytes(1 << 20) + b"x" * (64 << 10) + bytes((3 << 20) - (64 << 10)))
')
expect_eq "structured replies negotiated" "NEGOTIATED True" "$(grep '^NEGOTIATED' <<<"$out")"
expect_eq "READ 1 MiB of a hole: one OFFSET_HOLE" "HOLE ['0 1048576 hole'] True" "$(grep '^HOLE' <<<"$out")"
expect_eq "READ 2 MiB from 0: the hole, then the data" "MIXED ['0 1048576 hole', '1048576 1048576 data'] True" \
  "$(grep '^MIXED' <<<"$out")"
expect_eq "the same READ with NBD_CMD_FLAG_DF: one data chunk, zeroes included" "DF ['0 2097152 data'] True" \
  "$(grep '^DF' <<<"$out")"
expect_eq "READ 4 MiB from 3 MiB: hole, data, hole" \
  "TAIL ['3145728 1048576 hole', '4194304 65536 data', '4259840 3080192 hole'] True" "$(grep '^TAIL' <<<"$out")"

# Memory and zero volumes: what was never written is a hole.
out=$(nbdsh -u "$(uri mem)" -c "$CHUNKS" -c '
h.pwrite(b"m" * 65536, 131072)
seen, buf = chunks(1 << 20, 0)
print("MEM", seen, buf == bytes(131072) + b"m" * 65536 + bytes((1 << 20) - 196608))
')
expect_eq "memory volume: hole, the 64 KiB page written, hole" \
  "MEM ['0 131072 hole', '131072 65536 data', '196608 851968 hole'] True" "$(grep '^MEM' <<<"$out")"
out=$(nbdsh -u "$(uri z)" -c "$CHUNKS" -c 'seen, buf = chunks(32 << 20, 0); print("ZERO", seen, buf == bytes(32 << 20))')
expect_eq "zero volume: one hole" "ZERO ['0 33554432 hole'] True" "$(grep '^ZERO' <<<"$out")"

# Structured replies off: the same bytes, inline (libnbd reports one data "chunk" per simple reply).
out=$(nbdsh -c 'h.set_request_structured_replies(False)' -u "$(uri sp)" -c "$CHUNKS" -c '
print("NEGOTIATED", h.get_structured_replies_negotiated())
seen, buf = chunks(2 << 20, 0)
print("SIMPLE", seen, buf == bytes(1 << 20) + b"x" * (1 << 20))
')
expect_eq "structured replies off: not negotiated" "NEGOTIATED False" "$(grep '^NEGOTIATED' <<<"$out")"
expect_eq "structured replies off: READ 2 MiB, the bytes inline" "SIMPLE ['0 2097152 data'] True" "$(grep '^SIMPLE' <<<"$out")"

# Counters of sp so far: READs of 1, 2, 2 (DF), 4 and 2 (simple) MiB = 11 MiB asked; holes sent:
# 1 MiB, 1 MiB, none, 4 MiB - 64 KiB, none = 6 MiB - 64 KiB = 6225920.
read_counts() {
  rpc QueryStats '{"scope":"VOLUME","host":"node-a","volume":"sp"}' \
    | jq -c '[.rows[0].ops[] | select(.op == "OP_READ")] | .[0] // {} | [.requests, .bytes, .holeBytes, .errors]'
}
wait_for_text 15 "READ counters of sp (requests, bytes, hole bytes, errors)" '["5","11534336","6225920","0"]' read_counts
metric=$(curl -sf "http://127.0.0.1:$AGENT_PORT/q/metrics" | grep '^dmp_volume_read_hole_bytes_total{' | grep 'volume="sp"')
expect_eq "agent /q/metrics: hole bytes of sp" 6225920 "$(awk '{printf "%d", $2}' <<<"$metric")"
expect_text "/stat/volumes keeps its old text (reads and their average, holes included)" \
  "$(old_block sp 5 2306867 0 0 5 2306867)" "$(curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=sp")"

# Errors are error chunks that carry dmp's message, and the connection goes on.
# server_messages: the messages libnbd logged from the server's error chunks.
server_messages() { grep -o 'structured error server message: .*' | sed 's/^structured error server message: //'; }
out=$(LIBNBD_DEBUG=1 nbdsh -u "$(uri sp)" -c '
import errno
h.set_strict_mode(0)
try:
    h.pread(65536, (8 << 20) - 4096)
except nbd.Error as e:
    print("PAST", errno.errorcode[e.errnum])
print("AFTER", h.pread(4, 1 << 20) == b"xxxx")
' 2>&1)
expect_eq "READ past the end: NBD_EINVAL" "PAST EINVAL" "$(grep '^PAST' <<<"$out")"
expect_eq "READ past the end: the connection goes on" "AFTER True" "$(grep '^AFTER' <<<"$out")"
expect_eq "READ past the end: the error chunk's message" \
  "invalid request: READ: offset and count are out of range: offset=8384512 count=65536 size=8388608" \
  "$(server_messages <<<"$out" | head -1)"

# An empty READ (clients SHOULD NOT send one, servers SHOULD NOT disconnect): every chunk must describe
# at least one byte, so dmp answers it with the final NONE chunk alone, and the connection goes on.
expect_eq "an empty READ, then a READ of 4 bytes" "EMPTY True True" "$(nbdsh -u "$(uri sp)" -c '
h.set_strict_mode(0)
print("EMPTY", h.pread(0, 4096) == b"", h.pread(4, 1 << 20) == b"xxxx")
')"

# An upstream that fails every read: dmp's error chunk says which READ and what the upstream said.
nbdkit -f --exit-with-parent --unix "$STATE/bad.sock" --filter=error memory 8M error-pread=EIO error-pread-rate=100% \
  > "$WORK/nbdkit-bad.log" 2>&1 & _PIDS+=($!)
wait_until 10 test -S "$STATE/bad.sock"
create_volume bad "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/bad.sock\"}"
out=$(LIBNBD_DEBUG=1 nbdsh -u "$(uri bad)" -c '
import errno
try:
    h.pread(4096, 8192)
except nbd.Error as e:
    print("UPSTREAM", errno.errorcode[e.errnum])
h.pwrite(b"w" * 512, 0)
print("WRITE ok")
' 2>&1)
expect_eq "READ whose upstream fails: NBD_EIO" "UPSTREAM EIO" "$(grep '^UPSTREAM' <<<"$out")"
expect_eq "... and the connection goes on" "WRITE ok" "$(grep '^WRITE' <<<"$out")"
expect_eq "READ whose upstream fails: the error chunk's message" \
  "READ at offset 8192, length 4096 failed: upstream nbd:nbd+unix:///?socket=$STATE/bad.sock: READ at offset 8192, length 4096: NBD_EIO" \
  "$(server_messages <<<"$out" | head -1)"

# A READ of 128 KiB at 4 MiB with DF goes out by sendfile; the file is cut at 4 MiB + 1000 first, so
# sendfile stops there: the data chunk is padded, ERROR_OFFSET names byte 4195304, the next READ works.
create_volume cut "\"file\":{\"path\":\"$STATE/sparse.img\"}"
truncate -s $(( (4 << 20) + 1000 )) "$STATE/sparse.img"
out=$(LIBNBD_DEBUG=1 nbdsh -u "$(uri cut)" -c "$CHUNKS" -c '
import errno
try:
    chunks(131072, 4 << 20, nbd.CMD_FLAG_DF)
except nbd.Error as e:
    print("CUT", errno.errorcode[e.errnum])
print("AFTER", h.pread(1000, 4 << 20) == b"x" * 1000)
' 2>&1)
expect_eq "READ over the cut: NBD_EIO" "CUT EIO" "$(grep '^CUT' <<<"$out")"
expect_eq "READ over the cut: the connection goes on" "AFTER True" "$(grep '^AFTER' <<<"$out")"
msg=$(server_messages <<<"$out" | head -1)
case $msg in
  "READ at offset 4195304 failed: file backend: $STATE/sparse.img ended at 4195304"*) log "ok: the cut's message: $msg" ;;
  *) fail "the cut's message: '$msg'" ;;
esac
grep -q "ended at 4195304" "$WORK/agent-node-a.log" || fail "the agent did not log the cut READ"
log "PASS"
