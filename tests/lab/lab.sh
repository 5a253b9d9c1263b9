# Shared definitions of the lab scripts (tests/lab/*.sh source this file).
# shellcheck shell=bash disable=SC2034  # variables used by the scripts that source this

LAB_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKER="${DOCKER:-/usr/bin/docker}"
# Build caches (Go builds, image archives) live outside the checkout, keyed by their pins.
LAB_CACHE="${SNFS_LAB_CACHE:-/var/cache/stateful-nfs-lab}"
# One lab per name: `make lab-up` makes "snfs-lab" (the one tests/lab/inventory names); the
# benchmark makes labs of its own (LAB_NAME=snfs-bench, LAB_NODES=1..6) beside it.
LAB_NAME="${LAB_NAME:-snfs-lab}"
LAB_NODES="${LAB_NODES:-3}"
if [ "$LAB_NAME" = snfs-lab ]; then
  LAB_DIR="$LAB_REPO/.lab"
  LAB_NETWORK="stateful-nfs-lab"
  LAB_INSTANCE_LABEL="io.stateful-nfs.lab.instance=lab"
else
  LAB_DIR="$LAB_REPO/.lab/labs/$LAB_NAME"
  LAB_NETWORK="$LAB_NAME"
  LAB_INSTANCE_LABEL="io.stateful-nfs.lab.instance=$LAB_NAME"
fi
LAB_LABEL="io.stateful-nfs.lab=1"
LAB_EXPORT_VOLUME="$LAB_NAME-nfs-export"

# The hosts: name|image|role. "nfs" is a bare host for the nfs_server role; the control plane
# runs etcd, kube-apiserver, kube-controller-manager and kube-scheduler as systemd units;
# each node runs containerd, kubelet and kube-proxy (node 2 on Debian 13, the others on
# Debian 12). Node N's pods get 10.244.N.0/24.
LAB_NFS="$LAB_NAME-nfs"
LAB_CONTROL_PLANE="$LAB_NAME-control-plane"
LAB_HOSTS=(
  "$LAB_NFS|stateful-nfs-lab:bookworm|nfs"
  "$LAB_CONTROL_PLANE|stateful-nfs-lab-node:bookworm|control-plane"
)
for _n in $(seq 1 "$LAB_NODES"); do
  LAB_HOSTS+=("$LAB_NAME-node-$_n|stateful-nfs-lab-node:$([ "$_n" = 2 ] && echo trixie || echo bookworm)|node")
done
unset _n
LAB_POD_CIDR="10.244.0.0/16"
LAB_SERVICE_CIDR="10.96.0.0/16"
LAB_CLUSTER_DNS="10.96.0.10"
LAB_CLUSTER_DOMAIN="cluster.local"

# The flags of every lab container (docs/dev/CONVENTIONS.md, "Lab platform snippet").
# No --privileged: it fails on this host.
LAB_RUN_FLAGS=(
  --cap-add SYS_ADMIN --cap-add NET_ADMIN
  --tmpfs /run --tmpfs /run/lock
  --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
  --stop-signal SIGRTMIN+3 --stop-timeout 10
)
# A Kubernetes host in a container, measured on this docker (20.10, cgroup v1): every
# capability but SYS_RESOURCE (missing here, hence no --privileged) and the three docker
# 20.10 does not know (BPF, PERFMON, CHECKPOINT_RESTORE); SYSLOG and /dev/kmsg for kubelet's
# OOM watcher; /dev/fuse for the lab's NFS mount helper; no seccomp/apparmor profile and
# unmasked /proc and /sys for runc, kubelet and kube-proxy; a private cgroup namespace, whose
# hierarchies the image's entrypoint remounts read-write (node/rootfs/usr/local/sbin/lab-entrypoint):
# the host's cgroup tree is out of reach.
LAB_K8S_CAPS=(
  AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH
  FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD
  NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW SETFCAP SETGID SETPCAP SETUID SYS_ADMIN
  SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_TIME
  SYS_TTY_CONFIG SYSLOG WAKE_ALARM
)
LAB_K8S_RUN_FLAGS=(
  "${LAB_K8S_CAPS[@]/#/--cap-add=}"
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined
  --security-opt systempaths=unconfined
  --device /dev/fuse --device /dev/kmsg
  --tmpfs /run --tmpfs /run/lock --tmpfs /tmp
  --cgroupns=private
  --stop-signal SIGRTMIN+3 --stop-timeout 30
)
LAB_KUBECONFIG="$LAB_DIR/kubeconfig"
LAB_CLUSTER_DIR="$LAB_DIR/cluster"
# What `make images` built: one set for every lab. LAB_IMAGES_JSON names another copy (the
# benchmark pins its own, so that a build in another checkout cannot remove what its labs use).
LAB_IMAGES_JSON="${LAB_IMAGES_JSON:-$LAB_REPO/.lab/images.json}"
# Where the lab's own images are named, and the label that keys each to what it is built from.
LAB_IMAGE_PREFIX="localhost/stateful-nfs-lab"
LAB_IMAGE_HASH_LABEL="io.stateful-nfs.lab-image.hash"

lab_log() { printf '[lab] %s\n' "$*" >&2; }
lab_die() { lab_log "ERROR: $*"; exit 1; }

# lab_field SPEC N: field N (1-based) of a LAB_HOSTS entry.
lab_field() { cut -d'|' -f"$2" <<<"$1"; }

# lab_address NAME: the container's address on the lab network ("" when absent).
lab_address() {
  "$DOCKER" container inspect -f "{{ (index .NetworkSettings.Networks \"$LAB_NETWORK\").IPAddress }}" "$1" 2>/dev/null || true
}

# lab_nodes: the names of the kubelet nodes, one per line.
lab_nodes() {
  local spec
  for spec in "${LAB_HOSTS[@]}"; do
    [ "$(lab_field "$spec" 3)" = node ] && lab_field "$spec" 1
  done
  return 0
}

# lab_image_hash IMAGE: the $LAB_IMAGE_HASH_LABEL label of a local image ("" if none).
lab_image_hash() {
  "$DOCKER" image inspect -f "{{ index .Config.Labels \"$LAB_IMAGE_HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

# lab_images_json KEY [SUBKEY]: a value of $LAB_IMAGES_JSON (what `make images` built).
lab_images_json() {
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); [v := v[k] for k in sys.argv[2:]]; print(v)' \
    "$LAB_IMAGES_JSON" "$@"
}
