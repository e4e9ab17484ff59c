#!/usr/bin/env bash
# TLS on every gRPC listener and on the agent's link, with a CA made here (no keys in git):
# controller and agent serve gRPC only over TLS (Quarkus TLS registry, PEM files); the agent verifies
# the controller against the CA; buf curl with --cacert reaches both; a plaintext call is refused.
. "$(dirname "$0")/lib.sh"
requires openssl buf jq curl

# A test CA and one server certificate for 127.0.0.1, valid for a day.
cd "$WORK"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=dmp test CA" \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile san.ext \
  -out server.crt 2>/dev/null
cd - >/dev/null
TLS_OPTS=(-Dquarkus.tls.key-store.pem.0.cert="$WORK/server.crt" -Dquarkus.tls.key-store.pem.0.key="$WORK/server.key"
  -Dquarkus.http.insecure-requests=disabled)

CPORT=$(free_port)
"$JAVA" -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port=0 -Dquarkus.http.ssl-port="$CPORT" "${TLS_OPTS[@]}" \
  -jar "$CONTROLLER_JAR" > "$WORK/controller.log" 2>&1 &
_PIDS+=("$!")
wait_until 60 curl -sf --cacert "$WORK/ca.crt" "https://127.0.0.1:$CPORT/q/health/ready"

APORT=$(free_port)
mkdir -p "$WORK/node-a/state"
"$JAVA" -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port=0 -Dquarkus.http.ssl-port="$APORT" "${TLS_OPTS[@]}" \
  -Ddmp.agent.host-id=node-a -Ddmp.agent.controller="127.0.0.1:$CPORT" \
  -Ddmp.agent.controller-tls-configuration-name=controller -Dquarkus.tls.controller.trust-store.pem.certs="$WORK/ca.crt" \
  -Ddmp.agent.state-dir="$WORK/node-a/state" -Ddmp.agent.nbd-socket="$WORK/node-a/nbd.sock" \
  -jar "$AGENT_JAR" > "$WORK/agent-node-a.log" 2>&1 &
_PIDS+=("$!")
wait_until 60 curl -sf --cacert "$WORK/ca.crt" "https://127.0.0.1:$APORT/q/health/ready"

tls_rpc() { buf curl --protocol grpc --cacert "$WORK/ca.crt" --emit-defaults -d "$2" "https://127.0.0.1:$1"; }
online() { tls_rpc "$CPORT/dmp.v1.Controller/ListHosts" '{}' | jq -e '.hosts[] | select(.id=="node-a" and .online)'; }
# The agent's link verified the controller's certificate against the CA and connected.
wait_until 30 online
log "ok: agent linked to the controller over TLS"
tls_rpc "$CPORT/dmp.v1.Controller/CreateVolume" '{"host":"node-a","name":"dmp1","zero":{"sizeBytes":"4096"}}' >/dev/null
expect_eq "volume created over TLS, seen on the agent over TLS" dmp1 \
  "$(tls_rpc "$APORT/dmp.v1.Agent/ListVolumes" '{}' | jq -r '.volumes[0].name')"
# A client that does not trust the CA is refused, and so is plaintext.
if buf curl --protocol grpc -d '{}' "https://127.0.0.1:$CPORT/dmp.v1.Controller/ListHosts" >/dev/null 2>&1; then
  fail "a client without the CA got through"
fi
log "ok: untrusted client refused"
if buf curl --protocol grpc --http2-prior-knowledge -d '{}' "http://127.0.0.1:$CPORT/dmp.v1.Controller/ListHosts" >/dev/null 2>&1; then
  fail "a plaintext call to the TLS port got through"
fi
log "ok: plaintext refused"
