#!/usr/bin/env bash
# Builds dmp's base image, a small JRE on glibc, as a `docker save` tarball that Jib reads through
# quarkus.jib.base-jvm-image=tar://... (the Maven profile -Pimage runs this; see docs/deploy.md).
# No Docker daemon and no registry are needed: only Maven Central, Debian and npm are reachable here,
# so the base cannot be pulled; it is made from what this Debian 12 machine has:
#   /opt/java       a runtime jlink'ed from the build's JDK (21+), only the modules the apps use;
#   /lib...         glibc from the host's Debian package libc6 (the JRE's only native dependency);
#   /etc/passwd     root, and user 185 "dmp" (the controller's user, as in Quarkus' own images);
#   /tmp            world-writable (the JVM, Vert.x and jnr's native stubs write there).
# Usage: deploy/image/base-image.sh OUT.tar   (reuses OUT.tar when this script and the JDK are unchanged)
set -euo pipefail
OUT=${1:?usage: $0 OUT.tar}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/jdk.sh"
dmp_pick_jdk

# The modules the agent and the controller need (both start, serve gRPC, HTTP, NBD and metrics on
# exactly these: tests/test-image.sh runs them from the image). java.desktop is left out on purpose:
# it would pull X11 and sound libraries into the image.
MODULES=java.base,java.logging,java.management,java.naming,java.net.http,java.security.jgss,java.sql,java.xml,jdk.crypto.ec,jdk.management,jdk.naming.dns,jdk.unsupported,jdk.zipfs,java.instrument

command -v dpkg >/dev/null && dpkg -s libc6 >/dev/null 2>&1 \
  || { echo "base-image.sh: needs Debian's dpkg and its libc6 package (the image's glibc is copied from it)" >&2; exit 1; }
[ "$(dpkg --print-architecture)" = amd64 ] || { echo "base-image.sh: builds amd64 images only" >&2; exit 1; }
[ -x "$JAVA_HOME/bin/jlink" ] || { echo "base-image.sh: $JAVA_HOME has no jlink (a JDK, not a JRE, is needed)" >&2; exit 1; }

STAMP="$("$JAVA" -version 2>&1 | head -1) $(sha256sum "$0" | cut -c1-64) $(dpkg-query -W -f='${Version}' libc6)"
if [ -f "$OUT" ] && [ "$(cat "$OUT.stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "base image $OUT is up to date"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FS=$WORK/rootfs
mkdir -p "$FS/opt" "$FS/etc" "$FS/tmp" "$FS/root" "$FS/home/jboss"
chmod 1777 "$FS/tmp"

"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-6 --output "$FS/opt/java"

# glibc's shared objects and the loader, at the paths the package installs them to.
dpkg -L libc6 | while read -r f; do
  case $f in
    /lib/x86_64-linux-gnu/*.so*|/lib64/ld-linux-x86-64.so.2|/usr/lib/x86_64-linux-gnu/*.so*) ;;
    *) continue ;;
  esac
  [ -f "$f" ] || [ -L "$f" ] || continue
  mkdir -p "$FS$(dirname "$f")"
  cp -a "$f" "$FS$f"
done

cat > "$FS/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
dmp:x:185:185:dmp:/home/jboss:/sbin/nologin
PASSWD
cat > "$FS/etc/group" <<'GROUP'
root:x:0:
dmp:x:185:
GROUP
echo 'hosts: files dns' > "$FS/etc/nsswitch.conf"
chown 185:185 "$FS/home/jboss"

# One layer, byte-for-byte reproducible: sorted names, fixed times and owners.
tar --sort=name --mtime=@0 --numeric-owner --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$FS" -cf "$WORK/layer.tar" $(cd "$FS" && ls -A)
DIFF_ID=sha256:$(sha256sum "$WORK/layer.tar" | cut -c1-64)
JAVA_VERSION=$("$FS/opt/java/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
cat > "$WORK/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Env":["PATH=/opt/java/bin:/usr/sbin:/usr/bin:/sbin:/bin","JAVA_HOME=/opt/java"],
           "Labels":{"org.opencontainers.image.description":"dmp base: jlink'ed Java $JAVA_VERSION on Debian glibc $(dpkg-query -W -f='${Version}' libc6)"}},
 "rootfs":{"type":"layers","diff_ids":["$DIFF_ID"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"deploy/image/base-image.sh"}]}
JSON
echo '[{"Config":"config.json","RepoTags":["dmp/base:latest"],"Layers":["layer.tar"]}]' > "$WORK/manifest.json"
mkdir -p "$(dirname "$OUT")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$WORK" -cf "$OUT.tmp" manifest.json config.json layer.tar
mv "$OUT.tmp" "$OUT"
echo "$STAMP" > "$OUT.stamp"
echo "base image $OUT: Java $JAVA_VERSION, $(du -h "$WORK/layer.tar" | cut -f1) uncompressed"
