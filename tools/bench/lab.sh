# The BENCH lab (sourced by tools/bench/bench.sh): a second, independent lab next to
# the one `make lab-up` builds. tests/lab/lab-up.sh / lab-down.sh cannot be reused
# for a second lab without editing them (container names, the label that lab-down
# removes, the double's pid/kubeconfig paths and the NFS host name are fixed there;
# lab-down with LAB_SELECTOR would also stop the lead's double), so this file
# sources tests/lab/lab.sh for the shared pieces (LAB_RUN_FLAGS: the lab platform
# snippet's run flags, DOCKER, lab_log/lab_die, k8s_double_running) and overrides
# only the names.
#
# Everything it creates is named bench-* and labelled io.stateful-nfs.bench=1 (and
# NOT io.stateful-nfs.lab=1, so `make lab-down`/`lab-status` never see it).
# shellcheck shell=bash disable=SC2034
BENCH_DIR_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/lab/lab.sh
source "$BENCH_DIR_TOOLS/../../tests/lab/lab.sh"

BENCH_LABEL="io.stateful-nfs.bench=1"
BENCH_NETWORK="bench-snfs-net"
BENCH_VOLUME="bench-snfs-nfs-export"
BENCH_NFS="bench-nfs"
BENCH_MAX_NODES="${BENCH_MAX_NODES:-6}"
BENCH_BOOT_TIMEOUT="${BENCH_BOOT_TIMEOUT:-90}"
BENCH_DOUBLE_TIMEOUT="${BENCH_DOUBLE_TIMEOUT:-30}"
# Work dir (git-ignored): generated inventory, the double's state, logs.
BENCH_OUT="${BENCH_OUT:-$LAB_REPO/results/bench}"
BENCH_WORK="$BENCH_OUT/work"
# The lab inventory's group_vars derive the double's files from <inventory>/../.lab:
# the bench inventory lives in $BENCH_WORK/inventory, so they resolve to $BENCH_WORK/.lab.
BENCH_LABDIR="$BENCH_WORK/.lab"
# Reuse k8s_double_running from lab.sh with the bench double's files.
K8S_DOUBLE_PID="$BENCH_LABDIR/k8s_test_double.pid"
K8S_DOUBLE_LOG="$BENCH_LABDIR/k8s_test_double.log"
K8S_DOUBLE_STATE="$BENCH_LABDIR/cluster"
K8S_KUBECONFIG="$BENCH_LABDIR/kubeconfig"

bench_log() { printf '[bench] %s\n' "$*" >&2; }

# Node i: the lab's image mix (node-2 trixie, the others bookworm), repeated.
bench_node_image() { if [ $(( $1 % 3 )) -eq 2 ]; then echo stateful-nfs-lab:trixie; else echo stateful-nfs-lab:bookworm; fi; }

bench_run_container() { # name image [extra docker run flags...]
  local name="$1" image="$2"; shift 2
  "$DOCKER" run -d --name "$name" --hostname "$name" --network "$BENCH_NETWORK" \
    --label "$BENCH_LABEL" "${LAB_RUN_FLAGS[@]}" "$@" "$image" /lib/systemd/systemd >/dev/null
}

bench_wait_boot() { # names...
  local name state deadline
  for name in "$@"; do
    deadline=$(( $(date +%s) + BENCH_BOOT_TIMEOUT )); state=unknown
    while [ "$(date +%s)" -lt "$deadline" ]; do
      state="$("$DOCKER" exec "$name" systemctl is-system-running 2>/dev/null || true)"
      case "$state" in running|degraded) break ;; esac
      sleep 0.5
    done
    case "$state" in running|degraded) ;; *) lab_die "$name: systemd did not boot within ${BENCH_BOOT_TIMEOUT}s ($state)" ;; esac
    # A just-built lab image's empty apt lists directory is as new as the build, and the usual
    # way's `cache_valid_time: 3600` trusts that age: it would skip `apt-get update` and fail
    # ("No package matching") for an hour after `make images`. Age it, as on a stock image
    # weeks old; the collection's roles look for the lists themselves and do not care.
    "$DOCKER" exec "$name" touch -d @0 /var/lib/apt/lists
  done
}

bench_ip() { "$DOCKER" container inspect -f "{{ (index .NetworkSettings.Networks \"$BENCH_NETWORK\").IPAddress }}" "$1"; }

# (Re)create node containers 1..N from the image (a fresh node = cold client stage).
bench_fresh_nodes() { # N
  local i names=()
  for i in $(seq 1 "$1"); do
    "$DOCKER" rm -f -v "bench-node-$i" >/dev/null 2>&1 || true
    bench_run_container "bench-node-$i" "$(bench_node_image "$i")"
    names+=("bench-node-$i")
  done
  bench_wait_boot "${names[@]}"
}

bench_double_stop() {
  if k8s_double_running; then
    local pid; pid="$(cat "$K8S_DOUBLE_PID")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$K8S_DOUBLE_PID" "$K8S_KUBECONFIG"
}

