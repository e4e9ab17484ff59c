#!/usr/bin/env bash
# A client that sends READs and never reads the replies (dmp.agent.nbd-write-timeout, 5 s here): the
# agent's reply writes block on the full socket, and 5 s later it disconnects that client, with a log
# line naming the setting, and frees its workers. Meanwhile and after, another volume is served; the
# volume the deaf client read is intact (its backing file's checksum unchanged).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires nbdcopy jq buf
MiB=1048576
nbd_setup -Ddmp.agent.nbd-write-timeout=5s

head -c $((64 * MiB)) /dev/urandom > "$STATE/deaf.img"
want=$(sha256sum < "$STATE/deaf.img")
create_volume deaf "\"file\":{\"path\":\"$STATE/deaf.img\"}"
create_volume other '"memory":{"sizeBytes":"67108864"}'
head -c $((64 * MiB)) /dev/urandom > "$WORK/in.img"
metric() { curl -sf "http://127.0.0.1:$AGENT_PORT/q/metrics" | awk -v m="$1" '$1 == m {print int($2)}'; }
# Workers whose stack is in a reply (writing one, or waiting for the connection's reply lock).
in_replies() { "$(dirname "$JAVA")/jstack" "$AGENT_PID" | awk '/^"/ {t=$1} /dev\.dmp\.agent\.nbd\.Replies\./ {print t}' | sort -u | wc -l; }

# 64 READs of 1 MiB, then silence until stdin closes; then it reads what the socket still holds
# and says how the connection ended.
# (The script goes to a file: its stdin is the pipe that says when to stop being deaf.)
cat > "$WORK/deaf.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
def exactly(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("closed in the handshake")
        b += c
    return b
exactly(18); s.sendall(struct.pack(">I", 3))
name = b"deaf"; data = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
s.sendall(struct.pack(">QII", 0x49484156454F5054, 7, len(data)) + data)
while True:
    _, _, rtype, n = struct.unpack(">QIII", exactly(20)); exactly(n)
    if rtype == 1: break
for i in range(64):
    s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 0, i, i * 1048576, 1048576))
print("sent", flush=True)
sys.stdin.read()
got = 0
try:
    while True:
        c = s.recv(1 << 20)
        if not c: break
        got += len(c)
    print(f"closed after {got} bytes", flush=True)
except ConnectionResetError:
    print(f"reset after {got} bytes", flush=True)
PY
coproc DEAF { exec python3 "$WORK/deaf.py" "$NBD_SOCK"; }
_PIDS+=("$DEAF_PID")
read -r -t 30 -u "${DEAF[0]}" sent && [ "$sent" = sent ] || fail "the deaf client did not get its requests out"
log "the deaf client sent 64 READs of 1 MiB and reads nothing"
stuck_on_replies() { [ "$(in_replies)" -ge 1 ]; }
wait_until 4 stuck_on_replies
log "workers stuck on its replies: $(in_replies)"

# Another volume is served while the deaf client's replies are stuck.
timeout 60 nbdcopy "$WORK/in.img" "$(uri other)" || fail "nbdcopy to another volume stalled"
wait_until 20 grep -q "connection [0-9]* to deaf: the client has not read its replies for 5000 ms (dmp.agent.nbd-write-timeout); disconnecting it" \
  "$WORK/agent-node-a.log"
log "ok: the agent disconnected the deaf client after the write timeout"
wait_for_text 10 "NBD connections open once it is gone" 0 metric dmp_agent_nbd_connections
expect_eq "workers stuck on replies once it is gone" 0 "$(in_replies)"

exec {DEAF[1]}>&-
read -r -t 30 -u "${DEAF[0]}" ended || fail "the deaf client did not see its connection end"
log "the deaf client, reading at last: $ended"
[[ "$ended" =~ ^(closed|reset)\ after\ ([0-9]+)\ bytes$ ]] || fail "unexpected end: $ended"
[ "${BASH_REMATCH[2]}" -lt $((64 * MiB)) ] || fail "the deaf client got every reply: it was not cut off"

expect_eq "the deaf client's volume is intact" "$want" "$(sha256sum < "$STATE/deaf.img")"
nbdcopy "$(uri other)" "$WORK/out.img" && cmp "$WORK/in.img" "$WORK/out.img" || fail "the other volume came back different"
nbdcopy "$(uri deaf)" "$WORK/deaf-out.img"
expect_eq "the deaf volume still serves its data" "$want" "$(sha256sum < "$WORK/deaf-out.img")"
log "PASS"
