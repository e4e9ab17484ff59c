#!/usr/bin/env bash
# The container images, end to end: Maven builds them (-Pimage: Jib, no Docker daemon) on the base
# image of deploy/image/base-image.sh and pushes them to a registry on loopback (Debian's
# docker-registry); their config is checked (entrypoint, user, ports, working dir); then each runs
# from its own unpacked file system as a container runtime would start it (its entrypoint, user,
# working dir and Env, configured by the same environment variables deploy/kubernetes sets), the
# probe paths of the manifests answer 200, and a volume created through the controller takes a
# 4 KiB write through the agent's NBD socket and counts it.
. "$(dirname "$0")/lib.sh"
requires docker-registry skopeo jq curl buf nbdsh unshare mount
[ "$(id -u)" = 0 ] || skip "needs root: runs the images' file systems with unshare --root and mounts /proc in them"

VERSION=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$ROOT/pom.xml" | head -1)
port_of() { sed -n 's/^quarkus.http.port=//p' "$ROOT/$1/src/main/resources/application.properties"; }

# The /proc mounts made below go before lib.sh's cleanup removes $WORK.
MOUNTS=()
trap 'rc=$?; for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null || true; done; (exit $rc); _cleanup' EXIT

REG=127.0.0.1:$(free_port)
cat > "$WORK/registry.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: $REG}
YAML
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
_PIDS+=($!)
wait_until 30 curl -sf "http://$REG/v2/"

log "mvn -Pimage package (agent, controller) pushing to $REG"
(cd "$ROOT" && mvn -B -ntp -Pimage package -DskipTests -pl agent,controller -am \
  -Dquarkus.container-image.registry="$REG" -Dquarkus.container-image.insecure=true) > "$WORK/mvn.log" 2>&1 \
  || { tail -40 "$WORK/mvn.log"; fail "mvn -Pimage failed"; }

# check_image NAME USER: the pushed image's config; saves it as $WORK/NAME-config.json.
check_image() {
  local name=$1 user=$2 ref=docker://$REG/dmp/$1:$VERSION cfg=$WORK/$1-config.json
  skopeo inspect --config --tls-verify=false "$ref" > "$cfg" || fail "cannot read $ref"
  # The JVM options of each app's pom (quarkus.jib.jvm-additional-arguments): the heap as a share of
  # the container's memory, exit on OutOfMemoryError; the controller runs on ZGC.
  local opts='"-XX:MaxRAMPercentage=50","-XX:+ExitOnOutOfMemoryError",'
  [ "$name" = controller ] && opts='"-XX:+UseZGC","-XX:MaxRAMPercentage=60","-XX:+ExitOnOutOfMemoryError",'
  expect_eq "$name entrypoint" "[\"java\",\"-Djava.util.logging.manager=org.jboss.logmanager.LogManager\",$opts\"-jar\",\"quarkus-run.jar\"]" \
    "$(jq -c .config.Entrypoint "$cfg")"
  expect_eq "$name user" "$user" "$(jq -r .config.User "$cfg")"
  expect_eq "$name exposed ports (quarkus.http.port)" "[\"$(port_of "$name")/tcp\"]" "$(jq -c '.config.ExposedPorts | keys' "$cfg")"
  expect_eq "$name working dir" /home/jboss "$(jq -r .config.WorkingDir "$cfg")"
  expect_eq "$name platform" linux/amd64 "$(jq -r '.os + "/" + .architecture' "$cfg")"
  grep -q "image: dmp/$name:$VERSION\$" "$ROOT/deploy/kubernetes/"*.yaml || fail "deploy/kubernetes does not use dmp/$name:$VERSION"
}
check_image agent 0
check_image controller 185

# An OCI tarball, for registries reached later or other tools.
skopeo copy -q --src-tls-verify=false "docker://$REG/dmp/agent:$VERSION" "oci-archive:$WORK/agent-oci.tar" \
  || fail "skopeo copy to oci-archive failed"
