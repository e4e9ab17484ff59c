# Sourced by tests/lib.sh and bench/fleet/run.sh: a PostgreSQL cluster of the script's own, from
# Debian's postgresql package (no container). PostgreSQL refuses to run as root, so as root the
# cluster's folder belongs to nobody and its programs run through runuser.

# dmp_find_postgresql: sets PG_BIN to the folder of initdb, pg_ctl and psql; returns 1 when none is
# installed. initdb on PATH may be a link (to /usr/lib/postgresql/VERSION/bin, where psql is too).
dmp_find_postgresql() {
  local d
  PG_BIN=
  for d in "$(dirname "$(readlink -f "$(command -v initdb || echo /none/initdb)")")" \
    $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ]; then PG_BIN=$d; return 0; fi
  done
  return 1
}

# dmp_initdb WORK USER: a new cluster in WORK/pg/data, user USER with a random password (in
# WORK/pg-password); TCP logins need it (scram-sha-256), as a controller's would, and the socket in
# WORK/pg trusts local users. Sets PG_DIR, PG_PASSWORD_FILE and PG_AS (what runs PostgreSQL's programs:
# runuser -u nobody as root, nothing otherwise). Its output goes to WORK/initdb.log; returns initdb's
# status. WORK/postgresql.log is the log pg_ctl should be given.
dmp_initdb() {
  local work=$1
  PG_DIR=$work/pg PG_PASSWORD_FILE=$work/pg-password PG_AS=()
  mkdir -p "$PG_DIR"
  echo "dmp-$RANDOM$RANDOM" > "$PG_PASSWORD_FILE"
  if [ "$(id -u)" = 0 ]; then
    touch "$work/postgresql.log"
    chmod o+x "$work"; chown nobody "$PG_DIR" "$PG_PASSWORD_FILE" "$work/postgresql.log"; PG_AS=(runuser -u nobody --)
  fi
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$2" --pwfile="$PG_PASSWORD_FILE" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync > "$work/initdb.log" 2>&1
}
