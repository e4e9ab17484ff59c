#!/usr/bin/env bash
# Fuzzes one target for longer than the build does (docs/fuzzing.md).
# Usage: scripts/fuzz.sh TARGET [SECONDS]
#   TARGET   a fuzz test class, e.g. HandshakeFuzzTest (ls */src/test/java/dev/dmp/*/*/*FuzzTest.java)
#   SECONDS  how long to fuzz it (default 600)
# The corpus it grows stays in MODULE/target/jazzer/.cifuzz-corpus/ and is used again by the next run;
# a finding is written to MODULE/target/jazzer/ (crash-*, timeout-*) and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
dmp_pick_jdk
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}
seconds=${2:-600}
source=$(find agent controller -path "*/src/test/java/*" -name "$target.java" | head -n 1)
[ -n "$source" ] || { echo "no fuzz target $target" >&2; exit 2; }
module=${source%%/*}
JAZZER_FUZZ=1 exec mvn -B -ntp test -pl "proto,$module" -Dtest="$target" -Dfuzz.skip=true \
  -Dfuzz.seconds="$seconds" -Dsurefire.failIfNoSpecifiedTests=false -Dspotless.check.skip=true
