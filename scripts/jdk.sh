# Sourced by run.sh, test.sh and the test scripts: picks a JDK >= 21 and exports JAVA_HOME and JAVA.
# Order: $JAVA_HOME if it is 21+, then every JDK under /usr/lib/jvm (newest first).
_dmp_java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'; }
dmp_pick_jdk() {
  local c m
  # A parent that already checked this JDK says so (starting java costs seconds inside tests/vm).
  if [ -n "${DMP_JDK_CHECKED:-}" ] && [ "$DMP_JDK_CHECKED" = "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    export JAVA=$JAVA_HOME/bin/java
    return 0
  fi
  for c in ${JAVA_HOME:+"$JAVA_HOME"} $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sed 's:/$::' | sort -rV); do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    m=$(_dmp_java_major "$c")
    if [ -n "$m" ] && [ "$m" -ge 21 ]; then
      export JAVA_HOME=$c JAVA=$c/bin/java
      return 0
    fi
  done
  echo "dmp needs a JDK 21 or newer and found none (looked at \$JAVA_HOME and /usr/lib/jvm/*)." >&2
  echo "Install one, e.g. 'apt-get install openjdk-21-jdk-headless' or Temurin 21+, or set JAVA_HOME." >&2
  return 1
}
