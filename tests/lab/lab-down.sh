#!/usr/bin/env bash
# Tear the lab down: stop the Kubernetes test double (the recorded pid only),
# remove every container, network and volume carrying the lab label, and the
# lab's generated state (.lab/kubeconfig, .lab/cluster). Logs stay in .lab/.
# Nothing else is touched: no images, no unlabelled container/volume/network.
#
# Environment:
#   LAB_SELECTOR  docker label filter of what to remove (default
#                 io.stateful-nfs.lab.instance=lab: exactly what `make lab-up` made;
#                 io.stateful-nfs.lab=1 widens it to every lab-labelled leftover,
#                 molecule scenarios' included)
set -euo pipefail
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab.sh"

SELECTOR="${LAB_SELECTOR:-$LAB_INSTANCE_LABEL}"

# The test double: only the recorded pid, and only if it is the double.
if k8s_double_running; then
  pid="$(cat "$K8S_DOUBLE_PID")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    lab_log "k8s test double (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  lab_log "k8s test double stopped (pid $pid)"
fi
rm -f "$K8S_DOUBLE_PID" "$K8S_KUBECONFIG"
rm -rf "$K8S_DOUBLE_STATE"

if ! "$DOCKER" info >/dev/null 2>&1; then
  lab_log "docker daemon is not reachable: no containers to remove"
  exit 0
fi

mapfile -t containers < <("$DOCKER" ps -aq --filter "label=$SELECTOR")
if [ "${#containers[@]}" -gt 0 ]; then
  "$DOCKER" rm -f -v "${containers[@]}" >/dev/null
fi
mapfile -t networks < <("$DOCKER" network ls -q --filter "label=$SELECTOR")
if [ "${#networks[@]}" -gt 0 ]; then
  "$DOCKER" network rm "${networks[@]}" >/dev/null
fi
mapfile -t volumes < <("$DOCKER" volume ls -q --filter "label=$SELECTOR")
if [ "${#volumes[@]}" -gt 0 ]; then
  "$DOCKER" volume rm "${volumes[@]}" >/dev/null
fi
lab_log "removed (label $SELECTOR): ${#containers[@]} container(s), ${#networks[@]} network(s), ${#volumes[@]} volume(s)"

left="$("$DOCKER" ps -aq --filter "label=$SELECTOR")$("$DOCKER" network ls -q --filter "label=$SELECTOR")$("$DOCKER" volume ls -q --filter "label=$SELECTOR")"
[ -z "$left" ] || lab_die "something labelled $SELECTOR is still there: $left"
lab_log "lab is down"
