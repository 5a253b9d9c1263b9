#!/usr/bin/env bash
# Bring the lab up (idempotent): network, export volume, four systemd containers,
# and the Kubernetes test double if its package exists. Safe to re-run: running
# containers on the current image are kept as they are.
#
# Environment:
#   LAB_BOOT_TIMEOUT      seconds to wait for systemd in each container (default 90)
#   K8S_TEST_DOUBLE_ARGS  extra arguments for `python -m tests.k8s_test_double`
#   K8S_DOUBLE_TIMEOUT    seconds to wait for the double's kubeconfig (default 30)
set -euo pipefail
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab.sh"

BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-90}"
DOUBLE_TIMEOUT="${K8S_DOUBLE_TIMEOUT:-30}"

"$DOCKER" info >/dev/null 2>&1 || lab_die "docker daemon is not reachable (make deps starts it)"
mkdir -p "$LAB_DIR"

for image in stateful-nfs-lab:bookworm stateful-nfs-lab:trixie; do
  "$DOCKER" image inspect "$image" >/dev/null 2>&1 || lab_die "image $image is missing: run 'make images'"
done

# Network and export volume.
if ! "$DOCKER" network inspect "$LAB_NETWORK" >/dev/null 2>&1; then
  "$DOCKER" network create --label "$LAB_LABEL" --label "$LAB_INSTANCE_LABEL" "$LAB_NETWORK" >/dev/null
  lab_log "network $LAB_NETWORK created"
fi
if ! "$DOCKER" volume inspect "$LAB_EXPORT_VOLUME" >/dev/null 2>&1; then
  "$DOCKER" volume create --label "$LAB_LABEL" --label "$LAB_INSTANCE_LABEL" "$LAB_EXPORT_VOLUME" >/dev/null
  lab_log "volume $LAB_EXPORT_VOLUME created (export dir /srv/nfs on snfs-lab-nfs)"
fi

# Containers.
for spec in "${LAB_CONTAINERS[@]}"; do
  IFS='|' read -r name image extra <<<"$spec"
  want_id="$("$DOCKER" image inspect -f '{{.Id}}' "$image")"
  if "$DOCKER" container inspect "$name" >/dev/null 2>&1; then
    have_id="$("$DOCKER" container inspect -f '{{.Image}}' "$name")"
    if [ "$have_id" != "$want_id" ]; then
      lab_log "$name runs an older $image: recreating it"
      "$DOCKER" rm -f -v "$name" >/dev/null
    elif [ "$("$DOCKER" container inspect -f '{{.State.Running}}' "$name")" != true ]; then
      lab_log "$name exists but is stopped: starting it"
      "$DOCKER" start "$name" >/dev/null
      continue
    else
      lab_log "$name is running ($image), kept"
      continue
    fi
  fi
  # shellcheck disable=SC2086  # $extra is a list of flags
  "$DOCKER" run -d --name "$name" --hostname "$name" \
    --network "$LAB_NETWORK" \
    --label "$LAB_LABEL" --label "$LAB_INSTANCE_LABEL" \
    "${LAB_RUN_FLAGS[@]}" $extra \
    "$image" /lib/systemd/systemd >/dev/null
  lab_log "$name started ($image)"
done

# Wait (bounded) for systemd to finish booting in every container.
for spec in "${LAB_CONTAINERS[@]}"; do
  IFS='|' read -r name _ _ <<<"$spec"
  deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
  state=unknown
  while [ "$(date +%s)" -lt "$deadline" ]; do
    state="$("$DOCKER" exec "$name" systemctl is-system-running 2>/dev/null || true)"
    case "$state" in running|degraded) break ;; esac
    sleep 0.5
  done
  case "$state" in
    running) ;;
    degraded) lab_log "$name: systemd is degraded: $("$DOCKER" exec "$name" systemctl --failed --no-legend --plain 2>/dev/null | awk '{print $1}' | xargs)" ;;
    *) lab_die "$name: systemd did not boot within ${BOOT_TIMEOUT}s (state '$state'); see 'docker logs $name'" ;;
  esac
done

# ---------------------------------------------------------------------------
# HOOK: the Kubernetes test double (tests/k8s_test_double, written separately).
# Started only if its package exists and is runnable (__main__.py), in its own
# session, pid in .lab/k8s_test_double.pid, log in .lab/k8s_test_double.log.
# Extra arguments (ports, the NFS server address, ...) go in K8S_TEST_DOUBLE_ARGS.
# ---------------------------------------------------------------------------
if [ ! -d "$K8S_DOUBLE_PKG" ]; then
  lab_log "k8s test double: tests/k8s_test_double does not exist, not started"
elif [ ! -f "$K8S_DOUBLE_PKG/__main__.py" ]; then
  lab_log "k8s test double: tests/k8s_test_double has no __main__.py yet, not started"
elif k8s_double_running; then
  lab_log "k8s test double: running (pid $(cat "$K8S_DOUBLE_PID")), kept"
else
  python="$LAB_REPO/.venv/bin/python"
  [ -x "$python" ] || lab_die "k8s test double: $python is missing (make deps)"
  rm -f "$K8S_KUBECONFIG"
  mkdir -p "$K8S_DOUBLE_STATE"
  # The double's fake nodes carry the names of the lab's k8s_nodes; its NFS
  # provisioner emulation reaches snfs-lab-nfs by its address on the lab network.
  nfs_ip="$("$DOCKER" container inspect -f "{{ (index .NetworkSettings.Networks \"$LAB_NETWORK\").IPAddress }}" snfs-lab-nfs)"
  nodes="$(printf '%s\n' "${LAB_CONTAINERS[@]}" | cut -d'|' -f1 | grep -- '-node-' | paste -sd, -)"
  # shellcheck disable=SC2086  # K8S_TEST_DOUBLE_ARGS is a list of arguments
  (cd "$LAB_REPO" && exec setsid "$python" -m tests.k8s_test_double \
      --state-dir "$K8S_DOUBLE_STATE" --kubeconfig "$K8S_KUBECONFIG" \
      --nodes "$nodes" --nfs-address-map "snfs-lab-nfs=$nfs_ip" ${K8S_TEST_DOUBLE_ARGS:-} \
      </dev/null >>"$K8S_DOUBLE_LOG" 2>&1) &
  echo $! >"$K8S_DOUBLE_PID"
  deadline=$(( $(date +%s) + DOUBLE_TIMEOUT ))
  until [ -s "$K8S_KUBECONFIG" ]; do
    if ! kill -0 "$(cat "$K8S_DOUBLE_PID")" 2>/dev/null; then
      tail -n 20 "$K8S_DOUBLE_LOG" >&2 || true
      rm -f "$K8S_DOUBLE_PID"
      lab_die "k8s test double exited during start-up (log: $K8S_DOUBLE_LOG)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      lab_die "k8s test double wrote no kubeconfig within ${DOUBLE_TIMEOUT}s (log: $K8S_DOUBLE_LOG; make lab-down stops it)"
    fi
    sleep 0.3
  done
  lab_log "k8s test double: started (pid $(cat "$K8S_DOUBLE_PID"), kubeconfig $K8S_KUBECONFIG)"
fi

lab_log "lab is up"
