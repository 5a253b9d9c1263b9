#!/usr/bin/env bash
# `make ee-test`: tools/ee/job.py end to end against the lab (make lab-up), three jobs run in the
# execution environment the way AWX runs job templates, each with its survey's defaults and the
# kubeconfig credential, over the lab's docker network:
#   1. "stateful.nfs verify" running tests/ee/selftest.yml: what the job gets (credential file,
#      survey types), a StatefulSet applied and re-applied through the credential, the docker
#      transport to the lab's nodes;
#   2. "stateful.nfs site" running site.yml: the whole job on the lab;
#   3. "stateful.nfs verify" running playbooks/verify.yml: the walkthrough's checks.
# The lab's images are given as launch-time extra vars (the lab cannot pull the role's default
# images), as is an empty kubeconfig path (the credential's K8S_AUTH_KUBECONFIG applies).
# Passes when every job is successful; prints each job's status and changed count.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=$repo/.venv/bin/python
lab=$repo/.lab
jobs=$lab/ee-selftest
inventory=$repo/tests/lab/inventory

[ -s "$lab/kubeconfig" ] && [ -s "$lab/images.json" ] || { echo "ee-test: the lab is not up (make lab-up)" >&2; exit 2; }
image() { "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$lab/images.json" "$1"; }
lab_vars=(-e "k8s_statefulset_nginx_kubeconfig=" -e "k8s_statefulset_nginx_image=$(image nginx)"
          -e "k8s_statefulset_nginx_provisioner_image=$(image provisioner)"
          -e "k8s_statefulset_nginx_verify_image=$(image busybox)")

rm -rf "$jobs"
run_job() {  # run_job LABEL TEMPLATE PLAYBOOK [extra args]
  local label=$1 template=$2 playbook=$3 rc=0 summary
  shift 3
  mkdir -p "$jobs/$label"
  "$python" "$repo/tools/ee/job.py" --inventory "$inventory" --kubeconfig "$lab/kubeconfig" --network stateful-nfs-lab \
    --template "$template" --playbook "$playbook" --jobs-dir "$jobs/$label" --job-timeout 1200 "$@" || rc=$?
  summary=$(ls "$jobs/$label"/*/summary.json 2>/dev/null | head -n 1)
  [ -n "$summary" ] || { echo "ee-test: FAILED: job $label wrote no summary (exit $rc)" >&2; exit 1; }
  "$python" - "$summary" "$label" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
problems = []
if s["status"] != "successful" or s["rc"] != 0:
    problems.append(f"status {s['status']}, rc {s['rc']}")
if any(c["failures"] or c["dark"] for c in s["hosts"].values()):
    problems.append("failed or unreachable hosts: " + ", ".join(h for h, c in s["hosts"].items() if c["failures"] or c["dark"]))
if problems:
    sys.exit(f"ee-test: FAILED: job {sys.argv[2]}: " + "; ".join(problems))
print(f"== ee-test: job {sys.argv[2]} ({s['job_id']}): {s['status']}, changed {s['changed']}, "
      f"{len(s['hosts'])} hosts ok, {s['elapsed_s']} s")
PY
}

run_job selftest "stateful.nfs verify" tests/ee/selftest.yml -e "selftest_image=$(image nginx)"
run_job site "stateful.nfs site" site.yml "${lab_vars[@]}"
run_job verify "stateful.nfs verify" playbooks/verify.yml "${lab_vars[@]}"