# A fresh double (no objects, counters at 0), nodes named like the bench's 3 site nodes.
bench_double_start() {
  bench_double_stop
  rm -rf "$K8S_DOUBLE_STATE"; mkdir -p "$K8S_DOUBLE_STATE"
  local nfs_ip; nfs_ip="$(bench_ip "$BENCH_NFS")"
  (cd "$LAB_REPO" && exec setsid "$LAB_REPO/.venv/bin/python" -m tests.k8s_test_double \
      --state-dir "$K8S_DOUBLE_STATE" --kubeconfig "$K8S_KUBECONFIG" --fresh --quiet \
      --nodes bench-node-1,bench-node-2,bench-node-3 --nfs-address-map "$BENCH_NFS=$nfs_ip" \
      </dev/null >>"$K8S_DOUBLE_LOG" 2>&1) &
  echo $! >"$K8S_DOUBLE_PID"
  local deadline=$(( $(date +%s) + BENCH_DOUBLE_TIMEOUT ))
  until [ -s "$K8S_KUBECONFIG" ] && [ -s "$K8S_DOUBLE_STATE/dns.json" ]; do
    kill -0 "$(cat "$K8S_DOUBLE_PID")" 2>/dev/null || { tail -n 20 "$K8S_DOUBLE_LOG" >&2; lab_die "bench double exited"; }
    [ "$(date +%s)" -lt "$deadline" ] || lab_die "bench double: no kubeconfig within ${BENCH_DOUBLE_TIMEOUT}s"
    sleep 0.2
  done
}

# The double's request counters: total requests (and writes) since the last reset.
bench_double_url() { "$LAB_REPO/.venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$K8S_DOUBLE_STATE/server.json"; }
bench_double_get() { curl -sf --max-time 5 -H "Authorization: Bearer $(cat "$K8S_DOUBLE_STATE/token")" "$(bench_double_url)$1"; }
bench_stats_reset() { curl -sf --max-time 5 -X POST -H "Authorization: Bearer $(cat "$K8S_DOUBLE_STATE/token")" "$(bench_double_url)/_test_double/stats/reset" >/dev/null; }

# Inventory with k8s_nodes = bench-node-1..N and the lab's group_vars (symlinked, not
# copied). One change: the export's clients are the bench network's subnet instead of
# "every node's address + the bridge gateway" (the lab's form), because the scaling rows
# recreate nodes (new addresses) and run the client stage on 1, 3 or 6 of them against
# the same export. The gateway (the double's provisioner/kubelet) is inside the subnet.
bench_inventory() { # N -> prints the inventory dir
  local n="$1" dir="$BENCH_WORK/inventory-$1" i subnet
  mkdir -p "$dir/host_vars"
  ln -sfn "$LAB_REPO/inventory/group_vars" "$dir/group_vars"
  {
    echo "---"
    echo "# generated by tools/bench/lab.sh (bench lab, $n node(s))"
    echo "all:"
    echo "  children:"
    echo "    nfs_server:"
    echo "      hosts:"
    echo "        $BENCH_NFS:"
    echo "    k8s_nodes:"
    echo "      hosts:"
    for i in $(seq 1 "$n"); do echo "        bench-node-$i:"; done
    echo "    k8s_api:"
    echo "      hosts:"
    echo "        localhost:"
    echo "          ansible_connection: local"
    echo "          ansible_python_interpreter: \"{{ ansible_playbook_python }}\""
    echo "    lab_containers:"
    echo "      children:"
    echo "        nfs_server:"
    echo "        k8s_nodes:"
  } >"$dir/hosts.yml"
  subnet="$("$DOCKER" network inspect -f '{{ (index .IPAM.Config 0).Subnet }}' "$BENCH_NETWORK")"
  {
    echo "---"
    echo "# generated by tools/bench/lab.sh: the bench network (nodes + bridge gateway)"
    echo "nfs_server_exports:"
    echo "  - path: /srv/nfs"
    echo "    clients: [\"$subnet\"]"
  } >"$dir/host_vars/$BENCH_NFS.yml"
  echo "$dir"
}

bench_down() {
  bench_double_stop
  rm -rf "$K8S_DOUBLE_STATE"
  "$DOCKER" info >/dev/null 2>&1 || return 0
  local ids
  mapfile -t ids < <("$DOCKER" ps -aq --filter "label=$BENCH_LABEL")
  [ "${#ids[@]}" -eq 0 ] || "$DOCKER" rm -f -v "${ids[@]}" >/dev/null
  mapfile -t ids < <("$DOCKER" network ls -q --filter "label=$BENCH_LABEL")
  [ "${#ids[@]}" -eq 0 ] || "$DOCKER" network rm "${ids[@]}" >/dev/null
  mapfile -t ids < <("$DOCKER" volume ls -q --filter "label=$BENCH_LABEL")
  [ "${#ids[@]}" -eq 0 ] || "$DOCKER" volume rm "${ids[@]}" >/dev/null
  bench_log "bench lab removed (label $BENCH_LABEL)"
}

# A fresh bench lab: network, export volume, NFS host, nodes 1..BENCH_MAX_NODES, double.
bench_up() {
  bench_down
  mkdir -p "$BENCH_LABDIR"
  local image
  for image in stateful-nfs-lab:bookworm stateful-nfs-lab:trixie; do
    "$DOCKER" image inspect "$image" >/dev/null 2>&1 || lab_die "image $image is missing: run 'make images'"
  done
  "$DOCKER" network create --label "$BENCH_LABEL" "$BENCH_NETWORK" >/dev/null
  "$DOCKER" volume create --label "$BENCH_LABEL" "$BENCH_VOLUME" >/dev/null
  bench_run_container "$BENCH_NFS" stateful-nfs-lab:bookworm --cap-add DAC_READ_SEARCH -v "$BENCH_VOLUME:/srv/nfs"
  bench_wait_boot "$BENCH_NFS"
  bench_fresh_nodes "$BENCH_MAX_NODES"
  bench_double_start
  bench_log "bench lab up: $BENCH_NFS + $BENCH_MAX_NODES nodes, double $(bench_double_url)"
}
