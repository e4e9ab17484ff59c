# The one list of what dmp's scripts use, and how it is installed. Sourced by run.sh and test.sh;
# `scripts/install-tools.sh` (as root) installs the whole list, and .ci/run is ./test.sh as root.
#   dmp_install_all        as root: installs every package below that is missing (apt-get, npm);
#                          otherwise prints the one command that does and returns 1
#   dmp_need_tools CMD...  for run.sh: makes sure these commands exist (installing as root)

# Debian packages, with what needs them. The JDK 21+ and Maven come with the machine (scripts/jdk.sh
# picks the JDK); Maven is listed so that a machine without it gets it.
DMP_APT_PACKAGES=(
  maven python3 curl jq                     # the build, test.sh's counts, the scripts' JSON
  libnbd-bin python3-libnbd                 # nbdinfo nbdsh nbdcopy: NBD clients nobody here wrote
  qemu-utils fio nbd-client nbdkit          # qemu-img qemu-io qemu-nbd, fio's nbd engine; nbdkit a peer
  python3-yaml iproute2 openssl             # manifests in tests, ip netns (link cut), ss; test certificates
  gnutls-bin                                # psktool, certtool: keys for TLS on NBD (tests/test-nbd-tls.sh)
  docker-registry skopeo                    # tests/test-image.sh: a registry on loopback, image reads
  chromium                                  # tests/test-dashboard.sh (playwright-core drives it)
  prometheus                                # tests/test-prometheus.sh and test-alerts.sh (promtool)
  postgresql                                # the PostgreSQL ledger's tests start their own cluster (initdb, pg_ctl)
  # tests/test-kernel.sh boots Debian's stock kernel (it has nbd.ko) under qemu: tests/vm/run.sh
  qemu-system-x86 busybox-static kmod xz-utils e2fsprogs util-linux
)
# Commands installed from apt only when missing: a machine may have Node.js and npm from elsewhere
# (NodeSource's nodejs bundles npm, and Debian's npm package conflicts with it).
declare -A DMP_APT_IF_MISSING=([npm]=npm)
# npm: buf curl speaks gRPC with server reflection like grpcurl, which Debian 12 does not package.
DMP_BUF_NPM=@bufbuild/buf@1.75.0
# npm: tests/dashboard/package-lock.json pins playwright-core for tests/test-dashboard.sh.
DMP_NPM_DIRS=(tests/dashboard)

# command -> Debian package, for dmp_need_tools' messages and installs.
declare -A DMP_APT=(
  [mvn]=maven [curl]=curl [jq]=jq [python3]=python3 [npm]=npm [qemu-io]=qemu-utils
)

_dmp_apt_install() { # PACKAGE...
  echo "installing $* (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { echo "apt-get install $* failed" >&2; return 1; }
}
_dmp_npm_buf() {
  echo "installing buf (npm $DMP_BUF_NPM)"
  npm install -g --no-fund --no-audit "$DMP_BUF_NPM" >/dev/null || { echo "npm install -g $DMP_BUF_NPM failed" >&2; return 1; }
}
_dmp_root_dir() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); }

# The packages of DMP_APT_PACKAGES that are not installed, one per line.
dmp_missing_packages() {
  command -v dpkg-query >/dev/null || { printf '%s\n' "${DMP_APT_PACKAGES[@]}"; return; }
  local p
  for p in "${DMP_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

# The npm folders whose node_modules is missing or older than their package-lock.json.
_dmp_stale_npm_dirs() {
  local root d
  root=$(_dmp_root_dir)
  for d in "${DMP_NPM_DIRS[@]}"; do
    if [ ! -f "$root/$d/node_modules/.package-lock.json" ] || [ "$root/$d/package-lock.json" -nt "$root/$d/node_modules/.package-lock.json" ]; then
      echo "$d"
    fi
  done
}

# The one command that installs everything (what a non-root user is told to run).
dmp_install_command() { echo "sudo $(_dmp_root_dir)/scripts/install-tools.sh"; }

dmp_install_all() {
  local missing stale root d c
  root=$(_dmp_root_dir)
  missing=$(dmp_missing_packages)
  for c in "${!DMP_APT_IF_MISSING[@]}"; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing ${DMP_APT_IF_MISSING[$c]}"
  done
  missing=$(echo $missing)
  stale=$(_dmp_stale_npm_dirs)
  local need_buf=0
  command -v buf >/dev/null 2>&1 || need_buf=1
  if [ -z "$missing" ] && [ -z "$stale" ] && [ $need_buf = 0 ]; then
    return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: $(echo $missing)$([ $need_buf = 1 ] && echo " buf (npm $DMP_BUF_NPM)")$([ -n "$stale" ] && echo " node modules of $(echo $stale)")" >&2
    echo "install them all with: $(dmp_install_command)" >&2
    return 1
  fi
  [ -z "$missing" ] || _dmp_apt_install $missing || return 1
  [ $need_buf = 0 ] || _dmp_npm_buf || return 1
  for d in $stale; do
    echo "installing $d's node modules (npm ci)"
    npm ci --prefix "$root/$d" --no-fund --no-audit >/dev/null || { echo "npm ci --prefix $d failed" >&2; return 1; }
  done
}

# dmp_need_tools CMD...: returns 0 when every command exists (after installing, as root).
dmp_need_tools() {
  local c missing=() pkgs=() need_buf=0
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 && continue
    if [ "$c" = buf ]; then need_buf=1; command -v npm >/dev/null || pkgs+=(npm); continue; fi
    missing+=("$c")
    [ -n "${DMP_APT[$c]:-}" ] && pkgs+=("${DMP_APT[$c]}")
  done
  [ $need_buf = 1 ] && missing+=(buf)
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: ${missing[*]}. Install them as root:" >&2
    [ ${#pkgs[@]} -gt 0 ] && echo "  apt-get install $(printf '%s\n' "${pkgs[@]}" | sort -u | tr '\n' ' ')" >&2
    [ $need_buf = 1 ] && echo "  npm install -g $DMP_BUF_NPM" >&2
    echo "or everything the tests use: $(dmp_install_command)" >&2
    return 1
  fi
  [ ${#pkgs[@]} = 0 ] || _dmp_apt_install $(printf '%s\n' "${pkgs[@]}" | sort -u) || return 1
  [ $need_buf = 0 ] || _dmp_npm_buf || return 1
  for c in "${missing[@]}"; do
    command -v "$c" >/dev/null 2>&1 || { echo "$c is still missing after the install" >&2; return 1; }
  done
}
