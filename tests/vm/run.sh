#!/bin/bash
# tests/vm/run.sh 'shell command'   (dmp's VM runner for the kernel tests; docs/kernel.md)
#
# For hosts whose kernel has no nbd driver (or no module loading): tests/test-kernel.sh re-runs
# itself through this script. Everything it needs is here and in ~/.cache/dmp-vm; it depends on
# nothing else in or outside the repository at run time.
#
# Boots a stock Debian kernel (which ships nbd.ko) under qemu-system-x86_64,
# with the HOST root filesystem mounted read-only over virtio-9p (plus an
# in-memory overlay, so the guest root is writable but nothing reaches the
# host), the current directory shared read-write at the same path, and runs
# the command as root inside the guest with bash.  The command's stdout and
# stderr are streamed to this script's stdout/stderr (two virtio-serial ports);
# the script exits with the command's exit status.
#
# No guest networking at all: -nodefaults -nic none.  Guest only has "lo".
#
# Environment knobs:
#   VM_CACHE     cache dir (kernel, modules, initramfs)  [~/.cache/dmp-vm]
#   VM_KERNEL_PKG  Debian kernel package  [dependency of linux-image-amd64]
#   VM_ACCEL     auto|kvm|tcg  [auto: kvm only if /dev/kvm is usable AND the
#                CPU shows vmx/svm; PVM-style /dev/kvm cannot boot stock kernels]
#   VM_MACHINE   pc|q35 [pc]  (microvm hangs in early boot with Debian's kernel)
#   VM_MEM [2G]  VM_SMP [2]  VM_TIMEOUT seconds [1800]
#   VM_MODULES   modules to load before the command  ["nbd"]
#   VM_RW_DIRS   colon-separated host dirs shared read-write at the same path
#                [$PWD unless $PWD is /]
#   VM_PASS_ENV  space-separated env var names to copy into the guest
#   VM_BOOT_TIMEOUT [90] s until stage2 must have started, VM_BOOT_RETRIES [1]
#   VM_KARGS     extra kernel command line
#   VM_DEBUG=1   stream the guest kernel console to stderr (else it goes to a
#                file that is printed only when the guest fails)
# Exit status: the command's; 124 on timeout; 125 if the guest never reported.
set -euo pipefail

CACHE=${VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dmp-vm}
MEM=${VM_MEM:-2G}
SMP=${VM_SMP:-2}
TIMEOUT=${VM_TIMEOUT:-1800}
MODULES=${VM_MODULES-nbd}
ACCEL=${VM_ACCEL:-auto}
# modules needed by the initramfs itself (closure taken from modules.dep)
EARLY_MODS="virtio_pci virtio_console 9pnet_virtio 9p overlay"
MACHINE=${VM_MACHINE:-pc}

