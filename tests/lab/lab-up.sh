#!/usr/bin/env bash
# Bring the lab up: an NFS server host, a Kubernetes control plane and three kubelet
# nodes, all Ready, with cluster DNS answering. Idempotent: what is up and current is kept.
# Needs the images (make images: build-images.sh, then build-k8s-images.sh).
#
#   1 hosts          containers on the docker network stateful-nfs-lab
#   2 PKI            kubeadm init phase certs / kubeconfig (.lab/cluster/)
#   3 control plane  etcd, kube-apiserver, kube-controller-manager, kube-scheduler
#   4 nodes          routes, containerd + the pods' images, kubelet, kube-proxy; all Ready
#   5 DNS            kubeadm's CoreDNS addon; every node resolves through the Service IP
#
# A step that fails names what failed and where to look, and the lab is taken down again
# (nothing is left half-running). Bounds, in seconds (environment): LAB_BOOT_TIMEOUT (90,
# systemd in each container), LAB_API_TIMEOUT (120), LAB_READY_TIMEOUT (180, nodes Ready),
# LAB_DNS_TIMEOUT (120, CoreDNS answering). LAB_KEEP_ON_FAILURE=1 leaves a failed lab up for
# inspection.
set -euo pipefail
# shellcheck source=tests/lab/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab.sh"

BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-90}"
API_TIMEOUT="${LAB_API_TIMEOUT:-120}"
READY_TIMEOUT="${LAB_READY_TIMEOUT:-180}"
DNS_TIMEOUT="${LAB_DNS_TIMEOUT:-120}"
START="$(date +%s)"
PKI="$LAB_CLUSTER_DIR/pki"

step() { lab_log "[$(( $(date +%s) - START ))s] $*"; }

"$DOCKER" info >/dev/null 2>&1 || lab_die "docker daemon is not reachable (make deps starts it)"
# Every kubelet, containerd and systemd of the lab's containers takes inotify instances from the
# host's root user; the kernel's default (128) runs out with two labs, and kubelet then fails
# with "too many open files". kind documents the same setting.
if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt 512 ]; then
  sysctl -q -w fs.inotify.max_user_instances=512 \
    && lab_log "raised fs.inotify.max_user_instances to 512 (kubelets in containers share the host's)" \
    || lab_die "fs.inotify.max_user_instances is below 512 and cannot be raised here: sysctl -w fs.inotify.max_user_instances=512"
fi
[ -f "$LAB_IMAGES_JSON" ] || lab_die "$LAB_IMAGES_JSON is missing: run 'make images'"
K8S_BIN="$(lab_images_json binaries kubernetes)"
ETCD_BIN="$(lab_images_json binaries etcd)"
K8S_VERSION="$(lab_images_json kubernetes_version)"
ARCHIVE="$(lab_images_json archive)"
for path in "$K8S_BIN/.complete" "$ETCD_BIN/.complete" "$ARCHIVE"; do
  [ -e "$path" ] || lab_die "$path is missing: run 'make images'"
done
KUBECTL="$K8S_BIN/kubectl"
KUBEADM="$K8S_BIN/kubeadm"
mkdir -p "$LAB_DIR/logs" "$LAB_DIR/audit" "$LAB_CLUSTER_DIR"

# On failure, take down what this lab consists of, so nothing is left half-running.
cleanup_on_failure() {
  local rc=$?
  [ "$rc" = 0 ] && return 0
  if [ "${LAB_KEEP_ON_FAILURE:-0}" = 1 ]; then
    lab_log "lab-up failed (exit $rc); LAB_KEEP_ON_FAILURE=1: the lab is left as it is for inspection (make lab-down)"
    exit "$rc"
  fi
  lab_log "lab-up failed (exit $rc): taking the lab down again (logs stay in $LAB_DIR/logs)"
  "$LAB_REPO/tests/lab/lab-down.sh" >/dev/null 2>&1 || lab_log "lab-down failed too: run 'make lab-down'"
  exit "$rc"
}
trap cleanup_on_failure EXIT

# in_host HOST CMD...: a command in a lab container (stdin closed); in_host_stdin passes stdin on.
in_host() { local host="$1"; shift; timeout 120 "$DOCKER" exec "$host" "$@" </dev/null; }
in_host_stdin() { local host="$1"; shift; timeout 120 "$DOCKER" exec -i "$host" "$@"; }

