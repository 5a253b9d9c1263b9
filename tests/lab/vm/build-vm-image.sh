#!/usr/bin/env bash
# Build the Debian 12 VM image of the kernel-NFS scenario (molecule/nfs_kernel_vm) without
# any downloaded disk image: debootstrap a minbase root with the packages listed in
# tests/lab/vm/packages, configure it for a VM (tests/lab/vm/guest/), make an ext4 disk
# from it with `mkfs.ext4 -d` (no loop device) and take the kernel and initrd from its /boot.
#
# Usage: tests/lab/vm/build-vm-image.sh [--force]
# Prints the image directory on stdout: disk.img (raw ext4, sparse), vmlinuz, initrd.img,
# manifest (installed packages), build.log.
#
# Cached outside the checkout in ${SNFS_VM_CACHE:-/var/cache/stateful-nfs-lab/vm}/<key>,
# where <key> is the sha256 of this script, the package list and the guest files: the
# image is rebuilt only when one of them changes. Downloaded .debs are kept in
# <cache>/debs (a rebuild does not download them again); the two most recently used
# images are kept, older ones removed once unused for a day.
set -euo pipefail

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
HERE="$(dirname "$SCRIPT")"
CACHE="${SNFS_VM_CACHE:-/var/cache/stateful-nfs-lab/vm}"
MIRROR="${SNFS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SNFS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE=bookworm
DISK_SIZE="${SNFS_VM_DISK_SIZE:-3G}"          # sparse; the root takes about 500 MB
BUILD_TIMEOUT="${SNFS_BUILD_TIMEOUT:-900}"    # seconds, for debootstrap
KEEP_IMAGES=2
# Units a disposable test VM does not need; apt's timers would race the roles' apt runs.
MASK_UNITS=(
  apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service
  e2scrub_all.timer e2scrub_reap.service fstrim.timer
  getty@tty1.service serial-getty@ttyS0.service
)
# The virtio and ext4 drivers the initrd needs to mount the root disk (MODULES=list).
INITRD_MODULES=(virtio_pci virtio_blk ext4)

log() { printf '[build-vm-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,16p' "$SCRIPT"; exit 0 ;;
    *) die "unknown argument '$arg' (expected --force)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
for tool in debootstrap mkfs.ext4 flock sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed (make deps)"
done

packages="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$HERE/packages" | grep -v '^$' | paste -sd, -)"
[ -n "$packages" ] || die "$HERE/packages lists no package"
key="$(cd "$HERE" && cat "$SCRIPT" packages guest/* | sha256sum | cut -c1-16)"
image="$CACHE/$key"

mkdir -p "$CACHE/debs"
if [ "$force" = 0 ] && [ -f "$image/READY" ]; then
  touch "$image/READY"    # most recently used: kept by the pruning below
  log "image $key is up to date"
  echo "$image"
  exit 0
fi

# One build at a time on this machine; a second caller waits and then finds it built.
exec 9>"$CACHE/.build.lock"
flock -w 1800 9 || die "another build-vm-image.sh is still running (lock $CACHE/.build.lock)"
if [ "$force" = 0 ] && [ -f "$image/READY" ]; then
  log "image $key was built meanwhile"
  echo "$image"
  exit 0
fi

start="$(date +%s)"
work="$(mktemp -d "$CACHE/.build-$key.XXXXXX")"
cleanup() {
  for m in proc sys dev; do umount "$work/root/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
root="$work/root"
mkdir -p "$root/etc/initramfs-tools/conf.d"
# Before debootstrap installs the kernel: its initrd then holds only what a VM needs.
printf 'MODULES=list\n' >"$root/etc/initramfs-tools/conf.d/stateful-nfs-lab.conf"

log "debootstrap $SUITE (minbase + $packages)"
if ! timeout "$BUILD_TIMEOUT" debootstrap --variant=minbase --include="$packages" \
    --components=main --cache-dir="$CACHE/debs" \
    --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$SUITE" "$root" "$MIRROR" >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2 || true
  die "debootstrap failed (see above)"
fi

log "configuring the root for a VM"
cat >"$root/etc/fstab" <<'EOF'
/dev/vda  /  ext4  rw,noatime,errors=remount-ro  0  1
EOF
printf 'localhost\n' >"$root/etc/hostname"
: >"$root/etc/machine-id"     # a fresh one per VM
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
printf 'Acquire::Retries "5";\n' >"$root/etc/apt/apt.conf.d/80stateful-nfs-lab-retries"
printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/80stateful-nfs-lab-no-languages"
# A disposable VM on a cache=unsafe disk: no fsync per unpacked file (as in the lab images).
printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/80stateful-nfs-lab-unsafe-io"
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' >"$root/etc/systemd/journald.conf.d/stateful-nfs-lab.conf"
for unit in "${MASK_UNITS[@]}"; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
install -m 0755 "$HERE/guest/snfs-vm-setup" "$root/usr/local/sbin/snfs-vm-setup"
install -m 0644 "$HERE/guest/snfs-vm-setup.service" "$root/etc/systemd/system/snfs-vm-setup.service"
install -m 0644 "$HERE/guest/sshd_config" "$root/etc/ssh/sshd_config.d/stateful-nfs-lab.conf"
rm -f "$root"/etc/ssh/ssh_host_*
printf '%s\n' "${INITRD_MODULES[@]}" >>"$root/etc/initramfs-tools/modules"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
chroot "$root" systemctl enable --quiet snfs-vm-setup.service systemd-networkd.service >>"$work/build.log" 2>&1
chroot "$root" update-initramfs -u -k all >>"$work/build.log" 2>&1
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$work/manifest"
for m in proc sys dev; do umount "$root/$m"; done
# No package lists or downloaded packages in the image: the roles run apt for real.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
find "$root/var/log" -type f -delete
rm -rf "$root"/tmp/* "$root"/var/tmp/*

kernel="$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)"
initrd="$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n 1)"
[ -n "$kernel" ] && [ -n "$initrd" ] || die "no kernel or initrd in $root/boot"
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
log "mkfs.ext4 -d (disk $DISK_SIZE, sparse)"
truncate -s "$DISK_SIZE" "$work/disk.img"
mkfs.ext4 -q -F -L snfs-root -d "$root" "$work/disk.img" >>"$work/build.log" 2>&1
rm -rf --one-file-system "$root"
printf 'key %s\nsuite %s\nkernel %s\nbuilt %s in %s s\n' "$key" "$SUITE" "$(basename "$kernel")" \
  "$(date -u +%FT%TZ)" "$(( $(date +%s) - start ))" >"$work/BUILD"

[ ! -e "$image" ] || rm -rf --one-file-system "$image"
mv "$work" "$image"
trap - EXIT
touch "$image/READY"
log "image $key built in $(( $(date +%s) - start )) s: $(du -sh --apparent-size "$image/disk.img" | cut -f1) disk" \
    "($(du -sh "$image/disk.img" | cut -f1) used), kernel $(basename "$kernel")"

# Keep the most recently used images (READY is touched on every use), and any image used
# within a day (a VM of another run may still boot from it).
find "$CACHE" -mindepth 2 -maxdepth 2 -name READY -printf '%T@ %h\n' | sort -rn | tail -n +$((KEEP_IMAGES + 1)) \
  | while read -r _ old; do
      if [ -n "$(find "$old/READY" -mmin +1440)" ]; then log "removing the old image $old"; rm -rf --one-file-system "$old"; fi
    done
echo "$image"
