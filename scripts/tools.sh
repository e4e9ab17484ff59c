# Sourced by run.sh and test.sh: makes sure the commands they need exist. As root on Debian a missing
# one is installed (apt-get, or npm for buf); otherwise the message says what to install.
# Keep DMP_APT in step with the apt-get line of .ci/run.

# command -> Debian package
declare -A DMP_APT=(
  [mvn]=maven [curl]=curl [jq]=jq [python3]=python3 [npm]=npm
  [nbdinfo]=libnbd-bin [nbdsh]=python3-libnbd [nbdcopy]=libnbd-bin
  [qemu-io]=qemu-utils [qemu-img]=qemu-utils [qemu-nbd]=qemu-utils
  [fio]=fio [nbdkit]=nbdkit [nbd-client]=nbd-client
  # tests/test-kernel.sh and its VM runner tests/vm/run.sh (Debian's kernel under qemu)
  [qemu-system-x86_64]=qemu-system-x86 [busybox]=busybox-static [depmod]=kmod [xz]=xz-utils
  [mkfs.ext4]=e2fsprogs [blockdev]=util-linux
)
# buf curl speaks gRPC with server reflection like grpcurl, which Debian 12 does not package.
DMP_BUF_NPM=@bufbuild/buf@1.75.0

# dmp_need_tools CMD...: returns 0 when every command exists (after installing, as root).
dmp_need_tools() {
  local c missing=() pkgs=() need_buf=0
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 && continue
    if [ "$c" = buf ]; then need_buf=1; command -v npm >/dev/null || pkgs+=(npm); continue; fi
    missing+=("$c")
    [ -n "${DMP_APT[$c]:-}" ] && pkgs+=("${DMP_APT[$c]}")
  done
  # nbdsh needs both packages (the command and its Python module).
  case " ${pkgs[*]} " in *" python3-libnbd "*) pkgs+=(libnbd-bin) ;; esac
  [ $need_buf = 1 ] && missing+=(buf)
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: ${missing[*]}. Install them as root:" >&2
    [ ${#pkgs[@]} -gt 0 ] && echo "  apt-get install $(printf '%s\n' "${pkgs[@]}" | sort -u | tr '\n' ' ')" >&2
    [ $need_buf = 1 ] && echo "  npm install -g $DMP_BUF_NPM" >&2
    return 1
  fi
  if [ ${#pkgs[@]} -gt 0 ]; then
    echo "installing $(printf '%s\n' "${pkgs[@]}" | sort -u | tr '\n' ' ')(for ${missing[*]})"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $(printf '%s\n' "${pkgs[@]}" | sort -u) >/dev/null || { echo "apt-get install failed" >&2; return 1; }
  fi
  if [ $need_buf = 1 ]; then
    echo "installing buf (npm $DMP_BUF_NPM)"
    npm install -g --no-fund --no-audit "$DMP_BUF_NPM" >/dev/null || { echo "npm install -g $DMP_BUF_NPM failed" >&2; return 1; }
  fi
  for c in "${missing[@]}"; do
    command -v "$c" >/dev/null 2>&1 || { echo "$c is still missing after the install" >&2; return 1; }
  done
}
