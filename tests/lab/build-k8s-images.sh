#!/usr/bin/env bash
# Build the lab's Kubernetes images, without any registry (after build-images.sh, which
# makes the Debian base images):
#
#   stateful-nfs-lab-node:{bookworm,trixie}  the node image of the control plane and the
#       kubelet nodes (tests/lab/node/Dockerfile) with the lab's NFS mount helper
#   the pods' images, tagged localhost/stateful-nfs-lab/<name>:<version> (localhost/: a
#   name no registry serves, so nothing is ever pulled by mistake):
#       pause     build/pause of the pinned Kubernetes release (the sandbox image)
#       nginx     Debian 12's nginx, laid out like the upstream image (and Debian 13's, a
#                 newer release for rolling updates)
#       busybox   Debian 12's busybox-static
#       redis     Debian 12's redis-server, as its own non-root user (the multi-member example)
#       mariadb   Debian 12's mariadb-server, as its own non-root user (a primary and a replica)
#       coredns   the pinned CoreDNS release
#       nfs-subdir-provisioner-lab   the lab's provisioner stand-in
#   and $LAB_CACHE/images/pods-<key>.tar, the pods' images in one `docker save` archive that
#   lab-up.sh imports into every node's containerd; .lab/images.json names them.
#
# Idempotent: every image carries the label io.stateful-nfs.lab-image.hash, the sha256 of
# what it is built from; a matching image is kept. Usage: tests/lab/build-k8s-images.sh
set -euo pipefail
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab.sh"

HERE="$LAB_REPO/tests/lab"
PIP="$LAB_REPO/.venv/bin/pip"
MIRROR="${SNFS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BUILD_TIMEOUT="${SNFS_BUILD_TIMEOUT:-1800}"

"$DOCKER" info >/dev/null 2>&1 || lab_die "docker daemon is not reachable (make deps starts it)"
[ -x "$PIP" ] || lab_die "$PIP is missing (make deps)"
mkdir -p "$LAB_CACHE/images" "$LAB_DIR/logs"
exec 8>"$LAB_CACHE/build-k8s-images.lock"
flock -w "$BUILD_TIMEOUT" 8 || lab_die "another build-k8s-images.sh holds $LAB_CACHE/build-k8s-images.lock"

hash_of() { cat "$@" | sha256sum | cut -c1-16; }
files_of() { find "$@" -type f | LC_ALL=C sort; }

# run_logged NAME CMD...: run a build step, its output to .lab/logs/build-NAME.log.
run_logged() {
  local name="$1" log="$LAB_DIR/logs/build-$1.log"
  shift
  if ! timeout "$BUILD_TIMEOUT" "$@" >"$log" 2>&1; then
    lab_die "building $name failed: $(grep -m1 -iE 'error|fail|denied|refused|unable' "$log" || tail -n 1 "$log"); log: $log"
  fi
}

# --- the programs -------------------------------------------------------------------
declare -A BIN
while read -r component dir; do BIN[$component]="$dir"; done < <("$HERE/build-binaries.sh")
K8S_VERSION="$(cat "${BIN[kubernetes]}/version")"
PAUSE_VERSION="$(cat "${BIN[kubernetes]}/pause.version")"

# --- node images --------------------------------------------------------------------
wheels="$LAB_CACHE/mount-nfs-python-$(hash_of "$HERE/mount-nfs/requirements.txt")"
if [ ! -f "$wheels/.complete" ]; then
  lab_log "installing the NFS mount helper's libraries into $wheels"
  rm -rf "$wheels"
  run_logged mount-nfs-python "$PIP" install --quiet --no-deps --only-binary=:all: --require-hashes \
    --target "$wheels" -r "$HERE/mount-nfs/requirements.txt"
  touch "$wheels/.complete"
fi

build_node_image() {
  local suite="$1" tag="stateful-nfs-lab-node:$1" base="stateful-nfs-lab:$1" base_id key ctx
  base_id="$("$DOCKER" image inspect -f '{{.Id}}' "$base" 2>/dev/null)" || lab_die "image $base is missing: run 'make images'"
  # By content (paths relative to tests/lab/): every checkout of the same sources agrees.
  key="$( { echo "$base_id"; hash_of "$(readlink -f "${BASH_SOURCE[0]}")"; \
            cd "$HERE" && files_of node mount-nfs | xargs sha256sum; } | sha256sum | cut -c1-16)"
  if [ "$(lab_image_hash "$tag")" = "$key" ]; then
    lab_log "$tag is up to date"
    return 0
  fi
  lab_log "building $tag (log .lab/logs/build-node-$suite.log)"
  ctx="$(mktemp -d)"
  cp -a "$HERE/node/." "$ctx/"
  cp -a "$wheels" "$ctx/python"
  rm -f "$ctx/python/.complete"
  cp "$HERE/mount-nfs/mount_nfs_lab.py" "$ctx/"
  run_logged "node-$suite" "$DOCKER" build --build-arg "BASE=$base" --label "$LAB_IMAGE_HASH_LABEL=$key" -t "$tag" "$ctx"
  rm -rf "$ctx"
}
build_node_image bookworm
build_node_image trixie

