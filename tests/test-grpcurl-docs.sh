#!/usr/bin/env bash
# docs/grpcurl.md cannot drift: every grpcurl command in it runs against live apps (translated to
# buf curl by tests/grpcurl_docs.py) and each answer's shape must match the output printed there.
# With --write, the outputs in the doc are replaced by the live ones (to regenerate it).
. "$(dirname "$0")/lib.sh"
requires buf python3
MODE=check
[ "${1:-}" = --write ] && MODE=write

start_controller
start_agent node-a
truncate -s 1M "$WORK/node-a/state/disk.img"
python3 -u "$TESTS_DIR/grpcurl_docs.py" "$ROOT/docs/grpcurl.md" "$MODE" \
  "localhost:8080=$CONTROLLER" "localhost:7070=127.0.0.1:$AGENT_PORT" \
  "/var/lib/dmp/disk.img=$WORK/node-a/state/disk.img" "/run/dmp/nbd.sock=$NBD_SOCK"
