#!/usr/bin/env bash
# The shared bearer token (dmp.auth.token / dmp.auth.token-file): when set, every gRPC call of both
# apps needs it (no token: UNAUTHENTICATED, wrong: PERMISSION_DENIED), reflection and gRPC health
# included; the agent's link sends it; the HTTP calls that change something need it (the agent's POST
# /stat/volumes, the dashboard's create, delete and reset) and give 401 / 403; reading and the HTTP
# health endpoints stay open.
TOKEN=s3cret-$RANDOM$RANDOM
DMP_TOKEN=$TOKEN # lib.sh's rpc sends it
. "$(dirname "$0")/lib.sh"
requires buf jq curl

printf '%s\n' "$TOKEN" > "$WORK/token"
chmod 600 "$WORK/token"
start_controller -Ddmp.auth.token-file="$WORK/token"
# The agent reads the same token and must get through to the controller with it.
start_agent node-a -Ddmp.auth.token="$TOKEN"

# call URL_PATH [TOKEN]: prints the status code (or "ok") of a unary call with {} as body, sending
# TOKEN (none when absent). Reflection gets the right token, so this is the call's own answer.
call() {
  local url=$1 out
  local auth=(); [ $# -gt 1 ] && auth=(-H "authorization: Bearer $2")
  if out=$(buf curl --protocol grpc --http2-prior-knowledge "${auth[@]}" \
      --reflect-header "authorization: Bearer $TOKEN" -d '{}' "$url" 2>&1); then
    echo ok
  else
    echo "$out" | jq -r .code 2>/dev/null || echo "$out"
  fi
}
C=http://$CONTROLLER
A=http://127.0.0.1:$AGENT_PORT
for svc in "$C/dmp.v1.Controller/ListHosts" "$A/dmp.v1.Agent/ListVolumes" "$C/grpc.health.v1.Health/Check" \
    "$A/grpc.health.v1.Health/Check"; do
  expect_eq "no token: $svc" unauthenticated "$(call "$svc")"
  expect_eq "wrong token: $svc" permission_denied "$(call "$svc" wrong)"
  expect_eq "right token: $svc" ok "$(call "$svc" "$TOKEN")"
done
# reflect URL [TOKEN]: the gRPC status of listing the services by reflection (buf curl itself only
# says "failed to find service" or talks of BUF_TOKEN when reflection is refused; -v shows the status).
reflect() {
  local auth=(); [ $# -gt 1 ] && auth=(-H "authorization: Bearer $2" --reflect-header '*')
  local out; out=$(buf curl -v --protocol grpc --http2-prior-knowledge "${auth[@]}" --list-services "$1" 2>&1 || true)
  case $out in *dmp.v1.*) echo listed ;; *"Grpc-Status: 16"*) echo unauthenticated ;;
    *"Grpc-Status: 7"*) echo permission_denied ;; *) echo "$out" | tail -n 3 ;; esac
}
for url in "$C" "$A"; do
  expect_eq "reflection, no token: $url" unauthenticated "$(reflect "$url")"
  expect_eq "reflection, wrong token: $url" permission_denied "$(reflect "$url" wrong)"
  expect_eq "reflection, right token: $url" listed "$(reflect "$url" "$TOKEN")"
done
# The agent's link carried the token: its host is online at the controller.
online=$(buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $TOKEN" --reflect-header '*' \
  -d '{}' "$C/dmp.v1.Controller/ListHosts" | jq -r '.hosts[] | select(.id=="node-a") | .online')
expect_eq "agent linked with the token" true "$online"
# HTTP: a change needs the token (the agent's reset, the dashboard's create / delete / reset); reading
# and the health endpoints that probes use do not.
http() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "POST /stat/volumes no token" 401 "$(http -X POST "$A/stat/volumes")"
expect_eq "POST /stat/volumes wrong token" 403 "$(http -H 'Authorization: Bearer x' -X POST "$A/stat/volumes")"
expect_eq "POST /stat/volumes right token" 200 "$(http -H "Authorization: Bearer $TOKEN" -X POST "$A/stat/volumes")"
expect_eq "GET /stat/volumes" 200 "$(http "$A/stat/volumes")"
create='{"host":"node-a","name":"web1","zero":{"sizeBytes":"1048576"}}'
J=(-H 'content-type: application/json')
expect_eq "dashboard create, no token" 401 "$(http "${J[@]}" -d "$create" "$C/api/volumes")"
expect_eq "dashboard create, wrong token" 403 "$(http "${J[@]}" -H 'authorization: Bearer x' -d "$create" "$C/api/volumes")"
expect_eq "dashboard reset, no token" 401 "$(http "${J[@]}" -d '{"scope":"FLEET"}' "$C/api/reset")"
expect_eq "dashboard delete, no token" 401 "$(http -X DELETE "$C/api/volumes/node-a/web1")"
expect_eq "refused calls changed nothing: volumes" 0 "$(curl -s "$C/api/overview" | jq '.volumes | length')"
expect_eq "dashboard create, right token" 201 "$(http "${J[@]}" -H "authorization: Bearer $TOKEN" -d "$create" "$C/api/volumes")"
expect_eq "dashboard delete, right token" 204 "$(http -X DELETE -H "authorization: Bearer $TOKEN" "$C/api/volumes/node-a/web1")"
expect_eq "refusal says what to send" "this server requires a token: send the header 'authorization: Bearer <dmp.auth.token>'" \
  "$(curl -s "${J[@]}" -d '{"scope":"FLEET"}' "$C/api/reset" | jq -r .message)"
for url in "$C" "$A"; do
  expect_eq "GET $url/q/health/ready without token" 200 "$(http "$url/q/health/ready")"
done
# Without a token the apps warn at start.
grep -q "no dmp.auth.token" "$WORK/controller.log" && fail "controller warned although a token is set"
log "all token checks passed"
