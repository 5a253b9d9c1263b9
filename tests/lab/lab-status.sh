#!/usr/bin/env bash
# Print what the lab consists of right now: containers (distro, address, systemd
# state, NFS services), the export volume, and the Kubernetes test double.
# Read-only; bounded (every docker exec has a timeout).
set -euo pipefail
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab.sh"

"$DOCKER" info >/dev/null 2>&1 || lab_die "docker daemon is not reachable"

printf '%-16s %-26s %-15s %-9s %s\n' CONTAINER IMAGE ADDRESS SYSTEMD "NFS SERVICES (active)"
for spec in "${LAB_CONTAINERS[@]}"; do
  IFS='|' read -r name image _ <<<"$spec"
  if ! "$DOCKER" container inspect "$name" >/dev/null 2>&1; then
    printf '%-16s %-26s %s\n' "$name" "$image" "(absent)"
    continue
  fi
  addr="$("$DOCKER" container inspect -f "{{ (index .NetworkSettings.Networks \"$LAB_NETWORK\").IPAddress }}" "$name" 2>/dev/null || echo '?')"
  state="$(timeout 10 "$DOCKER" exec "$name" systemctl is-system-running 2>/dev/null || true)"
  # shellcheck disable=SC2016  # expanded by the container's shell
  services="$(timeout 10 "$DOCKER" exec "$name" sh -c \
    'for u in nfs-ganesha nfs-server nfs-kernel-server rpcbind; do [ "$(systemctl is-active $u 2>/dev/null)" = active ] && printf "%s " $u; done; true' 2>/dev/null || true)"
  printf '%-16s %-26s %-15s %-9s %s\n' "$name" "$image" "${addr:-?}" "${state:-?}" "${services:--}"
done
if "$DOCKER" volume inspect "$LAB_EXPORT_VOLUME" >/dev/null 2>&1; then
  echo "export volume: $LAB_EXPORT_VOLUME -> snfs-lab-nfs:/srv/nfs"
  if timeout 10 "$DOCKER" exec snfs-lab-nfs test -f /etc/ganesha/ganesha.conf 2>/dev/null; then
    echo "ganesha exports (Path lines of /etc/ganesha/ganesha.conf):"
    timeout 10 "$DOCKER" exec snfs-lab-nfs sh -c "grep -E '^[[:space:]]*Path' /etc/ganesha/ganesha.conf | sed 's/^[[:space:]]*/  /'" || true
  fi
fi
if k8s_double_running; then
  echo "k8s test double: running, pid $(cat "$K8S_DOUBLE_PID"), kubeconfig $K8S_KUBECONFIG, log $K8S_DOUBLE_LOG"
else
  echo "k8s test double: not running"
fi