# --- the pods' images ---------------------------------------------------------------
# Minimal Debian roots (debootstrap minbase, no systemd) for nginx and busybox.
minbase_image() {
  local suite="$1" tag="$LAB_IMAGE_PREFIX/debian:$1-minbase" key root
  # Keyed by this function (what it builds and how), the suite and the mirror.
  key="$( { declare -f minbase_image; echo "$suite $MIRROR"; } | sha256sum | cut -c1-16)"
  if [ "$(lab_image_hash "$tag")" != "$key" ]; then
    lab_log "building $tag (debootstrap; log .lab/logs/build-minbase-$suite.log)"
    root="$(mktemp -d /var/tmp/snfs-minbase.XXXXXX)"
    mkdir -p "$LAB_CACHE/debootstrap/$suite"
    run_logged "minbase-$suite" debootstrap --variant=minbase --components=main \
      --cache-dir="$LAB_CACHE/debootstrap/$suite" \
      --keyring=/usr/share/keyrings/debian-archive-keyring.gpg "$suite" "$root" "$MIRROR"
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$MIRROR" "$suite" "$suite" >"$root/etc/apt/sources.list.d/debian.sources"
    rm -f "$root/etc/apt/sources.list"
    printf 'force-unsafe-io\npath-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' \
      >"$root/etc/dpkg/dpkg.cfg.d/80stateful-nfs-lab"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* \
      "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/var/log/* "$root"/tmp/*
    find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
    tar --numeric-owner -C "$root" -c . | "$DOCKER" import --change "LABEL $LAB_IMAGE_HASH_LABEL=$key" \
      --change 'CMD ["bash"]' - "$tag" >/dev/null
    rm -rf --one-file-system "$root"
  fi
  printf '%s\n' "$tag"
}

# pod_image NAME TAG KEY CMD...: build unless the image with that tag has that key.
pod_image() {
  local name="$1" tag="$2" key="$3"
  shift 3
  if [ "$(lab_image_hash "$tag")" = "$key" ]; then
    return 0
  fi
  lab_log "building $tag (log .lab/logs/build-image-$name.log)"
  run_logged "image-$name" "$@"
}

# A single static program as the image's only file.
static_image() {
  local name="$1" program="$2" tag="$3" dir key
  dir="$(dirname "$program")"
  key="$(hash_of "$program")"
  pod_image "$name" "$tag" "$key" bash -c "tar --numeric-owner --owner=0 --group=0 -C '$dir' -c '$(basename "$program")' \
    | '$DOCKER' import --change 'LABEL $LAB_IMAGE_HASH_LABEL=$key' --change 'ENTRYPOINT [\"/$(basename "$program")\"]' - '$tag'"
}
static_image pause "${BIN[kubernetes]}/pause" "$LAB_IMAGE_PREFIX/pause:$PAUSE_VERSION"
static_image coredns "${BIN[coredns]}/coredns" "$LAB_IMAGE_PREFIX/coredns:$(cat "${BIN[coredns]}/version")"
static_image provisioner "${BIN[provisioner]}/nfs-subdir-provisioner-lab" \
  "$LAB_IMAGE_PREFIX/nfs-subdir-provisioner-lab:$(cat "${BIN[provisioner]}/version")"

