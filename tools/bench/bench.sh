#!/usr/bin/env bash
# `make bench`: the performance benchmark of issue 6 section 4, on a bench lab of its
# own (tools/bench/lab.sh: bench-* containers, label io.stateful-nfs.bench=1, its own
# test double). Every play runs BENCH_RUNS times (median reported) with the
# profile_tasks callback; logs and the raw numbers go to results/bench/.
#
# Environment:
#   BENCH_RUNS          runs per row (default 3)
#   BENCH_PLAY_TIMEOUT  seconds per ansible-playbook run (default 900)
#   BENCH_ROWS          subset of row groups to run (default "site k8s stages scaling nfs usual")
#   BENCH_KEEP=1        leave the bench lab up at the end (default: removed, also on failure)
set -euo pipefail
# shellcheck source=tools/bench/lab.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab.sh"

RUNS="${BENCH_RUNS:-3}"
PLAY_TIMEOUT="${BENCH_PLAY_TIMEOUT:-900}"
ROWS="${BENCH_ROWS:-site k8s stages scaling nfs usual}"
[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || lab_die "BENCH_RUNS must be 1..99 (got '$RUNS')"

cd "$LAB_REPO"
export PATH="$LAB_REPO/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$LAB_REPO/.collections"
export ANSIBLE_PIPELINING=True ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
export PROFILE_TASKS_TASK_OUTPUT_LIMIT=all PROFILE_TASKS_SORT_ORDER=descending
export ANSIBLE_RETRY_FILES_ENABLED=False PYTHONDONTWRITEBYTECODE=1
# The usual way reaches the API the usual way: K8S_AUTH_KUBECONFIG (the bench double's
# kubeconfig; the same path across double restarts). Our role is given the same file.
export K8S_AUTH_KUBECONFIG="$K8S_KUBECONFIG"

LOGS="$BENCH_OUT/logs"
RAW="$BENCH_OUT/raw.tsv"
mkdir -p "$LOGS" "$BENCH_WORK"
rm -f "$LOGS"/*.log
printf 'run\trow\tseconds\trc\tchanged\tfailed\tapi_requests\tapi_writes\tlog\n' >"$RAW"

cleanup() {
  local rc=$?
  if [ "${BENCH_KEEP:-0}" = 1 ]; then bench_log "BENCH_KEEP=1: bench lab left up"; else bench_down || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# play <run> <row> <inventory dir> <playbook> [ansible-playbook args...]
# Resets the double's counters, runs the play (bounded), records wall time, the
# recap's changed/failed sums and the API requests the double counted.
play() {
  local run="$1" row="$2" inv="$3" pb="$4"; shift 4
  local log="$LOGS/${row}.run${run}.log" t0 t1 rc=0 secs changed failed stats req=NA wr=NA
  bench_stats_reset || true
  touch "$LOGS/.t0"
  t0="$(date +%s.%N)"
  timeout --kill-after=10 "$PLAY_TIMEOUT" ansible-playbook -i "$inv" "$pb" "$@" >"$log" 2>&1 || rc=$?
  t1="$(date +%s.%N)"
  secs="$(python3 -c "print(f'{$t1-$t0:.1f}')")"
  changed="$(sed -n '/^PLAY RECAP/,$p' "$log" | grep -o 'changed=[0-9]*' | cut -d= -f2 | paste -sd+ - | bc 2>/dev/null || echo NA)"
  failed="$(sed -n '/^PLAY RECAP/,$p' "$log" | grep -o 'failed=[0-9]*' | cut -d= -f2 | paste -sd+ - | bc 2>/dev/null || echo NA)"
  if stats="$(bench_double_get /_test_double/stats 2>/dev/null)"; then
    req="$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["requests"])' <<<"$stats")"
    wr="$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["writes"])' <<<"$stats")"
  fi
  # Keep the identity report each run wrote (to see what a warm run changes in it).
  for f in "$BENCH_LABDIR"/report/*-identity.json; do
    [ -f "$f" ] && [ "$f" -nt "$LOGS/.t0" ] && cp "$f" "$LOGS/${row}.run${run}.$(basename "$f")"
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$row" "$secs" "$rc" "${changed:-NA}" "${failed:-NA}" "$req" "$wr" "${log#"$LAB_REPO"/}" >>"$RAW"
  bench_log "run $run  $(printf '%-22s' "$row") ${secs}s  rc=$rc changed=${changed:-NA} api=$req"
  [ "$rc" = 0 ] || bench_log "  FAILED: see $log"
}

want() { [[ " $ROWS " == *" $1 "* ]]; }

# apt_floor <run> <row> <N>: what package installation alone costs on N fresh nodes at
# once: `apt-get update` + `apt-get install` of the client packages (the Debian list
# of role nfs_client), run in parallel with docker exec, no Ansible. Bounded by timeout.
apt_floor() {
  local run="$1" row="$2" n="$3" i t0 t1 secs rc=0 pids=()
  local pkgs
  pkgs="$(python3 -c 'import sys, yaml; v = yaml.safe_load(open(sys.argv[1]))
print(" ".join(v["__nfs_client_packages"] + v["__nfs_client_packages_nfsv3"]))' roles/nfs_client/vars/Debian.yml)"
  t0="$(date +%s.%N)"
  for i in $(seq 1 "$n"); do
    timeout --kill-after=10 "$PLAY_TIMEOUT" "$DOCKER" exec -e DEBIAN_FRONTEND=noninteractive "bench-node-$i" \
      sh -c "apt-get -qq update && apt-get -qq install -y $pkgs" >>"$LOGS/${row}.run${run}.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do wait "$i" || rc=$?; done
  t1="$(date +%s.%N)"
  secs="$(python3 -c "print(f'{$t1-$t0:.1f}')")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$row" "$secs" "$rc" NA NA NA NA "${LOGS#"$LAB_REPO"/}/${row}.run${run}.log" >>"$RAW"
  bench_log "run $run  $(printf '%-22s' "$row") ${secs}s  rc=$rc (apt-get alone, $n node(s) in parallel)"
}

start=$(date +%s)
for run in $(seq 1 "$RUNS"); do
  # 1. Full site.yml on a fresh lab (3 nodes, as `make lab-up`), then again (warm).
  if want site || want k8s; then
    bench_up
    inv3="$(bench_inventory 3)"
    play "$run" site_cold "$inv3" site.yml
    play "$run" site_warm "$inv3" site.yml
  fi
  # 2. Kubernetes stage: the collection's role (verify/report off) vs the seed's
  #    manifests with kubernetes.core.k8s (+ wait); each from an empty double.
  if want k8s; then
    nfs_ip="$(bench_ip "$BENCH_NFS")"
    kvars=(-e "k8s_statefulset_nginx_nfs_server=$nfs_ip" -e k8s_statefulset_nginx_nfs_path=/srv/nfs)
    bench_double_start
    play "$run" k8s_ours_cold "$inv3" tools/bench/k8s_ours.yml "${kvars[@]}"
    play "$run" k8s_ours_warm "$inv3" tools/bench/k8s_ours.yml "${kvars[@]}"
    bench_double_start
    play "$run" k8s_usual_cold "$inv3" tools/bench/usual_way/k8s.yml
    play "$run" k8s_usual_warm "$inv3" tools/bench/usual_way/k8s.yml
  fi
  # 3. Stage by stage (tags) on a fresh lab: cold, then each stage again (warm).
  if want stages || want scaling; then
    bench_up
    inv3="$(bench_inventory 3)"
    for phase in cold warm; do
      for tag in nfs_server nfs_client provisioner statefulset verify; do
        play "$run" "stage_${tag}_${phase}" "$inv3" site.yml --tags "$tag"
      done
    done
  fi
  # 4. Client stage on 1, 3, 6 fresh nodes (the server configured by step 3); for 1 and 6
  #    nodes also the usual way's client stage and the lab's floor: the same packages
  #    installed by apt-get alone, in parallel, without Ansible.
  if want scaling; then
    for n in 1 3 6; do
      bench_fresh_nodes "$n"
      invn="$(bench_inventory "$n")"
      play "$run" "clients_${n}_cold" "$invn" site.yml --tags nfs_client
      play "$run" "clients_${n}_warm" "$invn" site.yml --tags nfs_client
      [ "$n" = 3 ] && continue
      bench_fresh_nodes "$n"
      play "$run" "usual_clients_${n}_cold" "$invn" tools/bench/usual_way/clients.yml
      play "$run" "usual_clients_${n}_warm" "$invn" tools/bench/usual_way/clients.yml
      bench_fresh_nodes "$n"
      apt_floor "$run" "apt_floor_${n}" "$n"
    done
  fi
  # 5. The NFS server part: the collection's nfs_server role vs the usual-way role,
  #    each on a fresh NFS host (same image, same exports, Ganesha backend).
  if want nfs; then
    [ -n "$("$DOCKER" ps -q --filter name="^${BENCH_NFS}\$")" ] || bench_up
    invn="$(bench_inventory 3)"
    for who in ours usual; do
      "$DOCKER" rm -f -v "$BENCH_NFS" >/dev/null
      "$DOCKER" volume rm "$BENCH_VOLUME" >/dev/null 2>&1 || true
      "$DOCKER" volume create --label "$BENCH_LABEL" "$BENCH_VOLUME" >/dev/null
      bench_run_container "$BENCH_NFS" stateful-nfs-lab:bookworm --cap-add DAC_READ_SEARCH -v "$BENCH_VOLUME:/srv/nfs"
      bench_wait_boot "$BENCH_NFS"
      for phase in cold warm; do
        if [ "$who" = ours ]; then
          play "$run" "nfs_ours_$phase" "$invn" site.yml --tags nfs_server --limit "$BENCH_NFS"
        else
          play "$run" "nfs_usual_$phase" "$invn" tools/bench/usual_way/nfs_server.yml
        fi
      done
    done
  fi
  # 6. The usual way end to end on a fresh lab, cold then warm.
  if want usual; then
    bench_up
    inv3="$(bench_inventory 3)"
    play "$run" usual_site_cold "$inv3" tools/bench/usual_way/site.yml
    play "$run" usual_site_warm "$inv3" tools/bench/usual_way/site.yml
  fi
done
bench_log "all runs done in $(( $(date +%s) - start )) s; writing the table and the plot"
python tools/bench/report.py "$RAW" "$BENCH_OUT"
