#!/usr/bin/env bash
# Runs every test: the Maven build (unit and Quarkus tests, packaging), then the end-to-end
# scripts tests/test-*.sh against the packaged apps. Usage: ./test.sh [-k] [PATTERN]
#   PATTERN  run only the end-to-end scripts whose name contains it (the build still runs)
#   -k       skip the Maven build (use the jars already built)
set -uo pipefail
cd "$(dirname "$0")"
. scripts/jdk.sh
dmp_pick_jdk || exit 1
BUILD=1
[ "${1:-}" = -k ] && { BUILD=0; shift; }
PATTERN=${1:-}

if [ $BUILD = 1 ]; then
  echo "== mvn verify (JDK: $JAVA_HOME)"
  mvn -B -ntp verify || { echo "FAILED: Maven build/tests"; exit 1; }
fi

pass=0 failn=0 skipn=0 failed=()
for t in tests/test-*.sh; do
  [ -e "$t" ] || continue
  case $t in *"$PATTERN"*) ;; *) continue ;; esac
  echo "== $t"
  start=$(date +%s)
  bash "$t"; rc=$?
  took=$(( $(date +%s) - start ))
  case $rc in
    0) pass=$((pass+1)); echo "PASS $t (${took}s)" ;;
    77) skipn=$((skipn+1)); echo "SKIP $t (${took}s)" ;;
    *) failn=$((failn+1)); failed+=("$t"); echo "FAIL $t (rc=$rc, ${took}s)" ;;
  esac
done
echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "end-to-end: $pass passed, $failn failed, $skipn skipped"
[ $failn = 0 ]
