#!/usr/bin/env bash
# `make ee-test`: tools/ee/job.py end to end on this machine, without the lab: a job of template
# "stateful.nfs verify" (its survey, its kubeconfig credential) running tests/ee/selftest.yml in
# the execution environment, on a throwaway docker network with
#   - the lab cluster TEST DOUBLE (a Kubernetes API emulation, not a cluster) listening on the
#     network's gateway address, its kubeconfig given to the job as the credential;
#   - one container of the lab image, reached with the docker transport.
# Passes when the job is successful with exactly one change (the StatefulSet applied once, not
# again) and every host ok. Everything it creates is named ee-selftest-<pid> and labelled
# io.stateful-nfs.ee-selftest=1, and removed at the end (also on failure).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}
python=$repo/.venv/bin/python
name=ee-selftest-$$
label=io.stateful-nfs.ee-selftest=1
work=$(mktemp -d)
jobs=$repo/.lab/ee-selftest
double_pid=

cleanup() {
  [ -n "$double_pid" ] && kill "$double_pid" 2>/dev/null && wait "$double_pid" 2>/dev/null
  "$DOCKER" rm -f "$name-node" >/dev/null 2>&1 || true
  "$DOCKER" network rm "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

[ -f "$repo/tests/k8s_test_double/__main__.py" ] || { echo "ee-test: the lab cluster test double (tests/k8s_test_double) is not in this tree" >&2; exit 2; }
"$DOCKER" image inspect stateful-nfs-lab:bookworm >/dev/null 2>&1 || { echo "ee-test: image stateful-nfs-lab:bookworm missing (make images)" >&2; exit 2; }

"$DOCKER" network create --label "$label" "$name" >/dev/null
gateway=$("$DOCKER" network inspect -f '{{ (index .IPAM.Config 0).Gateway }}' "$name")
# Bounded: the container ends by itself after 10 minutes if cleanup never runs.
"$DOCKER" run -d --name "$name-node" --hostname "$name-node" --network "$name" --label "$label" \
  stateful-nfs-lab:bookworm sleep 600 >/dev/null

(cd "$repo" && exec "$python" -m tests.k8s_test_double --state-dir "$work/cluster" --kubeconfig "$work/kubeconfig" \
  --host "$gateway" --port 0 --dns-port -1 --no-persist --fresh --quiet) &
double_pid=$!
for _ in $(seq 1 60); do [ -s "$work/kubeconfig" ] && break; sleep 0.5; done
[ -s "$work/kubeconfig" ] || { echo "ee-test: the test double did not write its kubeconfig within 30 s" >&2; exit 1; }

mkdir -p "$work/inventory"
cat >"$work/inventory/hosts.yml" <<YAML
all:
  children:
    k8s_api:
      hosts:
        localhost:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
    selftest_nodes:
      hosts:
        $name-node:
          ansible_connection: community.docker.docker
          ansible_python_interpreter: /usr/bin/python3
YAML

rm -rf "$jobs"
rc=0
"$python" "$repo/tools/ee/job.py" --inventory "$work/inventory" --kubeconfig "$work/kubeconfig" --network "$name" \
  --template "stateful.nfs verify" --playbook tests/ee/selftest.yml --jobs-dir "$jobs" --job-timeout 600 || rc=$?
summary=$(ls "$jobs"/*/summary.json 2>/dev/null | head -n 1)
[ -n "$summary" ] || { echo "ee-test: FAILED: the job wrote no summary (exit $rc)" >&2; exit 1; }
"$python" - "$summary" "$name-node" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
hosts = s["hosts"]
problems = []
if s["status"] != "successful" or s["rc"] != 0:
    problems.append(f"status {s['status']}, rc {s['rc']}")
if set(hosts) != {"localhost", sys.argv[2]}:
    problems.append(f"hosts {sorted(hosts)}")
if s["changed"] != 1 or hosts.get("localhost", {}).get("changed") != 1:
    problems.append(f"changed {s['changed']} (expected 1: the StatefulSet applied once)")
if any(c["failures"] or c["dark"] for c in hosts.values()):
    problems.append("failed or unreachable hosts")
if problems:
    sys.exit("ee-test: FAILED: " + "; ".join(problems))
print(f"== ee-test: job {s['job_id']} successful, changed {s['changed']}, {len(hosts)} hosts ok, {s['elapsed_s']} s")
PY
