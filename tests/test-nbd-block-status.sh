#!/usr/bin/env bash
# NBD_CMD_BLOCK_STATUS (base:allocation) with clients nobody here wrote, against what the script itself
# made, never against dmp's own code:
#   - a sparse file with known data extents: `nbdinfo --map` equals the map Python's lseek(SEEK_DATA /
#     SEEK_HOLE) reads from the backing file, and `--map --totals` its percentages; `qemu-img map` agrees;
#   - a memory volume where nbdsh wrote known pages, a zero volume (all hole,zero), a read-only volume;
#   - a volume proxied to nbdkit: the same map as nbdkit's own, and all data when the upstream has no
#     extents (nbdkit's noextents filter) or no structured replies (nbdkit --no-sr); an upstream that
#     needs 4 KiB alignment makes dmp advertise that minimum and refuse an unaligned request itself
#     (NBD_EINVAL with dmp's message);
#   - NBD_CMD_FLAG_REQ_ONE gives one extent no longer than asked; a range past the end is NBD_EINVAL;
#   - NBD_INFO_NAME and NBD_INFO_DESCRIPTION (host, name, backend);
#   - counters: BLOCK_STATUS is its own operation, its bytes the ranges queried.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdinfo nbdsh nbdkit qemu-img jq buf
nbd_setup

# A 64 MiB file with data at [1 MiB, +1 MiB), [10 MiB, +64 KiB) and [40 MiB, +8 MiB), holes elsewhere.
truncate -s 64M "$STATE/sparse.img"
/usr/bin/python3 - "$STATE/sparse.img" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
for off, n in [(1 << 20, 1 << 20), (10 << 20, 64 << 10), (40 << 20, 8 << 20)]:
    os.pwrite(fd, b"x" * n, off)
os.fsync(fd)
os.close(fd)
PY
# The file's own map, by lseek: "offset length flags" lines, 0 data, 3 hole,zero.
seek_map() {
  /usr/bin/python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size, pos = os.fstat(fd).st_size, 0
while pos < size:
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        data = size
    if data > pos:
        print(pos, data - pos, 3); pos = data; continue
    hole = os.lseek(fd, pos, os.SEEK_HOLE)
    print(pos, hole - pos, 0); pos = hole
PY
}
# nbdinfo --map as "offset length flags" lines.
map_of() { nbdinfo --map "$1" | awk '{print $1, $2, $3}'; }
create_volume sp "\"file\":{\"path\":\"$STATE/sparse.img\"}"
expect_text "nbdinfo --map of the sparse file volume = lseek's map of the file" "$(seek_map "$STATE/sparse.img")" "$(map_of "$(uri sp)")"
# 9,502,720 data bytes of 67,108,864: 14.2%, 85.8% hole,zero.
expect_text "nbdinfo --map --totals" "$(printf '%s\n' '9502720 14.2 0 data' '57606144 85.8 3 hole,zero')" \
  "$(nbdinfo --map --totals "$(uri sp)" | awk '{sub("%", "", $2); print $1, $2, $3, $4}')"
# qemu-img map over NBD says the same (data: true where nbdinfo says data).
expect_text "qemu-img map --output=json = nbdinfo --map" "$(map_of "$(uri sp)" | awk '{print $1, $2, ($3 == 0 ? "data" : "zero")}')" \
  "$(qemu-img map --output=json -f raw "$(uri sp)" | jq -r '.[] | "\(.start) \(.length) \(if .data then "data" else "zero" end)"')"

# A read-only volume on the same file answers block status too.
create_volume ro "\"file\":{\"path\":\"$STATE/sparse.img\"},\"readOnly\":true"
expect_text "nbdinfo --map of a read-only volume" "$(seek_map "$STATE/sparse.img")" "$(map_of "$(uri ro)")"

# Memory: pages of 64 KiB exist once written.
create_volume m '"memory":{"sizeBytes":"4194304"}'
nbdsh -u "$(uri m)" -c 'h.pwrite(b"y" * 65536, 0)' -c 'h.pwrite(b"y" * 131072, 1048576)'
expect_text "nbdinfo --map of a memory volume after writes at 0 (64 KiB) and 1 MiB (128 KiB)" \
  "$(printf '%s\n' '0 65536 0' '65536 983040 3' '1048576 131072 0' '1179648 3014656 3')" "$(map_of "$(uri m)")"
create_volume z '"zero":{"sizeBytes":"1073741824"}'
expect_text "nbdinfo --map of a zero volume" "0 1073741824 3" "$(map_of "$(uri z)")"

# Proxied: the upstream's own extents pass through; an upstream without extents is all data.
nbdkit -f --exit-with-parent --unix "$STATE/up.sock" memory 8M > "$WORK/nbdkit-up.log" 2>&1 & _PIDS+=($!)
nbdkit -f --exit-with-parent --unix "$STATE/flat.sock" --filter=noextents memory 8M > "$WORK/nbdkit-flat.log" 2>&1 & _PIDS+=($!)
nbdkit -f --exit-with-parent --unix "$STATE/4k.sock" --filter=blocksize-policy memory 8M \
  blocksize-minimum=4096 blocksize-error-policy=error > "$WORK/nbdkit-4k.log" 2>&1 & _PIDS+=($!)