# ------------------------------------------------------------------------ 1 hosts
step "1/5 hosts: network $LAB_NETWORK, NFS server, control plane, $(lab_nodes | wc -l) nodes"
# A lab is its containers and volumes together with this checkout's PKI (.lab/cluster): etcd and
# the nodes keep objects and tokens signed by that PKI. Containers left by another checkout (or
# kept after the PKI was removed) hold a cluster whose credentials this run does not have (CoreDNS
# then answers NXDOMAIN with its old token): take them down and start clean.
STATE_LABEL="io.stateful-nfs.lab.state=$LAB_DIR"
mapfile -t existing < <("$DOCKER" ps -aq --filter "label=$LAB_INSTANCE_LABEL")
if [ "${#existing[@]}" -gt 0 ]; then
  # "state:" keeps a container without the label (an older lab-up's) from reading as ours.
  foreign="$("$DOCKER" container inspect -f 'state:{{ index .Config.Labels "io.stateful-nfs.lab.state" }}' \
    "${existing[@]}" | sort -u | grep -vxF "state:$LAB_DIR" | sed 's/^state:$/an older lab-up/; s/^state://' | xargs || true)"
  if [ -n "$foreign" ] || [ ! -f "$PKI/ca.crt" ]; then
    lab_log "a lab named $LAB_NAME is up with ${foreign:+the state of }${foreign:-state this checkout no longer has (no $PKI/ca.crt)}: taking it down first"
    "$LAB_REPO/tests/lab/lab-down.sh" >>"$LAB_DIR/logs/lab-down.log" 2>&1 \
      || lab_die "could not take the old lab down; log: $LAB_DIR/logs/lab-down.log"
    mkdir -p "$LAB_CLUSTER_DIR"
  fi
fi
if ! "$DOCKER" network inspect "$LAB_NETWORK" >/dev/null 2>&1; then
  "$DOCKER" network create --label "$LAB_LABEL" --label "$LAB_INSTANCE_LABEL" "$LAB_NETWORK" >/dev/null
fi
if ! "$DOCKER" volume inspect "$LAB_EXPORT_VOLUME" >/dev/null 2>&1; then
  "$DOCKER" volume create --label "$LAB_LABEL" --label "$LAB_INSTANCE_LABEL" "$LAB_EXPORT_VOLUME" >/dev/null
fi

# The flags of a host, by its role.
run_flags() {
  local name="$1" role="$2"
  case "$role" in
    nfs)
      # DAC_READ_SEARCH: Ganesha's VFS FSAL (open_by_handle_at). The export directory is a
      # docker volume (Ganesha cannot export overlayfs).
      echo "${LAB_RUN_FLAGS[@]} --cap-add DAC_READ_SEARCH -v $LAB_EXPORT_VOLUME:/srv/nfs" ;;
    control-plane)
      echo "${LAB_K8S_RUN_FLAGS[@]} -v $K8S_BIN:/opt/stateful-nfs-lab/kubernetes:ro" \
           "-v $ETCD_BIN:/opt/stateful-nfs-lab/etcd:ro --mount type=volume,src=$name-etcd,dst=/var/lib/etcd" \
           "-v $LAB_DIR/audit:/var/log/kubernetes/audit" ;;
    node)
      # /var/lib/containerd on a volume: overlayfs on overlayfs fails.
      echo "${LAB_K8S_RUN_FLAGS[@]} -v $K8S_BIN:/opt/stateful-nfs-lab/kubernetes:ro" \
           "--mount type=volume,src=$name-containerd,dst=/var/lib/containerd" ;;
  esac
}

