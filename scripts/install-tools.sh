#!/usr/bin/env bash
# Installs, as root, everything dmp's tests use (the list is scripts/tools.sh), so that ./test.sh skips
# nothing. ./test.sh does the same by itself when it runs as root; this is the command it names otherwise.
set -euo pipefail
. "$(dirname "$0")/tools.sh"
[ "$(id -u)" = 0 ] || { echo "install-tools.sh: run it as root (sudo $0)" >&2; exit 1; }
dmp_install_all
echo "install-tools.sh: everything the tests use is installed"