die() { echo "dmp-vm: $*" >&2; exit 125; }
[ $# -ge 1 ] || die "usage: $0 'shell command'"
CMD=$*

for c in qemu-system-x86_64 apt-get dpkg-deb gzip xz awk flock mkfifo timeout; do
  command -v "$c" >/dev/null 2>&1 || die "missing $c (apt-get install qemu-system-x86 busybox-static kmod xz-utils)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || die "need a static busybox (apt-get install busybox-static)"
mkdir -p "$CACHE"

# ---------------------------------------------------------------- kernel ---
prepare_kernel() {   # $1 = package name; builds $CACHE/$1
  local pkg=$1 dst=$CACHE/$1 tmp ver m f
  exec 9>"$CACHE/.lock"; flock 9
  [ -f "$dst/.done" ] && return 0
  echo "dmp-vm: preparing $pkg in $dst (one-time)" >&2
  tmp=$(mktemp -d "$CACHE/.prep.XXXXXX")
  (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
    die "apt-get download $pkg failed (run apt-get update?)"
  mkdir "$tmp/root"
  # modules we will never need in a test VM are skipped (~250 MB)
  dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp/root" \
    --wildcards --exclude='*/kernel/drivers/gpu' --exclude='*/kernel/drivers/media' \
    --exclude='*/kernel/sound' --exclude='*/kernel/drivers/net/wireless' \
    --exclude='*/kernel/drivers/net/ethernet' --exclude='*/kernel/drivers/infiniband' \
    --exclude='*/kernel/drivers/staging' --exclude='*/kernel/drivers/iio' \
    --exclude='*/kernel/drivers/usb' --exclude='*/kernel/drivers/bluetooth' \
    --exclude='*/kernel/net/wireless' --exclude='*/kernel/net/mac80211' \
    --exclude='*/kernel/net/bluetooth' --exclude='*/kernel/drivers/hid' \
    --exclude='*/kernel/drivers/hwmon' --exclude='*/kernel/drivers/input' \
    --exclude='./usr/share'
  rm -f "$tmp"/*.deb
  ver=$(ls "$tmp/root/lib/modules")
  [ -f "$tmp/root/boot/vmlinuz-$ver" ] || die "no vmlinuz in $pkg"
  if command -v depmod >/dev/null; then depmod -b "$tmp/root" "$ver"
  else "$BUSYBOX" depmod -b "$tmp/root" "$ver"; fi
  # Uncompressed ELF vmlinux boots via PVH (no real-mode BIOS path, no
  # in-guest XZ decompression): ~3 s faster under TCG.  Fallback: bzImage.
  local bz=$tmp/root/boot/vmlinuz-$ver off
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1 || true)
  if [ -n "$off" ] && tail -c +$((off + 1)) "$bz" | xz -dc 2>/dev/null >"$tmp/vmlinux"; [ -s "$tmp/vmlinux" ] &&
     [ "$(head -c4 "$tmp/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then :
  else rm -f "$tmp/vmlinux"; fi
  echo "$ver" >"$tmp/version"
  mv "$tmp/root" "$tmp/tree"
  rm -rf "$dst"; mv "$tmp" "$dst"; touch "$dst/.done"
  echo "dmp-vm: cached kernel $ver ($(du -sh "$dst" | cut -f1))" >&2
}

# ------------------------------------------------------------- initramfs ---
# static busybox + early modules (closure from modules.dep) + /init; cached
# under a hash of its inputs, so editing this script rebuilds only this part.
INIT_SH=$(cat <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
fail() { echo "init: $*" >&2; echo 125 >/vmrun/rc 2>/dev/null; poweroff -f; }
modprobe -a virtio_pci virtio_console 9pnet_virtio 9p overlay || fail "modprobe failed"
O9=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $O9,cache=none vmrun /vmrun || fail "mount vmrun"
. /vmrun/config
mount -t 9p -o $O9,ro,cache=loose hostroot /host || fail "mount hostroot"
mount -t tmpfs -o mode=755 ovl /ovl && mkdir /ovl/upper /ovl/work
mount -t overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work overlay /newroot ||
  fail "overlay mount"
N=/newroot
mount --move /dev $N/dev; mount --move /proc $N/proc; mount --move /sys $N/sys
mkdir -p $N/dev/pts $N/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $N/dev/pts
mount -t tmpfs -o mode=1777 shm $N/dev/shm
mount -t tmpfs -o mode=755 run $N/run
mkdir -p $N/run/vm $N/run/vmbb
mount --move /vmrun $N/run/vm
cp /bin/busybox $N/run/vmbb/busybox
mkdir -p $N/lib/modules/$KVER
mount --bind /host$MODDIR $N/lib/modules/$KVER || fail "bind modules"
i=0
for d in $RW_DIRS; do
  mkdir -p "$N$d"; mount -t 9p -o $O9,cache=mmap rw$i "$N$d" || fail "mount rw$i $d"
  i=$((i+1))
done
# host's modprobe is often an absolute symlink to /bin/kmod: test with -L
[ -L $N/usr/sbin/modprobe ] || [ -e $N/usr/sbin/modprobe ] || [ -L $N/sbin/modprobe ] ||
  { mkdir -p $N/usr/local/sbin; ln -s /run/vmbb/busybox $N/usr/local/sbin/modprobe; }
exec switch_root $N /run/vmbb/busybox sh /run/vm/stage2
INIT
)
build_initramfs() {  # $1 = output file
  local ir md=$KD/tree/lib/modules/$KVER m f
  ir=$(mktemp -d "$CACHE/.ir.XXXXXX")
  mkdir -p "$ir"/{bin,dev,proc,sys,host,ovl,newroot,vmrun,lib/modules/$KVER}
  cp "$BUSYBOX" "$ir/bin/busybox"
  cp "$md"/modules.{dep,alias,symbols,builtin,order} "$ir/lib/modules/$KVER/" 2>/dev/null || true
  for m in $EARLY_MODS; do
    f=$(awk -F: -v m="/$m.ko" 'index($1, m) && substr($1, length($1) - length(m) + 1) == m {print $0; exit}' "$md/modules.dep")
    [ -n "$f" ] || die "module $m not found in $md/modules.dep"
    for f in $(echo "$f" | tr -d ':'); do
      mkdir -p "$ir/lib/modules/$KVER/$(dirname "$f")"; cp "$md/$f" "$ir/lib/modules/$KVER/$f"
    done
  done
  printf '%s\n' "$INIT_SH" >"$ir/init"; chmod +x "$ir/init"
  (cd "$ir" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) >"$1.tmp.$$"
  rm -f "$KD"/initramfs-*.gz; mv "$1.tmp.$$" "$1"; rm -rf "$ir"
}

if [ -n "${VM_KERNEL_PKG:-}" ]; then PKG=$VM_KERNEL_PKG
elif [ -f "$CACHE/default-pkg" ]; then PKG=$(cat "$CACHE/default-pkg")
else
  PKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$PKG" ] || die "cannot resolve linux-image-amd64 (apt-get update?)"
  echo "$PKG" >"$CACHE/default-pkg"
fi
[ -f "$CACHE/$PKG/.done" ] || (prepare_kernel "$PKG")
KD=$CACHE/$PKG
KVER=$(cat "$KD/version")
if [ -f "$KD/vmlinux" ]; then KERNEL=$KD/vmlinux; else KERNEL=$KD/tree/boot/vmlinuz-$KVER; fi
IRH=$( { printf '%s' "$INIT_SH $EARLY_MODS"; sha256sum <"$BUSYBOX"; } | sha256sum | cut -c1-16)
INITRD=$KD/initramfs-$IRH.gz
[ -f "$INITRD" ] || ( exec 9>"$CACHE/.lock"; flock 9; [ -f "$INITRD" ] || build_initramfs "$INITRD" )

# ------------------------------------------------------------------- run ---
# boot-time trims for a throw-away test VM (~0.5 s under TCG)
KARGS="lpj=4000000 no_timer_check tsc=reliable cryptomgr.notests mitigations=off nokaslr audit=0 ${VM_KARGS:-}"
RUN=$(mktemp -d "$CACHE/.run.XXXXXX")
QPID=
cleanup() {
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null
  exec 7>&- 8>&-   # our write ends of the output FIFOs, else the readers never see EOF
  wait 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
G=$RUN/guest; mkdir "$G" "$RUN/host"
mkfifo "$RUN/host/out" "$RUN/host/err"

RW_DIRS=${VM_RW_DIRS-$([ "$PWD" = / ] || echo "$PWD")}
q() { printf '%q' "$1"; }
{
  echo "KVER=$(q "$KVER")"
  echo "MODDIR=$(q "$KD/tree/lib/modules/$KVER")"
  rw=""; IFS=: read -ra a <<<"$RW_DIRS"
  for d in "${a[@]}"; do [ -n "$d" ] && rw="$rw $(readlink -f "$d")"; done
  echo "RW_DIRS=$(q "${rw# }")"
} >"$G/config"
{
  echo "cd $(q "$PWD") 2>/dev/null || cd /"
  for v in ${VM_PASS_ENV:-}; do [ -n "${!v+x}" ] && echo "export $v=$(q "${!v}")"; done
  printf '%s\n' "$CMD"
} >"$G/cmd.sh"
cat >"$G/stage2" <<STAGE2
# PID 1 inside the guest's real root (busybox sh)
BB=/run/vmbb/busybox
: >/run/vm/booted
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
OUT=/dev/console; ERR=/dev/console
for p in /sys/class/virtio-ports/*; do
  case \$(\$BB cat \$p/name) in out) OUT=/dev/\${p##*/};; err) ERR=/dev/\${p##*/};; esac
done
\$BB hostname nbdvm; echo "127.0.1.1 nbdvm" >>/etc/hosts; \$BB ip link set lo up
\$BB mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
for m in $MODULES; do modprobe \$m 2>>\$ERR || echo "dmp-vm: modprobe \$m failed" >>\$ERR; done
SH=/bin/bash; [ -x \$SH ] || SH=/bin/sh
\$SH /run/vm/cmd.sh </dev/null >\$OUT 2>\$ERR
echo \$? >/run/vm/rc
\$BB sync & i=0; while [ \$i -lt 50 ] && \$BB kill -0 \$! 2>/dev/null; do \$BB usleep 100000; i=\$((i+1)); done
\$BB poweroff -f
STAGE2

if [ "$ACCEL" = auto ]; then
  ACCEL=tcg
  if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; fi
fi
case $ACCEL in
  kvm) ACC=(-accel kvm -cpu host) ;;
  tcg) ACC=(-accel tcg,thread=multi -cpu max) ;;
  *) die "VM_ACCEL must be auto, kvm or tcg" ;;
