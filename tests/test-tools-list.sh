#!/usr/bin/env bash
# The one list of tools (scripts/tools.sh) covers every command the end-to-end scripts require, so that
# ./test.sh as root on a fresh machine skips nothing: each command a script names in `requires` must come
# from a package in DMP_APT_PACKAGES (or one they depend on), from an essential Debian package (on every machine), or from npm
# (buf, and node with npm). And as non-root, test.sh names the one command that installs everything.
. "$(dirname "$0")/lib.sh"
command -v dpkg-query >/dev/null || skip "needs Debian's dpkg-query to find which package a command comes from"
. "$ROOT/scripts/tools.sh"

listed=" ${DMP_APT_PACKAGES[*]} "
# What installing the list brings: the packages and everything they depend on (computed when needed).
brought=
# The commands every script requires (its `requires` lines), and the VM runner's.
cmds=$(grep -ho '^ *requires [^;|&)#]*' "$ROOT"/tests/*.sh "$ROOT"/tests/vm/*.sh | sed 's/^ *requires //' | tr ' ' '\n' | sort -u | grep -v '^$')
[ "$(wc -l <<<"$cmds")" -ge 20 ] || fail "found only $(wc -l <<<"$cmds") required commands: the grep for 'requires' lines is broken"
bad=()
# Which package owns each copy on PATH (pyenv's python3 comes first here, Debian's after it): one
# dpkg -S for all of them. A file may be known by its path without /usr (merged /usr).
declare -A owner=()
all_paths=()
for c in $cmds; do
  for path in $(type -Pa "$c"); do all_paths+=("$path" "$(readlink -f "$path")"); done
done
all_paths+=("${all_paths[@]#/usr}")
while IFS= read -r line; do
  pkgs=${line%%: /*} f=/${line#*: /}
  owner[$f]=${pkgs%%,*} owner[/usr$f]=${owner[/usr$f]:-${pkgs%%,*}}
done < <(dpkg -S "${all_paths[@]}" 2>/dev/null)
for c in $cmds; do
  case $c in
    buf) [[ $DMP_BUF_NPM == @bufbuild/buf@* ]] || bad+=("buf: DMP_BUF_NPM is '$DMP_BUF_NPM'"); continue ;;
    node) [ "${DMP_APT_IF_MISSING[npm]:-}" = npm ] && continue; bad+=("node: npm (which brings nodejs) is not installed when missing"); continue ;;
  esac
  paths=$(type -Pa "$c") || { bad+=("$c: not installed here, so no package can be checked (install: $(dmp_install_command))"); continue; }
  pkg=
  for path in $paths; do
    pkg=${owner[$path]:-${owner[$(readlink -f "$path")]:-}}
    [ -z "$pkg" ] || break
  done
  [ -n "$pkg" ] || { bad+=("$c ($paths): no Debian package owns it"); continue; }
  case $listed in *" $pkg "*) log "ok: $c <- $pkg (listed)"; continue ;; esac
  [ -n "$brought" ] || brought=" $(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${DMP_APT_PACKAGES[@]}" 2>/dev/null | grep -v '^ ' | tr -d '<>' | sort -u | tr '\n' ' ') "
  case $brought in *" $pkg "*) log "ok: $c <- $pkg (a dependency of a listed package)"; continue ;; esac
  if [ "$(dpkg-query -W -f='${Essential}' "$pkg")" = yes ] || [ "$(dpkg-query -W -f='${Priority}' "$pkg")" = required ]; then
    log "ok: $c <- $pkg (essential: on every Debian machine)"; continue
  fi
  bad+=("$c comes from package $pkg, which scripts/tools.sh does not list")
done
[ ${#bad[@]} = 0 ] || fail "$(printf '\n  %s' "${bad[@]}")"

# Every listed package exists in apt's index (a typo would break every fresh install).
known=$(apt-cache show --no-all-versions "${DMP_APT_PACKAGES[@]}" 2>/dev/null | sed -n 's/^Package: //p' | sort -u)
for p in "${DMP_APT_PACKAGES[@]}"; do
  grep -qx "$p" <<<"$known" || fail "scripts/tools.sh lists '$p', which apt does not know"
done
log "ok: all ${#DMP_APT_PACKAGES[@]} listed packages are known to apt"

# As non-root, with a package missing, test.sh's installer names the one command and installs nothing.
out=$(bash -c '. "$1/scripts/tools.sh"; DMP_APT_PACKAGES=(dmp-no-such-package); dmp_install_all' _ "$ROOT" 2>&1 </dev/null) && rc=0 || rc=$?
if [ "$(id -u)" = 0 ]; then
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups bash -c '. "$1/scripts/tools.sh"; DMP_APT_PACKAGES=(dmp-no-such-package); dmp_install_all' _ "$ROOT" 2>&1 </dev/null) && rc=0 || rc=$?
fi
[ "$rc" = 1 ] || fail "dmp_install_all as non-root with a missing package returned $rc, not 1: $out"
case $out in
  *"missing: dmp-no-such-package"*"install them all with: sudo $ROOT/scripts/install-tools.sh"*) log "ok: as non-root: $(tr '\n' ' ' <<<"$out")" ;;
  *) fail "as non-root, the message does not name the missing package and the one install command: $out" ;;
esac
log "the one list covers every required command"
