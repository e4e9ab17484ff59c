#!/usr/bin/env bash
# The controller's dashboard at /, driven in headless chromium (Playwright) as a person would:
# numbers equal the API's and the I/O sent, they move while I/O runs, host filter, reset, create,
# delete, an offline host, desktop and phone screenshots (kept in tests/artifacts/test-dashboard/).
# The controller requires a token: the page asks for it once, at the first change. A sparse file
# volume's read and block status query show in the Block status card and the table's holes column.
DMP_TOKEN=dash-$RANDOM$RANDOM # lib.sh's rpc sends it
. "$(dirname "$0")/lib.sh"
requires nbdsh jq curl buf node chromium
DRIVER=$TESTS_DIR/dashboard
[ -d "$DRIVER/node_modules/playwright-core" ] || skip "needs playwright-core: run 'npm ci --prefix tests/dashboard' (scripts/install-tools.sh does)"
ARTIFACTS=$ROOT/tests/artifacts/$TEST_NAME
mkdir -p "$ARTIFACTS"

start_controller -Ddmp.auth.token="$DMP_TOKEN"
start_agent node-b -Ddmp.auth.token="$DMP_TOKEN"
AGENT_B_PID=$AGENT_PID; SOCK_B=$NBD_SOCK
start_agent node-a -Ddmp.auth.token="$DMP_TOKEN"
SOCK_A=$NBD_SOCK

truncate -s 16M "$WORK/disk.img"
rpc CreateVolume '{"host":"node-a","name":"dmp1","zero":{"sizeBytes":"67108864"}}' >/dev/null
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp2\",\"file\":{\"path\":\"$WORK/disk.img\"}}" >/dev/null
rpc CreateVolume '{"host":"node-b","name":"dmp3","zero":{"sizeBytes":"1073741824"}}' >/dev/null

# Known I/O: dmp1 3 writes of 4 KiB and 2 reads of 8 KiB (total 5, avg 5734); dmp2 one 1 MiB write.
nbdsh -u "nbd+unix:///dmp1?socket=$SOCK_A" -c '
for i in range(3): h.pwrite(b"a" * 4096, i * 4096)
for i in range(2): h.pread(8192, i * 8192)'
nbdsh -u "nbd+unix:///dmp2?socket=$SOCK_A" -c 'h.pwrite(b"b" * 1048576, 0)'

# dmp4, a sparse 8 MiB file with data at [1 MiB, 2 MiB) only: one 2 MiB READ from 0 with structured
# replies (nbdsh negotiates them) sends [0, 1 MiB) as a hole (2,097,152 bytes read, 1,048,576 of them
# as holes), and one base:allocation query of the whole file is 1 BLOCK_STATUS request of 8,388,608 bytes.
truncate -s 8M "$WORK/sparse.img"
/usr/bin/python3 - "$WORK/sparse.img" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"x" * 1048576, 1048576)
os.fsync(fd)
os.close(fd)
PY
rpc CreateVolume "{\"host\":\"node-a\",\"name\":\"dmp4\",\"file\":{\"path\":\"$WORK/sparse.img\"}}" >/dev/null
nbdsh -u "nbd+unix:///dmp4?socket=$SOCK_A" -c '
assert h.get_structured_replies_negotiated()
assert h.pread(2097152, 0) == bytes(1048576) + b"x" * 1048576'
nbdsh --base-allocation -u "nbd+unix:///dmp4?socket=$SOCK_A" -c 'h.block_status(8388608, 0, lambda *a: 0)'

# Paced I/O for the live part: ~8 s of 4 KiB writes and reads, about 100 of each a second.
export IO_CMD="PATH=/usr/bin:\$PATH nbdsh -u 'nbd+unix:///dmp3?socket=$SOCK_B' -c '
import time
end = time.time() + 8
while time.time() < end:
    h.pwrite(b\"c\" * 4096, 0); h.pread(65536, 0); time.sleep(0.01)'"

BASE=http://$CONTROLLER ARTIFACTS=$ARTIFACTS AGENT_B_PID=$AGENT_B_PID TOKEN=$DMP_TOKEN \
  node "$DRIVER/drive.mjs" 2>&1 | tee "$WORK/drive.log"
for f in desktop phone; do [ -s "$ARTIFACTS/$f.png" ] || fail "no $f screenshot"; done
log "ok: screenshots in tests/artifacts/$TEST_NAME/"