# An upstream without structured replies at all (nbdkit --no-sr): dmp's client speaks simple replies to it.
nbdkit -f --exit-with-parent --no-sr --unix "$STATE/nosr.sock" memory 8M > "$WORK/nbdkit-nosr.log" 2>&1 & _PIDS+=($!)
for s in up flat 4k nosr; do wait_until 10 test -S "$STATE/$s.sock"; done
nbdsh -u "nbd+unix:///?socket=$STATE/up.sock" -c 'h.pwrite(b"z" * 4096, 65536)' -c 'h.pwrite(b"z" * 4096, 4194304)'
create_volume px "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/up.sock\"}"
create_volume flat "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/flat.sock\"}"
create_volume px4k "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/4k.sock\"}"
expect_text "nbdinfo --map through dmp = nbdkit's own map" "$(map_of "nbd+unix:///?socket=$STATE/up.sock")" "$(map_of "$(uri px)")"
expect_text "nbdinfo --map of a proxied volume whose upstream has no extents" "0 8388608 0" "$(map_of "$(uri flat)")"
create_volume nosr "\"nbd\":{\"uri\":\"nbd+unix:///?socket=$STATE/nosr.sock\"}"
expect_text "nbdinfo --map of a proxied volume whose upstream has no structured replies" "0 8388608 0" "$(map_of "$(uri nosr)")"
expect_eq "bytes through the upstream without structured replies" True \
  "$(nbdsh -u "$(uri nosr)" -c 'h.pwrite(b"q" * 1048576, 65536)' -c 'print(h.pread(1048576, 65536) == b"q" * 1048576)')"
expect_eq "block_size_minimum of a volume on a 4 KiB upstream" 4096 \
  "$(nbdinfo --json "$(uri px4k)" | jq '.exports[0]."block_size_minimum"')"
# An unaligned READ (the client's own checks off) is refused by dmp, with dmp's message.
out=$(LIBNBD_DEBUG=1 nbdsh -u "$(uri px4k)" -c '
h.set_strict_mode(0)
try:
    h.pread(512, 4096)
    print("RESULT read succeeded")
except nbd.Error as e:
    print("RESULT", e.errnum)
' 2>&1)
expect_eq "unaligned READ on the 4 KiB volume: error" "RESULT 22" "$(grep '^RESULT' <<<"$out")"
grep -q "server message: invalid request: READ: offset and count must be multiples of the minimum block size 4096" <<<"$out" \
  || fail "the refusal's message is not dmp's: $(grep -i message <<<"$out")"
log "ok: dmp refused the unaligned READ itself: $(grep -o 'invalid request: READ: [^"]*' <<<"$out" | head -1)"

# REQ_ONE, a range past the end, counters: nbdsh with base:allocation.
# The volume's BLOCK_STATUS counters as [requests, bytes, errors] (zeros are left out of proto JSON).
block_status_counts() {
  rpc QueryStats '{"scope":"VOLUME","host":"node-a","volume":"sp"}' \
    | jq -c '[.rows[0].ops[] | select(.op == "OP_BLOCK_STATUS")] | .[0] // {} | [(.requests // "0"), (.bytes // "0"), (.errors // "0")]'
}
# nbdinfo and qemu-img above queried too: the checks below count from here.
before=$(block_status_counts)
out=$(nbdsh --base-allocation -u "$(uri sp)" -c '
h.set_strict_mode(0)
got = []
h.block_status(8 << 20, 0, lambda ctx, off, ents, err: got.append(list(ents)), nbd.CMD_FLAG_REQ_ONE)
print("REQ_ONE", got)
got.clear()
h.block_status(4 << 20, 38 << 20, lambda ctx, off, ents, err: got.append(list(ents)))
print("PLAIN", got)
try:
    h.block_status(2 << 20, 63 << 20, lambda *a: 0)
    print("PAST ok")
except nbd.Error as e:
    print("PAST", e.errnum)
' 2>&1)
# The first 8 MiB begin with a 1 MiB hole: one extent, the hole, no longer than asked.
expect_eq "REQ_ONE: one extent" "REQ_ONE [[1048576, 3]]" "$(grep '^REQ_ONE' <<<"$out")"
expect_eq "4 MiB from 38 MiB: 2 MiB hole then 2 MiB data" "PLAIN [[2097152, 3, 2097152, 0]]" "$(grep '^PLAIN' <<<"$out")"
expect_eq "a range past the end: NBD_EINVAL" "PAST 22" "$(grep '^PAST' <<<"$out")"
# Three queries: 8 MiB and 4 MiB answered (12 MiB queried), the 2 MiB past the end refused: an error,
# not a request, and no bytes.
want=$(jq -c --argjson b "$before" -n '[($b[0] | tonumber) + 2, ($b[1] | tonumber) + 12582912, ($b[2] | tonumber) + 1] | map(tostring)')
wait_for_text 15 "BLOCK_STATUS counters after REQ_ONE 8 MiB, 4 MiB, and one refused" "$want" block_status_counts

# NBD_INFO_NAME and NBD_INFO_DESCRIPTION.
expect_eq "description" "dmp volume sp on host node-a: file:$STATE/sparse.img" \
  "$(nbdinfo --json "$(uri sp)" | jq -r '.exports[0].description')"
expect_eq "description of the read-only volume" "dmp volume ro on host node-a: file:$STATE/sparse.img, read-only" \
  "$(nbdinfo --json "$(uri ro)" | jq -r '.exports[0].description')"
log "PASS"