# nginx and busybox: tagged with the upstream version of the Debian package they come from.
# debian_image NAME SUITE VERSION-COMMAND (run in the built image; prints the Debian version).
declare -A DEBIAN_RELEASE=([bookworm]=debian12 [trixie]=debian13)
debian_image() {
  local name="$1" suite="$2" version_command="$3" base key version tag
  base="$(minbase_image "$suite")"
  key="$( { "$DOCKER" image inspect -f '{{.Id}}' "$base"; cat "$HERE/pod-images/$name".* "$HERE/pod-images/$name"-* 2>/dev/null; } | sha256sum | cut -c1-16)"
  tag="$("$DOCKER" images --filter "label=$LAB_IMAGE_HASH_LABEL=$key" --format '{{.Repository}}:{{.Tag}}' "$LAB_IMAGE_PREFIX/$name" | head -n 1)"
  if [ -z "$tag" ]; then
    lab_log "building $LAB_IMAGE_PREFIX/$name from Debian $suite (log .lab/logs/build-image-$name-$suite.log)"
    run_logged "image-$name-$suite" "$DOCKER" build --build-arg "BASE=$base" --label "$LAB_IMAGE_HASH_LABEL=$key" \
      -f "$HERE/pod-images/$name.Dockerfile" -t "$LAB_IMAGE_PREFIX/$name:building" "$HERE/pod-images"
    version="$("$DOCKER" run --rm --entrypoint /bin/sh "$LAB_IMAGE_PREFIX/$name:building" -c "$version_command")"
    version="${version#*:}"     # no epoch
    version="${version%%-*}"    # no Debian revision
    [ -n "$version" ] || lab_die "building $name: could not read its version"
    tag="$LAB_IMAGE_PREFIX/$name:$version-${DEBIAN_RELEASE[$suite]}"
    "$DOCKER" tag "$LAB_IMAGE_PREFIX/$name:building" "$tag"
    "$DOCKER" rmi "$LAB_IMAGE_PREFIX/$name:building" >/dev/null
  fi
  printf '%s\n' "$tag"
}
NGINX_VERSION_COMMAND="dpkg-query -W -f '\${Version}' nginx"
NGINX_IMAGE="$(debian_image nginx bookworm "$NGINX_VERSION_COMMAND")"
# A second, newer nginx (Debian 13's) for rolling updates: upgrade.yml's canary and the like.
NGINX_UPGRADE_IMAGE="$(debian_image nginx trixie "$NGINX_VERSION_COMMAND")"
# "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."
BUSYBOX_IMAGE="$(debian_image busybox bookworm "busybox | sed -n '1s/^BusyBox v\\([0-9.]*\\).*/\\1/p'")"
REDIS_IMAGE="$(debian_image redis bookworm "dpkg-query -W -f '\${Version}' redis-server")"
MARIADB_IMAGE="$(debian_image mariadb bookworm "dpkg-query -W -f '\${Version}' mariadb-server")"

# --- one archive for the nodes, and the names for the inventory ---------------------------
POD_IMAGES=(
  "$LAB_IMAGE_PREFIX/pause:$PAUSE_VERSION"
  "$LAB_IMAGE_PREFIX/coredns:$(cat "${BIN[coredns]}/version")"
  "$LAB_IMAGE_PREFIX/nfs-subdir-provisioner-lab:$(cat "${BIN[provisioner]}/version")"
  "$NGINX_IMAGE" "$BUSYBOX_IMAGE" "$NGINX_UPGRADE_IMAGE" "$REDIS_IMAGE" "$MARIADB_IMAGE"
)
ids="$(for i in "${POD_IMAGES[@]}"; do "$DOCKER" image inspect -f '{{.Id}}' "$i"; done | sha256sum | cut -c1-16)"
archive="$LAB_CACHE/images/pods-$ids.tar"
if [ ! -f "$archive" ]; then
  lab_log "saving the pods' images to $archive"
  "$DOCKER" save "${POD_IMAGES[@]}" -o "$archive.tmp"
  mv "$archive.tmp" "$archive"
  find "$LAB_CACHE/images" -maxdepth 1 -name 'pods-*.tar' ! -name "pods-$ids.tar" -delete
fi
mkdir -p "$LAB_DIR"
cat >"$LAB_IMAGES_JSON.tmp" <<EOF
{
  "kubernetes_version": "$K8S_VERSION",
  "binaries": {"kubernetes": "${BIN[kubernetes]}", "etcd": "${BIN[etcd]}"},
  "archive": "$archive",
  "pause": "${POD_IMAGES[0]}",
  "coredns": "${POD_IMAGES[1]}",
  "provisioner": "${POD_IMAGES[2]}",
  "nginx": "$NGINX_IMAGE",
  "nginx_upgrade": "$NGINX_UPGRADE_IMAGE",
  "busybox": "$BUSYBOX_IMAGE",
  "redis": "$REDIS_IMAGE",
  "mariadb": "$MARIADB_IMAGE"
}
EOF
mv "$LAB_IMAGES_JSON.tmp" "$LAB_IMAGES_JSON"
lab_log "images ready: ${POD_IMAGES[*]} (node images stateful-nfs-lab-node:{bookworm,trixie})"