esac
if [ "${VM_DEBUG:-}" = 1 ]; then CON=/proc/self/fd/2; else CON=$RUN/console.log; fi
SERIAL=(-chardev "file,id=con,path=$CON,append=on" -serial chardev:con)

FS=(-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
    -device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
    -fsdev "local,id=vmrun,path=$G,security_model=none,multidevs=remap"
    -device "virtio-9p-pci,fsdev=vmrun,mount_tag=vmrun")
i=0
for d in $(. "$G/config"; echo "$RW_DIRS"); do
  FS+=(-fsdev "local,id=rw$i,path=$d,security_model=none,multidevs=remap"
       -device "virtio-9p-pci,fsdev=rw$i,mount_tag=rw$i")
  i=$((i + 1))
done

# readers first; then we hold the write ends open (O_RDWR never blocks) so the
# readers cannot hang in open() even if qemu dies before opening its chardevs
cat "$RUN/host/out" & cat "$RUN/host/err" >&2 &
exec 7<>"$RUN/host/out" 8<>"$RUN/host/err"
QEMU=(qemu-system-x86_64 -nodefaults -no-user-config -nic none
  -machine "$MACHINE" "${ACC[@]}" -m "$MEM" -smp "$SMP" -display none -monitor none -no-reboot
  "${SERIAL[@]}" -kernel "$KERNEL" -initrd "$INITRD"
  -append "console=ttyS0 loglevel=7 panic=-1 oops=panic rdinit=/init $KARGS"
  "${FS[@]}"
  -device virtio-serial-pci,id=vser
  -chardev "file,id=out,path=$RUN/host/out" -device virtserialport,bus=vser.0,chardev=out,name=out
  -chardev "file,id=err,path=$RUN/host/err" -device virtserialport,bus=vser.0,chardev=err,name=err)
