#!/usr/bin/env bash
# TLS on NBD (NBD_OPT_STARTTLS, dmp.agent.nbd-tls=require) with clients nobody here wrote, and keys
# made here (none in git): psktool's key file, certtool's CA, server and client certificates.
#   - pre-shared keys (agent node-a, unix socket and loopback TCP): nbdinfo and an 8 MiB nbdcopy round
#     trip on nbds+unix:// and nbds:// URIs with tls-psk-file, cmp'd against the source and the backing
#     file; qemu-img info with a tls-creds-psk object;
#   - X.509 with client certificates verified (agent node-b): nbdinfo and the nbdcopy round trip with
#     tls-certificates (the CA verifies the server too), qemu-img info with tls-creds-x509 and a JSON
#     nbd driver spec; a client without a certificate is refused;
#   - require: a plaintext client gets NBD_REP_ERR_TLS_REQD (qemu-img names it, libnbd shows dmp's
#     message), and NBD_OPT_EXPORT_NAME in the clear closes the connection with a log line;
#   - a wrong key fails the TLS handshake, and the next client (the right key) is served;
#   - the counters count TLS traffic like any other: exactly the 1 MiB requests nbdcopy sent.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-nbd.sh"
requires psktool certtool nbdinfo nbdcopy qemu-img jq buf ss
MiB=1048576

# --- Keys and certificates, as nbdkit's tests make them.
KEYS=$WORK/psk
PKI=$WORK/pki
mkdir -p "$KEYS" "$PKI" "$WORK/wrong" "$WORK/anonymous"
# qemu's tls-creds-psk reads DIR/keys.psk.
psktool -u alice -p "$KEYS/keys.psk" > /dev/null
psktool -u alice -p "$WORK/wrong/keys.psk" > /dev/null
cert() { # cert NAME TEMPLATE-LINES...: NAME-key.pem and NAME-cert.pem, signed by the CA
  local name=$1; shift
  certtool --generate-privkey --outfile "$PKI/$name-key.pem" > /dev/null 2>&1
  printf '%s\n' "$@" 'expiration_days = 1' > "$PKI/$name.info"
  certtool --generate-certificate --load-ca-certificate "$PKI/ca-cert.pem" --load-ca-privkey "$PKI/ca-key.pem" \
    --load-privkey "$PKI/$name-key.pem" --template "$PKI/$name.info" --outfile "$PKI/$name-cert.pem" > /dev/null 2>&1
}
certtool --generate-privkey --outfile "$PKI/ca-key.pem" > /dev/null 2>&1
printf '%s\n' 'cn = dmp test CA' ca cert_signing_key 'expiration_days = 1' > "$PKI/ca.info"
certtool --generate-self-signed --load-privkey "$PKI/ca-key.pem" --template "$PKI/ca.info" \
  --outfile "$PKI/ca-cert.pem" > /dev/null 2>&1
cert server 'organization = dmp test' 'cn = localhost' 'dns_name = localhost' 'ip_address = 127.0.0.1' \
  tls_www_server encryption_key signing_key
cert client 'organization = dmp test' 'cn = alice' tls_www_client encryption_key signing_key
# A client that trusts the CA but has no certificate of its own.
cp "$PKI/ca-cert.pem" "$WORK/anonymous/"

# --- node-a: pre-shared keys, TLS required on the unix socket and on loopback TCP.
PORT_A=$(free_port)
nbd_setup -Ddmp.agent.nbd-tls=require -Ddmp.agent.nbd-tls-psk-file="$KEYS/keys.psk" -Ddmp.agent.nbd-port="$PORT_A" \
  -Ddmp.agent.nbd-handshake-timeout=5s
SOCK_A=$NBD_SOCK
truncate -s 8M "$STATE/p1.img" "$STATE/p2.img"
create_volume p1 "\"file\":{\"path\":\"$STATE/p1.img\"}"
create_volume p2 "\"file\":{\"path\":\"$STATE/p2.img\"}"
psk_unix() { echo "nbds+unix://alice@/$1?socket=$SOCK_A&tls-psk-file=$2"; }
psk_tcp() { echo "nbds://alice@127.0.0.1:$PORT_A/$1?tls-psk-file=$KEYS/keys.psk"; }

head -c 8M /dev/urandom > "$WORK/random.img"
expect_eq "nbdinfo --size, PSK over the unix socket" 8388608 "$(nbdinfo --size "$(psk_unix p1 "$KEYS/keys.psk")")"
expect_eq "nbdinfo's protocol line, PSK over TCP" "protocol: newstyle-fixed with TLS, using structured packets" \
  "$(nbdinfo --no-content "$(psk_tcp p1)" | grep '^protocol:')"
