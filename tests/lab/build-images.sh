#!/usr/bin/env bash
# Build the lab images stateful-nfs-lab:bookworm and stateful-nfs-lab:trixie
# without any registry: debootstrap a minbase root, configure it for systemd in
# a container, `docker import` it.
#
# Usage: tests/lab/build-images.sh [--force] [bookworm] [trixie]
#
# Idempotent: every image carries the label io.stateful-nfs.lab-image.hash, the
# sha256 of this script. An image whose label matches is kept; otherwise it is
# rebuilt. Downloaded .debs are cached outside the checkout, in
# $SNFS_LAB_CACHE/debootstrap/<suite>/ (default /var/cache/stateful-nfs-lab).
# The NFS packages are NOT in the image: the roles install them for real.
set -euo pipefail

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$SCRIPT")/lab.sh"   # DOCKER, LAB_CACHE
MIRROR="${SNFS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SNFS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
IMAGE_REPO="stateful-nfs-lab"
HASH_LABEL="io.stateful-nfs.lab-image.hash"
# Everything a systemd container needs to be managed by Ansible (python3,
# python3-apt for ansible.builtin.apt, sudo for `become`) and nothing else.
INCLUDE="python3,python3-apt,systemd,systemd-sysv,dbus,ca-certificates,iproute2,procps,netbase,sudo"
# Units that cannot work (or only do harm) in an unprivileged container.
MASK_UNITS=(
  getty.target console-getty.service getty@tty1.service serial-getty@console.service
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service
  systemd-remount-fs.service systemd-sysctl.service systemd-modules-load.service
  systemd-firstboot.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount
  sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
  sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount
  systemd-ask-password-console.path systemd-ask-password-wall.path
  apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service
  e2scrub_all.timer e2scrub_reap.service fstrim.timer
)
BUILD_TIMEOUT="${SNFS_BUILD_TIMEOUT:-900}"   # seconds, per debootstrap

log() { printf '[build-images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

force=0
suites=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    bookworm|trixie) suites+=("$arg") ;;
    -h|--help) sed -n '2,13p' "$SCRIPT"; exit 0 ;;
    *) die "unknown argument '$arg' (expected --force, bookworm, trixie)" ;;
  esac
done
[ "${#suites[@]}" -gt 0 ] || suites=(bookworm trixie)

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, docker)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (make deps)"
"$DOCKER" info >/dev/null 2>&1 || die "docker daemon is not reachable (make deps starts it)"

script_hash="$(sha256sum "$SCRIPT" | cut -c1-16)"

# One build at a time on this machine.
mkdir -p "$LAB_CACHE"
exec 9>"$LAB_CACHE/build-images.lock"
flock -w 1800 9 || die "another build-images.sh is still running (lock $LAB_CACHE/build-images.lock)"

current_hash() {
  "$DOCKER" image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

configure_root() {
  local root="$1" suite="$2"
  # apt: main + updates + security, deb822 format.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  printf 'Acquire::Retries "5";\n' >"$root/etc/apt/apt.conf.d/80stateful-nfs-lab-retries"
  # As Debian's official container images do (docker-apt-speedup, docker-no-languages): no
  # fsync per unpacked file (a disposable container), no translation indexes to download.
  printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/80stateful-nfs-lab-unsafe-io"
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/80stateful-nfs-lab-no-languages"
  # Empty machine-id: systemd generates a fresh (transient) one in every container.
  : >"$root/etc/machine-id"
  mkdir -p "$root/var/lib/dbus"
  ln -sf /etc/machine-id "$root/var/lib/dbus/machine-id"
  # docker bind-mounts its own hostname, hosts and resolv.conf.
  printf 'localhost\n' >"$root/etc/hostname"
  : >"$root/etc/resolv.conf"
  for unit in "${MASK_UNITS[@]}"; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  # Journal: keep it small, in memory (the lab is disposable).
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' >"$root/etc/systemd/journald.conf.d/stateful-nfs-lab.conf"
  # No baked-in package lists or downloaded packages; the roles run apt for real.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
  find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
  find "$root/var/log" -type f -delete
  rm -rf "$root"/tmp/* "$root"/var/tmp/*
}

build_one() {
  local suite="$1" tag="$IMAGE_REPO:$1"
  local have; have="$(current_hash "$tag")"
  if [ "$force" = 0 ] && [ "$have" = "$script_hash" ]; then
    log "$tag is up to date (hash $script_hash), skipping"
    return 0
  fi
  if [ -n "$have" ]; then
    log "$tag exists with hash '${have}', this script is $script_hash: rebuilding"
  fi
  local old_id; old_id="$("$DOCKER" image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  local start; start="$(date +%s)"
  local work; work="$(mktemp -d /var/tmp/snfs-lab-build-"$suite".XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf --one-file-system '$work'" EXIT
  local cache="$LAB_CACHE/debootstrap/$suite"
  mkdir -p "$cache"
  log "debootstrap $suite (minbase + $INCLUDE) into $work/root"
  if ! timeout "$BUILD_TIMEOUT" debootstrap --variant=minbase --include="$INCLUDE" \
      --components=main --cache-dir="$cache" \
      --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
      "$suite" "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2 || true
    [ -f "$work/root/debootstrap/debootstrap.log" ] && tail -n 30 "$work/root/debootstrap/debootstrap.log" >&2
    die "debootstrap $suite failed (see above)"
  fi
  configure_root "$work/root" "$suite"
  # Same command for both suites. systemd 257 (trixie) refuses cgroup v1 on a
  # host unless SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 is on the kernel command
  # line, but inside a container it follows the host's hierarchy and boots
  # (journal: "System is tainted: ...cgroupsv1"); measured on this cgroup-v1 host.
  local cmd='["/lib/systemd/systemd"]'
  log "importing $tag"
  tar --numeric-owner --xattrs -C "$work/root" -c . | "$DOCKER" import \
    --change "CMD $cmd" \
    --change 'ENV container=docker' \
    --change "LABEL $HASH_LABEL=$script_hash io.stateful-nfs.lab-image.suite=$suite" \
    --message "stateful.nfs lab image $suite (debootstrap minbase)" \
    - "$tag" >/dev/null
  rm -rf --one-file-system "$work"
  trap - EXIT
  local new_id; new_id="$("$DOCKER" image inspect -f '{{.Id}}' "$tag")"
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    "$DOCKER" image rm "$old_id" >/dev/null 2>&1 || log "old image $old_id still in use, left in place"
  fi
  log "$tag built in $(( $(date +%s) - start )) s ($(du -sh "$cache" | cut -f1) of .debs cached in $cache)"
}

for suite in "${suites[@]}"; do
  build_one "$suite"
done
