#!/usr/bin/env bash
# Take the lab down: remove every container, network and volume carrying the lab label,
# and the lab's generated state (.lab/kubeconfig, .lab/cluster: the PKI and credentials).
# Logs stay in .lab/logs. Nothing else is touched: no image, no build cache, nothing
# unlabelled.
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
rm -rf "$LAB_KUBECONFIG" "$LAB_CLUSTER_DIR"

if ! "$DOCKER" info >/dev/null 2>&1; then
  lab_log "docker daemon is not reachable: no containers to remove"
  exit 0
fi
# Containers first (the kubelet nodes' FUSE mounts and pods end with them), then what they used.
mapfile -t containers < <("$DOCKER" ps -aq --filter "label=$SELECTOR")
if [ "${#containers[@]}" -gt 0 ]; then
  timeout 300 "$DOCKER" rm -f -v "${containers[@]}" >/dev/null
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
