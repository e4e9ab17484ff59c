#!/usr/bin/env bash
# ./run.sh stops what it started on every way out, however its output is piped or closed:
#   1. `./run.sh | head -1`: the output is gone after one line (SIGPIPE at the next message);
#   2. `./run.sh | tee FILE`, then Ctrl-C: SIGINT to the whole job, tee dies with it, so every message
#      of the stop hits a closed pipe (the controller used to be left running);
#   3. SIGHUP (a closed terminal) to run.sh alone: the script itself stops both apps.
# Each case: run.sh exits with the status its trap gives and no process of the run is left; where both
# apps had started (cases 2 and 3), both log their own orderly stop (Quarkus' "stopped in"). In case 1
# the stop comes while the controller's JVM is still starting, which a SIGTERM simply ends.
# timeout: 420
. "$(dirname "$0")/lib.sh"
requires buf jq curl qemu-io
need_jars

# run_env N: the environment of case N's run.sh (its own ports, host id and run dir).
case_dir() { echo "$WORK/case$1"; }
left() { pgrep -f -- "$(case_dir "$1")/" || true; }
nothing_left() { [ -z "$(left "$1")" ]; }
start_case() { # start_case N: prints the env assignments for run.sh
  local d; d=$(case_dir "$1"); mkdir -p "$d"
  echo "DMP_CONTROLLER_PORT=$(free_port) DMP_AGENT_PORT=$(free_port) DMP_HOST_ID=node-sig$1 DMP_RUN_DIR=$d"
}
# stopped N WHAT [any]: nothing of case N runs, and (unless "any") both apps stopped in order.
stopped() {
  local d; d=$(case_dir "$1")
  wait_until 30 nothing_left "$1"
  [ "${3:-}" = any ] && { log "ok: $2: nothing left running"; return; }
  grep -q 'dmp-controller .*stopped in' "$d/controller.log" || fail "$2: the controller did not log an orderly stop: $(tail -n 3 "$d/controller.log")"
  if [ -f "$d/agent.log" ]; then
    grep -q 'dmp-agent .*stopped in' "$d/agent.log" || fail "$2: the agent did not log an orderly stop: $(tail -n 3 "$d/agent.log")"
  fi
  log "ok: $2: $(if [ -f "$d/agent.log" ]; then echo "agent and controller"; else echo "the controller (the agent had not started)"; fi) stopped, nothing left running"
}
# run_in_job N CMD: runs CMD (a shell line) as a job of its own process group, as an interactive shell
# would (job control on: without it, bash starts background commands with SIGINT ignored, and a signal
# ignored at a shell's start cannot be trapped, so Ctrl-C could not be played).
run_in_job() {
  set -m
  bash -c "$2" > "$(case_dir "$1")/job.out" 2>&1 &
  JOB=$!
  set +m
  _PIDS+=("$JOB")
}

# 1: output closed by head after one line.
envs=$(start_case 1)
out=$(cd "$ROOT" && env $envs timeout 180 bash -c "./run.sh | head -1; echo \"rc=\${PIPESTATUS[0]}\"" 2>/dev/null)
expect_eq "run.sh | head -1: run.sh's exit status (its SIGPIPE trap)" 141 "$(sed -n 's/^rc=//p' <<<"$out")"
expect_eq "run.sh | head -1: lines shown" 1 "$(grep -vc '^rc=' <<<"$out")"
stopped 1 "run.sh | head -1" any

# 2: | tee, then Ctrl-C to the job (run.sh and tee both get SIGINT).
envs=$(start_case 2)
run_in_job 2 "cd '$ROOT' && env $envs ./run.sh | tee '$(case_dir 2)/tee.out'; echo \"rc=\${PIPESTATUS[0]}\""
wait_until 180 grep -q 'are running; Ctrl-C stops both' "$(case_dir 2)/tee.out"
kill -INT -- -"$JOB"
wait "$JOB" || true
expect_eq "run.sh | tee, Ctrl-C: run.sh's exit status" 0 "$(sed -n 's/^rc=//p' "$(case_dir 2)/job.out")"
stopped 2 "run.sh | tee, Ctrl-C"

# 3: SIGHUP to run.sh alone (not to the apps): the script stops them.
envs=$(start_case 3)
run_in_job 3 "cd '$ROOT' && exec env $envs ./run.sh"
wait_until 180 grep -q 'are running; Ctrl-C stops both' "$(case_dir 3)/job.out"
kill -HUP "$JOB"
rc=0; wait "$JOB" || rc=$?
expect_eq "run.sh, SIGHUP: exit status" 129 "$rc"
grep -q 'run.sh: agent stopped' "$(case_dir 3)/job.out" && grep -q 'run.sh: controller stopped' "$(case_dir 3)/job.out" \
  || fail "SIGHUP: run.sh did not say it stopped both: $(tail -n 5 "$(case_dir 3)/job.out")"
stopped 3 "run.sh, SIGHUP"
log "PASS"
