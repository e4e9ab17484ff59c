#!/usr/bin/env bash
# The agent's package dependencies, one line a package: 'PACKAGE -> the packages it uses', from the
# compiled classes (jdeps, in every JDK). Shows the shape ArchitectureTest keeps (no cycles, the
# composition root used by nobody). Usage: scripts/agent-packages.sh [CLASSES_DIR_OR_JAR]
#   default: agent/target/classes (build first: mvn -q compile -pl proto,agent)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
dmp_pick_jdk
WHAT=${1:-agent/target/classes}
"$JAVA_HOME/bin/jdeps" -verbose:package -e 'dev\.dmp\.agent(\..*)?' "$WHAT" 2>/dev/null |
  awk '$2 == "->" && $1 ~ /^dev\.dmp\.agent/ {print $1, $3}' |
  sed 's/dev\.dmp\.agent\.//g; s/dev\.dmp\.agent/(root)/g' | awk '$1 != $2' | sort -u |
  awk '{a[$1] = a[$1] " " $2} END {for (k in a) print k " ->" a[k]}' | sort
