#!/usr/bin/env bash
# What the lab consists of right now: the hosts (image, address, systemd, services), the
# Kubernetes nodes with their kubelet versions, the server version, the pods' images in
# each node's containerd, and the pods of kube-system. Read-only; every call is bounded.
set -euo pipefail
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab.sh"

"$DOCKER" info >/dev/null 2>&1 || lab_die "docker daemon is not reachable"

printf '%-24s %-14s %-32s %-15s %-9s %s\n' HOST ROLE IMAGE ADDRESS SYSTEMD "SERVICES (active)"
for spec in "${LAB_HOSTS[@]}"; do
  name="$(lab_field "$spec" 1)"; image="$(lab_field "$spec" 2)"; role="$(lab_field "$spec" 3)"
  if ! "$DOCKER" container inspect "$name" >/dev/null 2>&1; then
    printf '%-24s %-14s %-32s %s\n' "$name" "$role" "$image" "(absent)"
    continue
  fi
  state="$(timeout 10 "$DOCKER" exec "$name" systemctl is-system-running 2>/dev/null || true)"
  # shellcheck disable=SC2016  # expanded by the container's shell
  services="$(timeout 10 "$DOCKER" exec "$name" sh -c 'for u in nfs-ganesha nfs-server etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do [ "$(systemctl is-active $u 2>/dev/null)" = active ] && printf "%s " $u; done; true' 2>/dev/null || true)"
  printf '%-24s %-14s %-32s %-15s %-9s %s\n' "$name" "$role" "$image" "$(lab_address "$name")" "${state:-?}" "${services:--}"
done
if "$DOCKER" volume inspect "$LAB_EXPORT_VOLUME" >/dev/null 2>&1; then
  echo "export volume: $LAB_EXPORT_VOLUME -> $LAB_NFS:/srv/nfs"
fi
if [ ! -f "$LAB_KUBECONFIG" ] || [ ! -f "$LAB_IMAGES_JSON" ]; then
  echo "kubernetes: not up ($LAB_KUBECONFIG absent)"
  exit 0
fi
KUBECTL="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["binaries"]["kubernetes"])' "$LAB_IMAGES_JSON")/kubectl"
K=(timeout 20 "$KUBECTL" --kubeconfig "$LAB_KUBECONFIG")
echo
echo "kubeconfig: $LAB_KUBECONFIG"
"${K[@]}" version 2>&1 | grep -v '^Kustomize' || true
echo
"${K[@]}" get nodes -o wide 2>&1 || true
echo
echo "pods' images in each node's containerd:"
for node in $(lab_nodes); do
  printf '  %s: %s\n' "$node" "$(timeout 10 "$DOCKER" exec "$node" ctr -n k8s.io images ls -q 2>/dev/null | grep -v '^sha256:' | xargs || echo '(none)')"
done
echo
"${K[@]}" -n kube-system get pods -o wide 2>&1 || true