for spec in "${LAB_HOSTS[@]}"; do
  name="$(lab_field "$spec" 1)"; image="$(lab_field "$spec" 2)"; role="$(lab_field "$spec" 3)"
  want_image="$("$DOCKER" image inspect -f '{{.Id}}' "$image" 2>/dev/null)" \
    || lab_die "image $image is missing: run 'make images'"
  flags="$(run_flags "$name" "$role")"
  want="$(printf '%s %s' "$want_image" "$flags" | sha256sum | cut -c1-16)"
  if "$DOCKER" container inspect "$name" >/dev/null 2>&1; then
    have="$("$DOCKER" container inspect -f '{{ index .Config.Labels "io.stateful-nfs.lab.spec" }}' "$name")"
    if [ "$have" = "$want" ]; then
      [ "$("$DOCKER" container inspect -f '{{.State.Running}}' "$name")" = true ] || "$DOCKER" start "$name" >/dev/null
      continue
    fi
    lab_log "$name runs an older image or other flags: recreating it"
    "$DOCKER" rm -f -v "$name" >/dev/null
  fi
  for volume in $(grep -o 'src=[^,]*' <<<"$flags" | cut -d= -f2); do
    "$DOCKER" volume create --label "$LAB_LABEL" --label "$LAB_INSTANCE_LABEL" "$volume" >/dev/null
  done
  # shellcheck disable=SC2086  # $flags is a list of flags
  "$DOCKER" run -d --name "$name" --hostname "$name" --network "$LAB_NETWORK" \
    --label "$LAB_LABEL" --label "$LAB_INSTANCE_LABEL" --label "$STATE_LABEL" --label "io.stateful-nfs.lab.spec=$want" \
    --label "io.stateful-nfs.lab.role=$role" $flags "$image" >/dev/null
done

for spec in "${LAB_HOSTS[@]}"; do
  name="$(lab_field "$spec" 1)"
  deadline=$(( $(date +%s) + BOOT_TIMEOUT )); state=unknown
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
CP_ADDRESS="$(lab_address "$LAB_CONTROL_PLANE")"

# ------------------------------------------------------------------------ 2 PKI
# render TEMPLATE: the template with its @NAME@ placeholders filled in.
render() {
  sed -e "s|@CONTROL_PLANE_ADDRESS@|$CP_ADDRESS|g" -e "s|@CONTROL_PLANE_NAME@|$LAB_CONTROL_PLANE|g" \
      -e "s|@KUBERNETES_VERSION@|$K8S_VERSION|g" -e "s|@PKI_DIR@|$PKI|g" \
      -e "s|@CLUSTER_DOMAIN@|$LAB_CLUSTER_DOMAIN|g" -e "s|@CLUSTER_DNS@|$LAB_CLUSTER_DNS|g" \
      -e "s|@SERVICE_CIDR@|$LAB_SERVICE_CIDR|g" -e "s|@POD_CIDR@|$LAB_POD_CIDR|g" \
      -e "s|@IMAGE_REPOSITORY@|$(lab_images_json coredns | sed 's|/coredns:.*||')|g" \
      -e "s|@COREDNS_TAG@|$(lab_images_json coredns | sed 's|.*/coredns:||')|g" -e "s|@PAUSE_IMAGE@|$(lab_images_json pause)|g" "$1"
}
KUBEADM_CONFIG="$LAB_CLUSTER_DIR/kubeadm.yaml"