expect_eq "OCI archive layout" '{"imageLayoutVersion":"1.0.0"}' "$(tar xOf "$WORK/agent-oci.tar" oci-layout | jq -c .)"

# unpack NAME: the image's layers, in order, into $WORK/NAME-fs (Jib's layers only add files).
unpack() {
  local dir=$WORK/$1-dir fs=$WORK/$1-fs
  skopeo copy -q --src-tls-verify=false "docker://$REG/dmp/$1:$VERSION" "dir:$dir" || fail "skopeo copy $1 failed"
  mkdir -p "$fs"
  for digest in $(jq -r '.layers[].digest' "$dir/manifest.json"); do
    tar xzf "$dir/${digest#sha256:}" -C "$fs" --warning=no-unknown-keyword
  done
  mkdir -p "$fs/proc"
  mount -t proc proc "$fs/proc"
  MOUNTS+=("$fs/proc")
}

# run_image NAME VAR=VALUE...: starts the image's entrypoint as its user in its working dir, with
# only the image's Env plus the given variables; sets RUN_PID.
run_image() {
  local name=$1 cfg=$WORK/$1-config.json; shift
  local entry env
  mapfile -t entry < <(jq -r '.config.Entrypoint[]' "$cfg")
  mapfile -t env < <(jq -r '.config.Env[]' "$cfg")
  env -i "${env[@]}" "$@" unshare --root="$WORK/$name-fs" --wd="$(jq -r .config.WorkingDir "$cfg")" \
    --setuid "$(jq -r .config.User "$cfg")" --setgid "$(jq -r .config.User "$cfg")" "${entry[@]}" \
    > "$WORK/$name.log" 2>&1 &
  RUN_PID=$!; _PIDS+=("$RUN_PID")
}

# probes_ok YAML PORT: every probe path of that manifest answers 200 on the running app.
probes_ok() {
  local path paths
  paths=$(grep -o 'path: /q/health/[a-z]*' "$ROOT/deploy/kubernetes/$1" | sort -u | cut -d' ' -f2)
  expect_eq "probe paths in $1" "/q/health/live /q/health/ready /q/health/started" "$(echo $paths)"
  for path in $paths; do
    expect_eq "GET $path on port $2" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2$path")"
  done
}

unpack controller
unpack agent

CONTROLLER_PORT=$(free_port)
CONTROLLER=127.0.0.1:$CONTROLLER_PORT
run_image controller QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT="$CONTROLLER_PORT" \
  DMP_CONTROLLER_DATA_DIR=/tmp/controller-data
wait_until 60 curl -sf "http://$CONTROLLER/q/health/ready"
probes_ok controller.yaml "$CONTROLLER_PORT"
[ -d "$WORK/controller-fs/tmp/controller-data" ] || fail "the controller did not create its data dir"
expect_eq "controller data dir owner (the image's user)" 185 "$(stat -c %u "$WORK/controller-fs/tmp/controller-data")"

# heap_share NAME PORT PERCENT: the JVM the image's entrypoint started sized its heap as PERCENT of the
# memory it sees (here the machine's: no cgroup limit), as it will of the container's limit. Its largest
# heap pool's max (ZGC reports each generation with the whole heap's max; G1 its old generation).
heap_share() {
  local max total want
  max=$(curl -sf -H 'Accept: text/plain; version=0.0.4' "http://127.0.0.1:$2/q/metrics" |
    awk '/^jvm_memory_max_bytes\{area="heap"/ {if ($NF + 0 > m) m = $NF + 0} END {printf "%.0f", m}')
  total=$(awk '/^MemTotal:/ {printf "%.0f", $2 * 1024}' /proc/meminfo)
  want=$(jq -n "$total * $3 / 100 | floor")
  [ -n "$max" ] && [ "$max" != 0 ] || fail "$1: no jvm_memory_max_bytes{area=\"heap\"} on /q/metrics"
  jq -en "($max - $want | fabs) <= $want / 50" >/dev/null \
    || fail "$1: the image's JVM has a $max-byte heap, not $3 % of the $total bytes it sees ($want)"
  log "ok: $1: heap $(jq -n "$max / 1048576 | floor") MiB = $3 % of $(jq -n "$total / 1048576 | floor") MiB (-XX:MaxRAMPercentage=$3 from the image)"
}
heap_share controller "$CONTROLLER_PORT" 60