# Boot watchdog: stage2 touches $G/booted before the command starts. A boot
# that hangs (seen once in ~100 TCG boots here, cause unknown) is killed and retried.
BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-90}
tries=$((1 + ${VM_BOOT_RETRIES:-1}))
set +e
while :; do
  timeout -k 5 "$TIMEOUT" "${QEMU[@]}" </dev/null &
  QPID=$!
  t=0
  while [ ! -e "$G/booted" ] && kill -0 "$QPID" 2>/dev/null && [ $t -lt $((BOOT_TIMEOUT * 10)) ]; do
    sleep 0.1; t=$((t + 1))
  done
  tries=$((tries - 1))
  if [ ! -e "$G/booted" ] && kill -0 "$QPID" 2>/dev/null; then
    kill "$QPID"; wait "$QPID"
    echo "dmp-vm: guest did not boot within ${BOOT_TIMEOUT}s; console tail:" >&2
    [ -f "$RUN/console.log" ] && tail -n 15 "$RUN/console.log" >&2
    if [ $tries -gt 0 ]; then echo "dmp-vm: retrying boot" >&2; continue; fi
    exit 125
  fi
  wait "$QPID"; QRC=$?
  break
done
QPID=
exec 7>&- 8>&-
wait   # let the cat readers drain
set -e
if [ -f "$G/rc" ]; then exit "$(cat "$G/rc")"; fi
[ "$QRC" = 124 ] && { echo "dmp-vm: timeout after ${TIMEOUT}s" >&2; exit 124; }
echo "dmp-vm: guest did not report an exit status (qemu rc=$QRC); console:" >&2
[ -f "$RUN/console.log" ] && tail -n 40 "$RUN/console.log" >&2
exit 125