nbdcopy --request-size=$MiB "$WORK/random.img" "$(psk_unix p1 "$KEYS/keys.psk")" || fail "nbdcopy into p1 over TLS"
nbdcopy --request-size=$MiB "$(psk_tcp p1)" "$WORK/out-p1.img" || fail "nbdcopy out of p1 over TLS"
cmp "$WORK/random.img" "$WORK/out-p1.img" || fail "what came out of p1 over TLS differs from what went in"
cmp "$WORK/random.img" "$STATE/p1.img" || fail "p1's backing file differs from what went in over TLS"
log "ok: 8 MiB in over nbds+unix://, out over nbds://, identical (PSK)"
# nbdinfo --size reads nothing; nbdcopy: 8 reads and 8 writes of 1 MiB.
expect_stats p1 8 $((8 * MiB)) 8 $((8 * MiB))

expect_eq "qemu-img info with tls-creds-psk" "virtual size: 8 MiB (8388608 bytes)" \
  "$(qemu-img info --object "tls-creds-psk,id=tls0,endpoint=client,dir=$KEYS,username=alice" \
      --image-opts "driver=nbd,server.type=unix,server.path=$SOCK_A,export=p2,tls-creds=tls0" | grep '^virtual size:')"

# A wrong key: the handshake fails (the client's binder does not verify); the agent goes on.
if nbdinfo --size "$(psk_unix p2 "$WORK/wrong/keys.psk")" > "$WORK/wrong.out" 2>&1; then
  fail "a client with the wrong key was served: $(cat "$WORK/wrong.out")"
fi
grep -q 'gnutls_handshake' "$WORK/wrong.out" || fail "the wrong key did not fail in the TLS handshake: $(cat "$WORK/wrong.out")"
log "ok: the wrong key fails the TLS handshake: $(cat "$WORK/wrong.out")"
expect_eq "nbdinfo --size with the right key, after the wrong one" 8388608 \
  "$(nbdinfo --size "$(psk_unix p2 "$KEYS/keys.psk")")"

# Plaintext against require: NBD_REP_ERR_TLS_REQD, which qemu names (7 is NBD_OPT_GO); libnbd shows
# dmp's message.
if qemu-img info "nbd+unix:///p2?socket=$SOCK_A" > "$WORK/plain.out" 2>&1; then fail "a plaintext qemu-img was served"; fi
grep -q 'TLS negotiation required before option 7 (go)' "$WORK/plain.out" ||
  fail "qemu-img in the clear did not get NBD_REP_ERR_TLS_REQD: $(cat "$WORK/plain.out")"
log "ok: qemu-img in the clear: $(grep -o 'TLS negotiation required before option 7 (go)' "$WORK/plain.out")"
if LIBNBD_DEBUG=1 nbdinfo --size "nbd://127.0.0.1:$PORT_A/p2" > "$WORK/plain-nbdinfo.out" 2>&1; then
  fail "a plaintext nbdinfo was served"
fi
grep -q 'server error message: TLS is required on this server (dmp.agent.nbd-tls=require): send NBD_OPT_STARTTLS first' \
  "$WORK/plain-nbdinfo.out" || fail "nbdinfo in the clear: no TLS_REQD message: $(tail -n 5 "$WORK/plain-nbdinfo.out")"
log "ok: nbdinfo in the clear is refused with dmp's message"
# closed_after OPTION DATA REPLY_BYTES: on node-a's socket, the greeting, the client flags, then one
# option (its number and its data), REPLY_BYTES of answer read; true when the server then closes.
closed_after() {
  /usr/bin/python3 - "$SOCK_A" "$@" <<'PY'
import socket, struct, sys
sock, option, data, reply = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sock)
def exactly(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: sys.exit(1)
        b += c
exactly(18)
s.sendall(struct.pack(">I", 1) + struct.pack(">QII", 0x49484156454F5054, option, len(data)) + data)
exactly(reply)
sys.exit(0 if s.recv(1) == b"" else 1)
PY
}
# NBD_OPT_EXPORT_NAME has no error reply: the connection is closed, and the agent says why.
closed_after 1 p2 0 || fail "NBD_OPT_EXPORT_NAME in the clear was not answered by a close"
wait_until 5 grep -q 'protocol error, closing it: NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS: TLS is required' \
  "$WORK/agent-node-a.log"
