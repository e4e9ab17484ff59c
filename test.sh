#!/usr/bin/env bash
# Runs every test: the Maven build (unit and Quarkus tests, packaging), then the end-to-end
# scripts tests/test-*.sh against the packaged apps. Usage: ./test.sh [-k] [PATTERN]
#   PATTERN  run only the end-to-end scripts whose name contains it (the build still runs)
#   -k       skip the Maven build (use the jars already built)
# The last line counts everything run, Maven's tests and the scripts: 'N passed, N failed, N skipped'.
set -uo pipefail
cd "$(dirname "$0")"
. scripts/jdk.sh
dmp_pick_jdk || exit 1
. scripts/tools.sh
# Everything the scripts use, from the one list in scripts/tools.sh: installed when this runs as root;
# otherwise the message names the one command that installs it all, and the scripts that need a
# missing tool skip (with DMP_REQUIRE_ALL=1, as in CI, they fail instead).
dmp_install_all || echo "(the scripts that need them will skip)"
command -v mvn >/dev/null && command -v python3 >/dev/null || { echo "test.sh needs mvn and python3" >&2; exit 1; }
BUILD=1
[ "${1:-}" = -k ] && { BUILD=0; shift; }
PATTERN=${1:-}

pass=0 failn=0 skipn=0 failed=()
summary() {
  echo
  [ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
  echo "$pass passed, $failn failed, $skipn skipped"
}

if [ $BUILD = 1 ]; then
  echo "== mvn verify (JDK: $JAVA_HOME)"
  rm -rf ./*/target/surefire-reports ./*/target/failsafe-reports
  start=$(date +%s)
  mvn -B -ntp -Dstyle.color=never verify; mvn_rc=$?
  # Maven's own counts, from the JUnit reports of every module.
  read -r t f s < <(python3 - <<'PY'
import glob, xml.etree.ElementTree as ET
t = f = s = 0
for p in glob.glob("*/target/*-reports/TEST-*.xml"):
    r = ET.parse(p).getroot()
    t += int(r.get("tests", 0)); s += int(r.get("skipped", 0))
    f += int(r.get("failures", 0)) + int(r.get("errors", 0))
print(t, f, s)
PY
)
  pass=$((t - f - s)) failn=$f skipn=$s
  echo "Maven tests: $pass passed, $f failed, $s skipped ($(( $(date +%s) - start ))s with the build)"
  if [ $mvn_rc != 0 ]; then
    [ "$f" = 0 ] && failn=$((failn + 1))
    failed+=("mvn verify (rc=$mvn_rc)")
    summary
    exit 1
  fi
fi

for t in tests/test-*.sh; do
  [ -e "$t" ] || continue
  case $t in *"$PATTERN"*) ;; *) continue ;; esac
  echo "== $t"
  start=$(date +%s)
  # No script may hang CI: after DMP_SCRIPT_TIMEOUT seconds (600, or what its '# timeout: N' line
  # says) it gets SIGTERM (its cleanup stops what it started), 30 s later SIGKILL.
  limit=${DMP_SCRIPT_TIMEOUT:-$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)}
  limit=${limit:-600}
  timeout -k 30 "$limit" bash "$t"; rc=$?
  [ $rc = 124 ] && echo "TIMEOUT $t: still running after ${limit}s"
  took=$(( $(date +%s) - start ))
  case $rc in
    0) pass=$((pass+1)); echo "PASS $t (${took}s)" ;;
    77) skipn=$((skipn+1)); echo "SKIP $t (${took}s)" ;;
    *) failn=$((failn+1)); failed+=("$t"); echo "FAIL $t (rc=$rc, ${took}s)" ;;
  esac
done
summary
[ $failn = 0 ]
