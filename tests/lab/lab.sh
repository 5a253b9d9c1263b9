# Shared definitions for tests/lab/lab-up.sh, lab-down.sh and lab-status.sh (sourced).
# shellcheck shell=bash disable=SC2034  # variables used by the scripts that source this

LAB_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKER="${DOCKER:-/usr/bin/docker}"
LAB_DIR="$LAB_REPO/.lab"
LAB_LABEL="io.stateful-nfs.lab=1"
# Second label: marks what `make lab-up` itself created (molecule scenarios and
# prototypes may carry io.stateful-nfs.lab=1 too).
LAB_INSTANCE_LABEL="io.stateful-nfs.lab.instance=lab"
LAB_NETWORK="stateful-nfs-lab"
LAB_EXPORT_VOLUME="snfs-lab-nfs-export"
# name image extra-docker-run-flags
LAB_CONTAINERS=(
  "snfs-lab-nfs|stateful-nfs-lab:bookworm|--cap-add DAC_READ_SEARCH -v $LAB_EXPORT_VOLUME:/srv/nfs"
  "snfs-lab-node-1|stateful-nfs-lab:bookworm|"
  "snfs-lab-node-2|stateful-nfs-lab:trixie|"
  "snfs-lab-node-3|stateful-nfs-lab:bookworm|"
)
# The flags every lab container runs with (see docs/dev/CONVENTIONS.md,
# "Lab platform snippet"). No --privileged: it fails on this host.
LAB_RUN_FLAGS=(
  --cap-add SYS_ADMIN --cap-add NET_ADMIN
  --tmpfs /run --tmpfs /run/lock
  --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
  --stop-signal SIGRTMIN+3 --stop-timeout 10
)
K8S_DOUBLE_PKG="$LAB_REPO/tests/k8s_test_double"
K8S_DOUBLE_PID="$LAB_DIR/k8s_test_double.pid"
K8S_DOUBLE_LOG="$LAB_DIR/k8s_test_double.log"
K8S_DOUBLE_STATE="$LAB_DIR/cluster"
K8S_KUBECONFIG="$LAB_DIR/kubeconfig"

lab_log() { printf '[lab] %s\n' "$*" >&2; }
lab_die() { lab_log "ERROR: $*"; exit 1; }

# True if the pid in $K8S_DOUBLE_PID is alive and really is the test double.
k8s_double_running() {
  local pid
  [ -f "$K8S_DOUBLE_PID" ] || return 1
  pid="$(cat "$K8S_DOUBLE_PID")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'tests.k8s_test_double'
}