log "ok: NBD_OPT_EXPORT_NAME in the clear closes the connection, logged"
# A client that asks for TLS (NBD_OPT_STARTTLS, its 20-byte ACK read) and then says nothing (no
# ClientHello) is dropped at the handshake deadline (5 s here), which covers the TLS handshake too.
closed_after 5 "" 20 || fail "a client stalled in the TLS handshake was not dropped"
wait_until 5 grep -q 'handshake not finished within 5000 ms (dmp.agent.nbd-handshake-timeout); dropping it' \
  "$WORK/agent-node-a.log"
log "ok: a client silent after NBD_OPT_STARTTLS is dropped at the handshake deadline"
# TCP connections get keepalive (first probe after 60 s idle): the agent's end of one shows its timer.
exec {KA}<> /dev/tcp/127.0.0.1/"$PORT_A"
head -c 18 <&"$KA" > /dev/null
keepalive() { ss -tnoH state established "( sport = :$PORT_A )" | grep -q 'timer:(keepalive'; }
wait_until 5 keepalive
log "ok: the agent's end of a TCP connection: $(ss -tnoH state established "( sport = :$PORT_A )" | grep -o 'timer:(keepalive[^)]*)')"
exec {KA}>&-
# None of the refused clients got to a request: p2 counts nothing.
expect_stats p2 0 0 0 0

# --- node-b: X.509, client certificates verified against the CA, TLS required.
PORT_B=$(free_port)
start_agent node-b -Ddmp.agent.nbd-tls=require -Ddmp.agent.nbd-tls-certificates="$PKI" \
  -Ddmp.agent.nbd-tls-verify-peer=true -Ddmp.agent.nbd-port="$PORT_B"
SOCK_B=$NBD_SOCK STATE_B=$WORK/node-b/state
truncate -s 8M "$STATE_B/x1.img"
rpc CreateVolume "{\"host\":\"node-b\",\"name\":\"x1\",\"file\":{\"path\":\"$STATE_B/x1.img\"}}" > /dev/null ||
  fail "CreateVolume x1 on node-b"
x509_unix() { echo "nbds+unix:///x1?socket=$SOCK_B&tls-certificates=$1"; }
x509_tcp="nbds://localhost:$PORT_B/x1?tls-certificates=$PKI"

expect_eq "nbdinfo --size, X.509 over the unix socket" 8388608 "$(nbdinfo --size "$(x509_unix "$PKI")")"
nbdcopy --request-size=$MiB "$WORK/random.img" "$(x509_unix "$PKI")" || fail "nbdcopy into x1 over TLS"
nbdcopy --request-size=$MiB "$x509_tcp" "$WORK/out-x1.img" || fail "nbdcopy out of x1 over TLS"
cmp "$WORK/random.img" "$WORK/out-x1.img" || fail "what came out of x1 over TLS differs from what went in"
cmp "$WORK/random.img" "$STATE_B/x1.img" || fail "x1's backing file differs from what went in over TLS"
log "ok: 8 MiB in over nbds+unix://, out over nbds://, identical (X.509)"
wait_for_text 15 "stats of x1 (read reqs, bytes, write reqs, bytes)" "8 $((8 * MiB)) 8 $((8 * MiB))" stats_of VOLUME node-b x1

expect_eq "qemu-img info with tls-creds-x509 and a JSON nbd spec" "virtual size: 8 MiB (8388608 bytes)" \
  "$(qemu-img info --object "tls-creds-x509,id=tls0,endpoint=client,dir=$PKI,verify-peer=on" \
      "json:{\"driver\":\"nbd\",\"server\":{\"type\":\"inet\",\"host\":\"127.0.0.1\",\"port\":\"$PORT_B\"},\"export\":\"x1\",\"tls-creds\":\"tls0\"}" |
      grep '^virtual size:')"
# verify-peer: a client that trusts the CA but shows no certificate is refused in the handshake (with
# TLS 1.3 the client learns it on its first read: its side of the handshake was over).
if nbdinfo --size "$(x509_unix "$WORK/anonymous")" > "$WORK/anonymous.out" 2>&1; then
  fail "a client without a certificate was served"
fi
wait_until 5 grep -q 'NBD_OPT_STARTTLS: the TLS handshake failed: .*(certificate_required) Empty client certificate chain' \
  "$WORK/agent-node-b.log"
log "ok: a client without a certificate is refused ($(cat "$WORK/anonymous.out")), logged"
expect_eq "nbdinfo --size with a certificate, after one without" 8388608 "$(nbdinfo --size "$x509_tcp")"
log "PASS"