AGENT_PORT=$(free_port)
SOCK=$WORK/agent-fs/run/dmp/nbd.sock
run_image agent QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT="$AGENT_PORT" DMP_AGENT_HOST_ID=image-node \
  DMP_AGENT_CONTROLLER="$CONTROLLER" DMP_AGENT_STATE_DIR=/var/lib/dmp DMP_AGENT_NBD_SOCKET=/run/dmp/nbd.sock
wait_until 60 test -S "$SOCK"
wait_until 60 curl -sf "http://127.0.0.1:$AGENT_PORT/q/health/ready"
probes_ok agent.yaml "$AGENT_PORT"
heap_share agent "$AGENT_PORT" 50
wait_until 30 host_online image-node

rpc CreateVolume '{"host":"image-node","name":"vol1","zero":{"sizeBytes":"1048576"}}' > "$WORK/create.json" \
  || fail "CreateVolume: $(cat "$WORK/create.json")"
expect_eq "nbd_uri the agent reports" "nbd+unix:///vol1?socket=/run/dmp/nbd.sock" "$(jq -r '.volume.nbdUri // .nbdUri' "$WORK/create.json")"
nbdsh -u "nbd+unix:///vol1?socket=$SOCK" -c 'h.pwrite(b"x" * 4096, 0)' || fail "nbdsh write failed"
expect_eq "agent /stat/volumes after one 4 KiB write" \
  "$(printf 'vol1:\nread:\n  reqs: 0\n  avg size: 0\nwrite:\n  reqs: 1\n  avg size: 4096\ntotal:\n  reqs: 1\n  avg size: 4096')" \
  "$(curl -sf "http://127.0.0.1:$AGENT_PORT/stat/volumes?volume=vol1")"
# The agent's preStop hook as the kubelet runs it: the command from agent.yaml, in the image (which
# has no shell), with the container's environment. It drains the agent: the write above reaches the
# controller and is acknowledged, the NBD socket stops serving, and the agent reports not ready.
prestop=$(grep -o 'command: \[.*PreStop"\]' "$ROOT/deploy/kubernetes/agent.yaml" | sed 's/^command: //')
mapfile -t prestop < <(echo "$prestop" | jq -r '.[]')
mapfile -t image_env < <(jq -r '.config.Env[]' "$WORK/agent-config.json")
drained=$(env -i "${image_env[@]}" QUARKUS_HTTP_PORT="$AGENT_PORT" unshare --root="$WORK/agent-fs" --wd=/home/jboss \
  "${prestop[@]}" 2>&1) || fail "preStop hook failed: $drained"
case $drained in
  "dmp agent: detached 0 devices; NBD connections closed; the controller acknowledged every count (delta "*")") ;;
  *) fail "preStop hook said: $drained" ;;
esac
log "ok: preStop hook: $drained"
expect_eq "controller has the write after the drain" 1 \
  "$(rpc QueryStats '{"scope":"VOLUME","host":"image-node","volume":"vol1"}' | jq -r '.rows[0].write.requests')"
expect_eq "agent ready after the drain" 503 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AGENT_PORT/q/health/ready")"
nbdsh -u "nbd+unix:///vol1?socket=$SOCK" -c 'pass' 2>/dev/null && fail "the NBD socket still serves after the drain"
log "ok: NBD socket closed after the drain"
log "images build, run and serve: ok"
