#!/usr/bin/env bash
# Build the lab cluster's programs from their pinned sources, into a cache outside the
# checkout. Each component is a Go module under tests/lab/src/<component>/ whose go.mod is
# the pin; its binaries go to $SNFS_LAB_CACHE/bin/<component>-<key>/, key = sha256 of the
# module's files, this script and the Go version. A present, complete directory is reused:
# a component is rebuilt only when one of those changes.
#
#   kubernetes   kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy
#                kubectl kubeadm (k8s.io/kubernetes + its staging modules, version ldflags)
#                and pause (build/pause/linux/pause.c of the same module, gcc -static)
#   etcd         etcd (go.etcd.io/etcd/server/v3)
#   coredns      coredns (github.com/coredns/coredns)
#   provisioner  nfs-subdir-provisioner-lab (tests/lab/src/provisioner/main.go says why)
#
# Usage: tests/lab/build-binaries.sh [component ...]     (default: all four)
# Prints "<component> <directory>" per component on stdout; progress on stderr.
# A failure prints one line naming the component and its log (.lab/logs/build-<c>.log).
#
# Environment: SNFS_LAB_CACHE (default /var/cache/stateful-nfs-lab), GOMODCACHE/GOCACHE
# (Go's defaults, also outside the checkout), SNFS_BUILD_TIMEOUT (seconds per component,
# default 3600: a cold Kubernetes build takes 10-15 minutes on 2 cores).
set -euo pipefail
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab.sh"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
BUILD_TIMEOUT="${SNFS_BUILD_TIMEOUT:-3600}"
SRC="$LAB_REPO/tests/lab/src"
ALL=(kubernetes etcd coredns provisioner)

command -v go >/dev/null || lab_die "build: the Go toolchain is missing (go not on PATH; Go >= 1.26 is needed)"
mkdir -p "$LAB_CACHE/bin" "$LAB_DIR/logs"

# The module's version of a dependency, as pinned in its go.mod.
module_version() { (cd "$SRC/$1" && go list -m -f '{{.Version}}' "$2"); }

# The key: what the build is made from (the module's files, this script, the Go version), by
# content only, so that every checkout of the same sources finds the same build.
component_key() {
  local component="$1"
  { go version
    sha256sum <"$(readlink -f "${BASH_SOURCE[0]}")"
    (cd "$SRC/$component" && find . -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -c1-16
}

build_kubernetes() {
  local out="$1" version major minor date ldflags="-s -w" pkg
  version="$(module_version kubernetes k8s.io/kubernetes)"
  major="${version#v}"; major="${major%%.*}"
  minor="${version#v*.}"; minor="${minor%%.*}"
  # The release's publication time as build date: the same pin gives the same binaries.
  date="$(cd "$SRC/kubernetes" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  # hack/lib/version.sh sets these in both packages.
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  (cd "$SRC/kubernetes" && go build -trimpath -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubeadm)
  # The sandbox ("pause") image's program, from the same release, as build/pause/Makefile does.
  local src pause_tag
  src="$(cd "$SRC/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause"
  pause_tag="$(sed -n 's/^TAG ?= *//p' "$src/Makefile")"
  gcc -Os -Wall -Werror -static -DVERSION="v$pause_tag-k8s-$version" -o "$out/pause" "$src/linux/pause.c"
  printf '%s\n' "$pause_tag" >"$out/pause.version"
  printf '%s\n' "$version" >"$out/version"
}

build_etcd() {
  local out="$1"
  (cd "$SRC/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
  module_version etcd go.etcd.io/etcd/server/v3 >"$out/version"
}

build_coredns() {
  local out="$1"
  (cd "$SRC/coredns" && go build -trimpath -ldflags "-s -w" -o "$out/coredns" github.com/coredns/coredns)
  module_version coredns github.com/coredns/coredns >"$out/version"
}

build_provisioner() {
  local out="$1"
  (cd "$SRC/provisioner" && go build -trimpath -ldflags "-s -w" -o "$out/nfs-subdir-provisioner-lab" .)
  printf 'lib-%s\n' "$(module_version provisioner sigs.k8s.io/sig-storage-lib-external-provisioner/v13)" >"$out/version"
}

build_one() {
  local component="$1" key dir log start
  key="$(component_key "$component")"
  dir="$LAB_CACHE/bin/$component-$key"
  if [ -f "$dir/.complete" ]; then
    printf '%s %s\n' "$component" "$dir"
    return 0
  fi
  log="$LAB_DIR/logs/build-$component.log"
  lab_log "building $component (key $key) into $dir; log $log"
  start="$(date +%s)"
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$dir.tmp"
  if ! timeout "$BUILD_TIMEOUT" bash -euo pipefail -c 'build_'"$component"' "$1"' _ "$dir.tmp" >"$log" 2>&1; then
    rm -rf "$dir.tmp"
    lab_die "building $component failed: $(grep -m1 -iE 'error|fail|denied|refused|not found|timeout' "$log" || tail -n 1 "$log"); log: $log"
  fi
  touch "$dir.tmp/.complete"
  mv "$dir.tmp" "$dir"
  lab_log "built $component $(cat "$dir/version") in $(( $(date +%s) - start )) s"
  # Older builds of the same component are no longer pinned; the newest other one stays, as a
  # running lab (or another checkout) may still use it.
  find "$LAB_CACHE/bin" -maxdepth 1 -name "$component-*" ! -name "$component-$key" ! -name '*.tmp' -printf '%T@ %p\n' \
    | sort -rn | tail -n +2 | cut -d' ' -f2- | xargs -r rm -rf
  printf '%s %s\n' "$component" "$dir"
}

export SRC
export -f module_version build_kubernetes build_etcd build_coredns build_provisioner
components=("$@")
[ "${#components[@]}" -gt 0 ] || components=("${ALL[@]}")
exec 9>"$LAB_CACHE/build-binaries.lock"
flock -w "$BUILD_TIMEOUT" 9 || lab_die "build: another build-binaries.sh holds $LAB_CACHE/build-binaries.lock"
for component in "${components[@]}"; do
  [ -d "$SRC/$component" ] || lab_die "build: unknown component '$component' (one of: ${ALL[*]})"
  build_one "$component"
done
