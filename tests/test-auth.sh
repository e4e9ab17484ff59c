#!/usr/bin/env bash
# The shared bearer token (dmp.auth.token / dmp.auth.token-file): when set, every gRPC call of both
# apps needs it (no token: UNAUTHENTICATED, wrong: PERMISSION_DENIED), the agent's link sends it,
# the agent's POST /stat/volumes needs it, and the gRPC health service stays open for probes.
TOKEN=s3cret-$RANDOM$RANDOM
DMP_TOKEN=$TOKEN # lib.sh's rpc sends it
. "$(dirname "$0")/lib.sh"
requires buf jq curl

printf '%s\n' "$TOKEN" > "$WORK/token"
chmod 600 "$WORK/token"
start_controller -Ddmp.auth.token-file="$WORK/token"
# The agent reads the same token and must get through to the controller with it.
start_agent node-a -Ddmp.auth.token="$TOKEN"

# call URL_PATH AUTH_HEADER...: prints the status code (or "ok") of a unary call with {} as body.
call() {
  local url=$1; shift
  local out
  if out=$(buf curl --protocol grpc --http2-prior-knowledge "$@" -d '{}' "$url" 2>&1); then
    echo ok
  else
    echo "$out" | jq -r .code
  fi
}
C=http://$CONTROLLER
A=http://127.0.0.1:$AGENT_PORT
for svc in "$C/dmp.v1.Controller/ListHosts" "$A/dmp.v1.Agent/ListVolumes"; do
  expect_eq "no token: $svc" unauthenticated "$(call "$svc")"
  expect_eq "wrong token: $svc" permission_denied "$(call "$svc" -H "authorization: Bearer wrong")"
  expect_eq "right token: $svc" ok "$(call "$svc" -H "authorization: Bearer $TOKEN")"
done
# The agent's link carried the token: its host is online at the controller.
online=$(buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $TOKEN" \
  -d '{}' "$C/dmp.v1.Controller/ListHosts" | jq -r '.hosts[] | select(.id=="node-a") | .online')
expect_eq "agent linked with the token" true "$online"
# Health stays open (orchestrator probes send no headers).
expect_eq "gRPC health without token" ok "$(call "$C/grpc.health.v1.Health/Check")"
# Mutating HTTP: reset needs the token; reading does not.
expect_eq "POST /stat/volumes no token" 401 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/stat/volumes")"
expect_eq "POST /stat/volumes wrong token" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer x' -X POST "$A/stat/volumes")"
expect_eq "POST /stat/volumes right token" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -X POST "$A/stat/volumes")"
expect_eq "GET /stat/volumes" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$A/stat/volumes")"
# Without a token the apps warn at start.
grep -q "no dmp.auth.token" "$WORK/controller.log" && fail "controller warned although a token is set"
log "all token checks passed"