if [ ! -f "$PKI/ca.crt" ] || [ "$(cat "$LAB_CLUSTER_DIR/address" 2>/dev/null)" != "$CP_ADDRESS" ]; then
  step "2/5 PKI: kubeadm init phase certs / kubeconfig for $CP_ADDRESS"
  rm -rf "$PKI" "$LAB_CLUSTER_DIR"/*.conf
  render "$LAB_REPO/tests/lab/cluster/kubeadm.yaml.in" >"$KUBEADM_CONFIG"
  {
    "$KUBEADM" init phase certs all --config "$KUBEADM_CONFIG"
    "$KUBEADM" init phase kubeconfig admin --config "$KUBEADM_CONFIG" --kubeconfig-dir "$LAB_CLUSTER_DIR"
    "$KUBEADM" init phase kubeconfig super-admin --config "$KUBEADM_CONFIG" --kubeconfig-dir "$LAB_CLUSTER_DIR"
    "$KUBEADM" init phase kubeconfig controller-manager --config "$KUBEADM_CONFIG" --kubeconfig-dir "$LAB_CLUSTER_DIR"
    "$KUBEADM" init phase kubeconfig scheduler --config "$KUBEADM_CONFIG" --kubeconfig-dir "$LAB_CLUSTER_DIR"
    for node in $(lab_nodes); do
      "$KUBEADM" kubeconfig user --config "$KUBEADM_CONFIG" --client-name "system:node:$node" \
        --org system:nodes >"$LAB_CLUSTER_DIR/kubelet-$node.conf"
    done
    "$KUBEADM" kubeconfig user --config "$KUBEADM_CONFIG" --client-name system:kube-proxy \
      >"$LAB_CLUSTER_DIR/kube-proxy.conf"
  } >"$LAB_DIR/logs/lab-pki.log" 2>&1 || lab_die "kubeadm could not make the PKI; log: $LAB_DIR/logs/lab-pki.log"
  chmod 0600 "$LAB_CLUSTER_DIR"/*.conf
  printf '%s\n' "$CP_ADDRESS" >"$LAB_CLUSTER_DIR/address"
else
  step "2/5 PKI: kept (.lab/cluster/pki, control plane $CP_ADDRESS)"
fi
SUPER="$LAB_CLUSTER_DIR/super-admin.conf"

# copy_in HOST SRC DEST [MODE]: a file into a container (through a pipe: docker cp keeps
# the host's owner).
copy_in() {
  in_host_stdin "$1" install -D -m "${4:-0644}" /dev/stdin "$3" <"$2"
}
# copy_in when the host's file differs (or is missing); sets node_changed=1 then.
node_changed=0
update_in() {
  if ! in_host_stdin "$1" cmp -s - "$3" <"$2" 2>/dev/null; then
    copy_in "$@"
    node_changed=1
  fi
}
# cluster.env of a host (the systemd units read it).
cluster_env() {
  printf 'NODE_NAME=%s\nNODE_IP=%s\nSERVICE_CIDR=%s\nCLUSTER_DOMAIN=%s\n' \
    "$1" "$(lab_address "$1")" "$LAB_SERVICE_CIDR" "$LAB_CLUSTER_DOMAIN"
}
# The routes to every node's pod subnet, except the host's own.
NODES=()
while read -r node; do NODES+=("$node"); done < <(lab_nodes)
routes_for() {
  local i
  for i in "${!NODES[@]}"; do
    [ "${NODES[$i]}" = "$1" ] || printf '10.244.%d.0/24 %s\n' $(( i + 1 )) "$(lab_address "${NODES[$i]}")"
  done
}

# ------------------------------------------------------------------------ 3 control plane
step "3/5 control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler ($K8S_VERSION)"
tmp="$(mktemp -d)"
cluster_env "$LAB_CONTROL_PLANE" >"$tmp/cluster.env"
routes_for "$LAB_CONTROL_PLANE" >"$tmp/routes"
tar -C "$PKI" -c . | in_host_stdin "$LAB_CONTROL_PLANE" sh -c 'mkdir -p /etc/kubernetes/pki && tar -C /etc/kubernetes/pki -x --no-same-owner && chmod -R go-rwx /etc/kubernetes/pki'
for conf in controller-manager scheduler; do
  copy_in "$LAB_CONTROL_PLANE" "$LAB_CLUSTER_DIR/$conf.conf" "/etc/kubernetes/$conf.conf" 0600
done
copy_in "$LAB_CONTROL_PLANE" "$tmp/cluster.env" /etc/stateful-nfs-lab/cluster.env
copy_in "$LAB_CONTROL_PLANE" "$tmp/routes" /etc/stateful-nfs-lab/routes
in_host "$LAB_CONTROL_PLANE" systemctl restart lab-node-setup.service
in_host "$LAB_CONTROL_PLANE" systemctl enable -q --now etcd kube-apiserver kube-controller-manager kube-scheduler

deadline=$(( $(date +%s) + API_TIMEOUT ))
until "$KUBECTL" --kubeconfig "$SUPER" get --raw /readyz >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    reason="$(in_host "$LAB_CONTROL_PLANE" journalctl -u kube-apiserver -u etcd -p err -n 3 --no-pager -o cat 2>/dev/null | tail -n 3 | tr '\n' ' ')"
    lab_die "kube-apiserver not ready within ${API_TIMEOUT}s on $LAB_CONTROL_PLANE: ${reason:-no error logged}; see 'docker exec $LAB_CONTROL_PLANE journalctl -u kube-apiserver -u etcd'"
  fi
  sleep 1
done
# kubeadm's admin.conf user is in group kubeadm:cluster-admins, which kubeadm init binds to
# cluster-admin; only the phases above ran, so bind it here (super-admin.conf is
# system:masters and stays in .lab/cluster/).
"$KUBECTL" --kubeconfig "$SUPER" create clusterrolebinding kubeadm:cluster-admins \
  --clusterrole=cluster-admin --group=kubeadm:cluster-admins --dry-run=client -o yaml \
  | "$KUBECTL" --kubeconfig "$SUPER" apply -f - >/dev/null
install -m 0600 "$LAB_CLUSTER_DIR/admin.conf" "$LAB_KUBECONFIG"
K="$KUBECTL --kubeconfig $LAB_KUBECONFIG"

# ------------------------------------------------------------------------ 4 nodes
step "4/5 nodes: ${NODES[*]} (containerd, the pods' images, kubelet, kube-proxy)"
for i in "${!NODES[@]}"; do
  node="${NODES[$i]}"
  node_changed=0
  cluster_env "$node" >"$tmp/cluster.env"
  routes_for "$node" >"$tmp/routes"
  cat >"$tmp/cni.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "stateful-nfs-lab",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.$(( i + 1 )).0/24"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  update_in "$node" "$tmp/cluster.env" /etc/stateful-nfs-lab/cluster.env
  update_in "$node" "$tmp/routes" /etc/stateful-nfs-lab/routes
  update_in "$node" "$tmp/cni.conflist" /etc/cni/net.d/10-stateful-nfs-lab.conflist
  update_in "$node" "$PKI/ca.crt" /etc/kubernetes/pki/ca.crt
  update_in "$node" "$LAB_CLUSTER_DIR/kubelet-$node.conf" /etc/kubernetes/kubelet.conf 0600
  update_in "$node" "$LAB_CLUSTER_DIR/kube-proxy.conf" /etc/kubernetes/kube-proxy.conf 0600
  for template in containerd-config.toml:/etc/containerd/config.toml kubelet.yaml:/etc/kubernetes/kubelet.yaml \
                  kube-proxy.yaml:/etc/kubernetes/kube-proxy.yaml; do
    in_host "$node" cat "/etc/stateful-nfs-lab/templates/${template%%:*}" >"$tmp/template"
    render "$tmp/template" >"$tmp/rendered"
    update_in "$node" "$tmp/rendered" "${template#*:}"
  done
  # A re-run on a node that runs as configured restarts nothing: a restart of the node's
  # set-up and containerd re-created running pods' sandboxes (new pod IPs).
  if [ "$node_changed" = 1 ] || ! in_host "$node" systemctl is-active -q containerd; then
    in_host "$node" systemctl restart lab-node-setup.service
    in_host "$node" systemctl enable -q containerd
    in_host "$node" systemctl restart containerd
  fi
done
# The pods' images: one archive, imported into each node's containerd (there is no registry).
want_images="$(tar -xOf "$ARCHIVE" manifest.json | python3 -c 'import json,sys; print("\n".join(sorted(t for m in json.load(sys.stdin) for t in m["RepoTags"])))')"
for node in "${NODES[@]}"; do
  have="$(in_host "$node" ctr -n k8s.io images ls -q 2>/dev/null | sort || true)"
  if [ -n "$(comm -23 <(echo "$want_images") <(echo "$have"))" ]; then
    timeout 300 "$DOCKER" exec -i "$node" ctr -n k8s.io images import - <"$ARCHIVE" >"$LAB_DIR/logs/lab-images-$node.log" 2>&1 \
      || lab_die "importing the pods' images into $node failed; log: $LAB_DIR/logs/lab-images-$node.log"
  fi
  in_host "$node" systemctl enable -q --now kubelet kube-proxy
done
rm -rf "$tmp"

# Bounded wait; on timeout, name the node and kubelet's last error.
deadline=$(( $(date +%s) + READY_TIMEOUT ))
while :; do
  not_ready=()
  for node in "${NODES[@]}"; do
    status="$($K get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)"
    [ "$status" = True ] || not_ready+=("$node")
  done
  [ "${#not_ready[@]}" = 0 ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    for node in "${not_ready[@]}"; do
      last="$(in_host "$node" journalctl -u kubelet --no-pager -o cat -n 200 2>/dev/null | grep -E '^E[0-9]{4}' | tail -n 1 | cut -c1-400)"
      lab_log "node $node is not Ready after ${READY_TIMEOUT}s; kubelet's last error: ${last:-none logged}"
    done
    lab_die "nodes not Ready: ${not_ready[*]} (see 'docker exec <node> journalctl -u kubelet')"
  fi
  sleep 2
done

# ------------------------------------------------------------------------ 5 DNS
step "5/5 cluster DNS: CoreDNS $(lab_images_json coredns | sed 's|.*:||') behind $LAB_CLUSTER_DNS"
render "$LAB_REPO/tests/lab/cluster/coredns-corefile.yaml" | $K apply -f - >/dev/null
"$KUBEADM" init phase addon coredns --config "$KUBEADM_CONFIG" --kubeconfig "$SUPER" \
  >"$LAB_DIR/logs/lab-coredns.log" 2>&1 || lab_die "kubeadm init phase addon coredns failed; log: $LAB_DIR/logs/lab-coredns.log"
deadline=$(( $(date +%s) + DNS_TIMEOUT ))
for node in "${NODES[@]}"; do
  until answer="$(in_host "$node" busybox nslookup "kubernetes.default.svc.$LAB_CLUSTER_DOMAIN" "$LAB_CLUSTER_DNS" 2>&1)" \
        && grep -q '^Address.*10\.96\.0\.1$' <<<"$answer"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      lab_die "cluster DNS does not answer on $node within ${DNS_TIMEOUT}s: $(tr '\n' ' ' <<<"$answer"); pods: $($K -n kube-system get pods -l k8s-app=kube-dns --no-headers 2>&1 | tr '\n' ' ')"
    fi
    sleep 2
  done
done

# A lab of another name gets an inventory of its own beside its state ($LAB_DIR/inventory): its
# hosts, the main lab inventory's group_vars, and this lab's kubeconfig and report directory (the
# images stay the checkout's, .lab/images.json). The lab snfs-lab's is tests/lab/inventory.
if [ "$LAB_NAME" != snfs-lab ]; then
  mkdir -p "$LAB_DIR/inventory"
  ln -sfn "$LAB_REPO/tests/lab/inventory/group_vars" "$LAB_DIR/inventory/group_vars"
  {
    echo "---"
    echo "# Generated by tests/lab/lab-up.sh for lab $LAB_NAME ($LAB_NODES node(s)); written again by each lab-up."
    echo "all:"
    echo "  children:"
    echo "    nfs_server:"
    echo "      hosts:"
    echo "        $LAB_NFS:"
    echo "    k8s_nodes:"
    echo "      hosts:"
    for node in "${NODES[@]}"; do echo "        $node:"; done
    echo "    k8s_api:"
    echo "      hosts:"
    echo "        localhost:"
    echo "          ansible_connection: local"
    echo "          ansible_python_interpreter: \"{{ ansible_playbook_python }}\""
    echo "          k8s_api_lab_dir: $LAB_REPO/.lab"
    echo "          k8s_statefulset_nginx_kubeconfig: $LAB_KUBECONFIG"
    echo "          k8s_statefulset_nginx_report_dir: $LAB_DIR/report"
    echo "          nfs_provisioner_k8s_auth: {kubeconfig: $LAB_KUBECONFIG}"
    echo "          statefulset_k8s_auth: {kubeconfig: $LAB_KUBECONFIG}"
    echo "          statefulset_report_dir: $LAB_DIR/report/statefulset"
    echo "    lab_containers:"
    echo "      children:"
    echo "        nfs_server:"
    echo "        k8s_nodes:"
  } > "$LAB_DIR/inventory/hosts.yml"
  step "inventory of lab $LAB_NAME: $LAB_DIR/inventory (ansible-playbook site.yml -i $LAB_DIR/inventory)"
fi

trap - EXIT
step "lab is up: $($K get nodes --no-headers | awk '$2=="Ready"' | wc -l) nodes Ready, Kubernetes $K8S_VERSION, kubeconfig $LAB_KUBECONFIG"
