"""The bench's growth rows (issue 21, points 4 and 5): how a cost grows is computed from the figures
(tools/bench/growth.py), the statefulset and nfs_provisioner roles' tasks fall in their stages
(tools/bench/measure.py), the rows' inputs (tools/bench/bench.py) declare what the issue asks, and
report.py writes the growth table, the verdicts and the curves from a raw.jsonl."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from tools.bench import bench
from tools.bench.growth import Step, explain, overall, pod_interval, stage_growth, steps
from tools.bench.measure import PlayLog, stage_of, utc

REPO = Path(__file__).resolve().parents[3]
T = utc("2026-01-01T10:00:00.000000Z")


def test_a_step_is_linear_faster_or_slower_by_the_time_per_unit():
    linear = Step(3, 30, 6.0, 60.0)
    assert linear.size_ratio == 10 and linear.time_ratio == 10 and linear.per_unit_ratio == 1
    assert linear.exponent == pytest.approx(1.0) and linear.kind == "about linear"
    quadratic = Step(10, 30, 20.0, 180.0)
    assert quadratic.per_unit_ratio == pytest.approx(3.0) and quadratic.exponent == pytest.approx(2.0)
    assert quadratic.kind == "faster than linear"
    fixed_cost = Step(1, 3, 30.0, 40.0)  # mostly a fixed cost: the time per unit falls
    assert fixed_cost.kind == "slower than linear"
    assert fixed_cost.exponent == pytest.approx(math.log(4 / 3) / math.log(3))
    # within the tolerance (15%) it is linear, beyond it is not
    assert Step(3, 10, 3.0, 11.4).kind == "about linear" and Step(3, 10, 3.0, 11.6).kind == "faster than linear"
    assert "3 -> 10 pods: x3.33 the pods, x4.00 the time (1.00 -> 1.20 s per pod" in Step(3, 10, 3.0, 12.0).text("pod")


def test_steps_skip_the_sizes_not_measured_and_keep_the_order():
    found = steps({30: 90.0, 3: 6.0, 10: None})
    assert [(st.small, st.large) for st in found] == [(3, 30)]
    assert [(st.small, st.large) for st in steps({3: 6.0, 10: 20.0, 30: 90.0})] == [(3, 10), (10, 30)]
    assert steps({3: 6.0}) == [] and overall({3: 6.0}) is None
    assert (overall({3: 6.0, 10: 20.0, 30: 90.0}).small, overall({3: 6.0, 10: 20.0, 30: 90.0}).large) == (3, 30)


def test_stage_growth_names_the_stages_that_grew_faster_than_the_size():
    small = {"startup": 2.0, "statefulset": 10.0, "verify": 4.0, "report": 0.2}
    large = {"startup": 2.1, "statefulset": 32.0, "verify": 40.0, "report": 0.3, "tail": 1.0}
    # 3x the size: statefulset (3.2x) is within the tolerance, verify (10x) is not, tail is new
    assert stage_growth(small, large, 3.0) == [("verify", 4.0, 40.0), ("tail", 0.0, 1.0)]
    assert stage_growth(small, large, 3.0, min_seconds=2) == [("verify", 4.0, 40.0)]


def test_pod_interval_is_the_median_gap_between_pods_serving():
    assert pod_interval({"web-0": 10.0, "web-2": 16.0, "web-1": 12.0, "web-3": 17.0}) == 2.0
    assert pod_interval({"web-0": 10.0}) is None and pod_interval(None) is None


def test_explain_says_which_step_grows_faster_than_linear_and_where():
    text = explain("site.yml", "pod", {3: 6.0, 10: 20.0, 30: 180.0},
                   {10: {"statefulset": 15.0, "verify": 4.0}, 30: {"statefulset": 45.0, "verify": 130.0}},
                   {10: 1.5, 30: 4.0})
    assert "3 -> 10 pods: x3.33 the pods, x3.33 the time" in text and "about linear" in text
    assert "Faster than linear from 10 to 30 pods (x3.00 per pod)" in text
    assert "stage verify 4.0 -> 130.0 s (x32.50)" in text and "stage statefulset" not in text
    assert "median interval between one pod serving and the next 1.50 -> 4.00 s" in text
    linear = explain("floor", "pod", {3: 3.0, 10: 10.0})
    assert "No step grows faster than linear (largest change per pod: x1.00)" in linear
    assert explain("x", "pod", {3: None, 10: 5.0}) == "x: fewer than two sizes measured, no growth to compute."
    spread = explain("apps", "application", {1: 10.0, 3: 60.0}, {1: {"verify": 5.0}, 3: {"verify": 15.0}})
    assert "no single stage grew faster than the size" in spread


def test_the_application_roles_tasks_fall_in_their_stages():
    role = "/c/ansible_collections/stateful/nfs/roles/statefulset/tasks/application.yml:9"
    play = "NFS provisioners and stateful applications, verified (walkthrough sections 2, 4, 5)"
    assert stage_of(role, play, "stateful.nfs.statefulset : Apply the StatefulSet (and its headless Service unless create_service is false), "
                    "wait for the rollout: web1") == "statefulset"
    assert stage_of(role, play, "stateful.nfs.statefulset : Prove each pod's identity, DNS record, own storage "
                    "and application check: web1") == "verify"
    assert stage_of(role, play, "stateful.nfs.statefulset : Write the identity report: web1") == "report"
    assert stage_of("/c/roles/statefulset/tasks/report.yml:3", play, "stateful.nfs.statefulset : Render") == "report"
    assert stage_of("/c/roles/nfs_provisioner/tasks/apply.yml:3", play, "x") == "provisioner"
    # site.yml's check of the Kubernetes side runs application.yml in preflight mode: not the apply
    assert stage_of(role, "Check the Kubernetes side before anything changes", "stateful.nfs.statefulset : "
                    "Apply the StatefulSet (and its headless Service unless create_service is false), wait for the rollout: web1") == "k8s_validate"
    # the verify stage's name rules are the statefulset role's only
    assert stage_of("/c/roles/k8s_statefulset_nginx/tasks/plan.yml:5", play, "Prove each pod") == "k8s_validate"
    # the NFS side's markers and the stop on a failed proof are the proof's
    assert stage_of("/c/roles/statefulset/tasks/nfs_side.yml:3", play, "x") == "verify"
    assert stage_of(role, play, "stateful.nfs.statefulset : Stop when the proof failed: web1") == "verify"


def test_last_end_is_the_end_of_the_last_task_of_the_stages(tmp_path):
    def task(task_id, name, path, start, end):
        info = {"id": task_id, "name": name, "path": path, "duration": {"start": (T + timedelta(seconds=start))
                                                                        .isoformat().replace("+00:00", "Z")}}
        done = {**info, "duration": {**info["duration"], "end": (T + timedelta(seconds=end)).isoformat()
                                     .replace("+00:00", "Z")}}
        return [{"_event": "v2_playbook_on_task_start", "task": info, "hosts": {}},
                {"_event": "v2_runner_on_ok", "task": done, "hosts": {"localhost": {}}}]
    app = "/r/roles/statefulset/tasks/application.yml:1"
    events = [{"_event": "v2_playbook_on_play_start", "play": {"name": "NFS provisioners and stateful applications"}}]
    events += task("a", "stateful.nfs.statefulset : Apply the StatefulSet: web1", app, 1, 9)
    events += task("b", "stateful.nfs.statefulset : Prove each pod's identity: web1", app, 9.5, 14)
    events += task("c", "stateful.nfs.statefulset : Say what was proved: web1", app, 14, 14.2)
    stream = tmp_path / "run.jsonl"
    stream.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    log = PlayLog.read(stream)
    assert [t.stage for t in log.tasks] == ["statefulset", "verify", "statefulset"]
    assert log.last_end(("verify",)) == T + timedelta(seconds=14)
    assert log.last_end(("statefulset", "verify", "report")) == T + timedelta(seconds=14.2)
    assert log.last_end(("nfs_server",)) is None


def test_the_applications_rows_declare_three_statefulsets_on_two_classes_against_one():
    lab = SimpleNamespace(images={"nginx": "lab/nginx:1", "redis": "lab/redis:7"})
    one, three = bench.applications_vars(lab, 1), bench.applications_vars(lab, 3)
    assert one["nfs_provisioner_classes"] == three["nfs_provisioner_classes"]
    assert len(three["nfs_provisioner_classes"]) == 2
    apps = three["statefulset_applications"]
    assert [a["name"] for a in apps] == ["web1", "web2", "web3"] and len(one["statefulset_applications"]) == 1
    classes = [a["statefulset"]["volume_claim_templates"][0]["storage_class_name"] for a in apps]
    assert classes == ["bench-data", "bench-scratch", "bench-data"]
    assert {a["statefulset"]["namespace"] for a in apps} == {"bench-apps3"}
    assert all(a["statefulset"]["image"] == "lab/nginx:1" and a["statefulset"]["replicas"] == 3 for a in apps)
    assert apps[0]["verify"]["app_check"]["http_get"]["body"] == "^stateful\\.nfs .*/{pod} "


def test_the_app_row_is_the_redis_example_with_its_application_check(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "OUT", tmp_path)
    lab = SimpleNamespace(images={"nginx": "lab/nginx:1", "redis": "lab/redis:7"})
    docs, path = bench.redis_manifest(lab, "bench-data")
    assert [d["kind"] for d in docs] == ["Service", "StatefulSet"] and path.exists()
    sts = docs[1]
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "lab/redis:7"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "bench-data"
    assert sts["spec"]["replicas"] == len(bench.REDIS_PODS)
    app = bench.redis_vars(docs, "bench-redis")["statefulset_applications"][0]
    assert app["statefulset"]["definition"]["metadata"]["namespace"] == "bench-redis"
    assert "namespace" not in docs[1]["metadata"]  # the manifest kubectl applies is left as it was
    assert app["verify"]["app_check"]["exec"]["command"] == ["redis-cli", "info", "replication"]


def record(row, run=1, rc=0, **fields):
    return {"row": row, "run": run, "rc": rc, "seconds": fields.pop("seconds", 30.0), "stages": fields.pop("stages", {}),
            "api": {"requests": 10, "write": 2, "stream": 3, "writes": []}, **fields}


def test_report_computes_the_growth_and_the_real_application_from_the_figures(tmp_path):
    per_pod = {n: {f"web-{i}": 5.0 + i * (1.0 if n < 30 else 3.0) for i in range(n)} for n in (3, 10, 30)}
    recs = [record(f"replicas{n}_site", serving={"from_statefulset": t, "per_pod": per_pod[n]},
                   stages={"statefulset": {"seconds": t * 0.6}, "verify": {"seconds": v}})
            for n, t, v in ((3, 9.0, 3.0), (10, 30.0, 10.0), (30, 270.0, 150.0))]
    recs += [record(f"replicas{n}_floor", serving={"from_start": t, "per_pod": per_pod[n]})
             for n, t in ((3, 4.0, ), (10, 13.0), (30, 40.0))]
    recs += [record("apps1", to_proved=20.0, stages={"statefulset": {"seconds": 12.0}, "verify": {"seconds": 7.0}}),
             record("apps3", to_proved=60.0, stages={"statefulset": {"seconds": 36.0}, "verify": {"seconds": 21.0}}),
             record("app_site", to_proved=25.0, stages={"statefulset": {"seconds": 15.0}}),
             record("app_kubectl", to_proved=12.5, to_rollout=11.0)]
    recs += [record(f"clients_{n}_cold", stages={"nfs_client": {"seconds": c}}) for n, c in ((1, 20.0), (6, 60.0))]
    recs += [record("site_cold", stages={"nfs_client": {"seconds": 30.0}}, top_tasks=[])]
    recs += [record(f"apt_floor_{n}", seconds=f) for n, f in ((1, 10.0), (3, 12.0), (6, 20.0))]
    (tmp_path / "raw.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    (tmp_path / "meta.json").write_text(json.dumps({"replicas": [3, 10, 30], "applications": [1, 3], "cpus": 2,
                                                    "loadavg_start": [1.0], "loadavg_end": [2.0], "growth_timeout": 900,
                                                    "client_packages": ["nfs-common", "rpcbind"]}))
    proc = subprocess.run([sys.executable, str(REPO / "tools/bench/report.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "results.md").read_text()
    assert "## Cost growth (issue 21, point 4)" in md
    assert "1 run(s) per size (**once**: a single run per size, no median)" in md
    assert "| 30 | 270.0 s | 9.00 s | 40.0 s | 1.33 s | 6.75x |" in md
    # 10 -> 30: 9x the time for 3x the pods: faster than linear, computed, with the stage and the interval
    assert "10 -> 30 pods: x3.00 the pods, x9.00 the time (3.00 -> 9.00 s per pod, k = 2.00: faster than linear)" in md
    assert "stage verify 10.0 -> 150.0 s (x15.00)" in md
    assert "median interval between one pod serving and the next 1.00 -> 3.00 s" in md
    assert "Floor, apply to every pod serving:" in md
    assert "1 -> 3 applications: x3.00 the applications, x3.00 the time" in md and "about linear" in md
    assert "## A real application: redis" in md and "`site.yml` against the usual way, from the apply: 2.00x." in md
    # the client stage against the apt floor (the same packages with plain apt-get), per node count
    assert "| 6 | 60.0 s | n/a | 3.00x | n/a |" in md and "| 20.0 s | 3.00x |" in md
    assert "| 3 | 30.0 s |" in md and "| 12.0 s | 2.50x |" in md
    assert "`apt-get install -y nfs-common rpcbind` on every node" in md
    assert "apt floor (nodes):" in md
    assert (tmp_path / "results.png").stat().st_size > 0


def test_the_apt_floor_installs_what_role_nfs_client_installs():
    assert bench.client_packages() == ["nfs-common", "netbase", "libnfs-utils", "rpcbind"]


def test_report_says_a_growth_row_did_not_finish(tmp_path):
    recs = [record("replicas3_site", serving={"from_statefulset": 9.0, "per_pod": {}}),
            record("replicas30_site", rc=1, timed_out=True, serving={"from_statefulset": None})]
    (tmp_path / "raw.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    (tmp_path / "meta.json").write_text(json.dumps({"replicas": [3, 30], "growth_timeout": 600}))
    proc = subprocess.run([sys.executable, str(REPO / "tools/bench/report.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "results.md").read_text()
    assert "**did not finish** (timed out after 600 s)" in md
    assert "fewer than two sizes measured" in md


def test_a_task_skipped_on_every_host_does_not_start_or_end_a_stage(tmp_path):
    # site.yml without an application list: the statefulset role's `when` is false, yet its tasks
    # are emitted (skipped) before the walkthrough role's provisioner and StatefulSet
    def at(seconds):
        return (T + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

    def task(task_id, name, path, start, end, result):
        info = {"id": task_id, "name": name, "path": path, "duration": {"start": at(start)}}
        kind = "v2_runner_on_skipped" if result.get("skipped") else "v2_runner_on_ok"
        return [{"_event": "v2_playbook_on_task_start", "task": info, "hosts": {}},
                {"_event": kind, "task": {**info, "duration": {"start": at(start), "end": at(end)}},
                 "hosts": {"localhost": result}}]
    events = [{"_event": "v2_playbook_on_play_start", "play": {"name": "NFS provisioners and stateful applications"}}]
    events += task("s", "stateful.nfs.statefulset : Deploy and prove", "/r/roles/statefulset/tasks/application.yml:9",
                   1, 1.1, {"skipped": True, "false_condition": "statefulset_applications | length > 0"})
    events += task("m", "stateful.nfs.statefulset : Warn about variables with the role's prefix",
                   "/r/roles/statefulset/tasks/main.yml:4", 1.1, 1.2, {"skipped": True})
    events += task("p", "stateful.nfs.nfs_provisioner : Apply each class's RBAC, provisioner Deployment and StorageClass",
                   "/r/roles/nfs_provisioner/tasks/apply.yml:3", 2, 6, {"changed": True})
    events += task("w", "stateful.nfs.statefulset : Apply the StatefulSet (and its headless Service unless create_service"
                   " is false), wait for the rollout: web", "/r/roles/statefulset/tasks/application.yml:10", 6, 14,
                   {"changed": True})
    stream = tmp_path / "run.jsonl"
    stream.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    log = PlayLog.read(stream)
    assert [(t.stage, t.skipped) for t in log.tasks] == [
        ("statefulset", True), ("k8s_validate", True), ("provisioner", False), ("statefulset", False)]
    assert log.first_start("statefulset") == T + timedelta(seconds=6)
    assert log.last_end(("statefulset",)) == T + timedelta(seconds=14)


def test_report_computes_the_sampling_and_the_wait_return_verdicts(tmp_path):
    def cold(run, delay, period):
        return record("site_cold", run=run, top_tasks=[], serving={"from_statefulset": 7.0, "from_start": 60.0, "per_pod": {},
                                                     "sample_period": period, "wait_return_delay": delay})
    recs = [cold(1, 0.3, 0.12), cold(2, 0.4, 0.13), cold(3, 0.9, 0.12),
            record("floor", serving={"from_start": 6.0, "per_pod": {}, "sample_period": 0.14})]
    (tmp_path / "raw.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    (tmp_path / "meta.json").write_text(json.dumps({"cpus": 2}))
    proc = subprocess.run([sys.executable, str(REPO / "tools/bench/report.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "results.md").read_text()
    # the slower measured period (the floor's 0.14 s) against the floor's 6.0 s: 2.3%
    assert "one sample per pod every 0.14 s (measured" in md and "= 2.3% of the floor | **met** |" in md
    # the median of the runs' delays (0.3, 0.4, 0.9): 0.40 s, under 0.5 s
    assert "| 0.40 s (runs: 0.30, 0.40, 0.90;" in md and "Ansible's result handling included) | **met** |" in md
    recs[1]["serving"]["wait_return_delay"] = 0.8
    (tmp_path / "raw.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    subprocess.run([sys.executable, str(REPO / "tools/bench/report.py"), str(tmp_path)], check=True, timeout=120,
                   capture_output=True)
    assert "| 0.80 s (runs: 0.30, 0.80, 0.90;" in (tmp_path / "results.md").read_text()
    assert "Ansible's result handling included) | **missed** |" in (tmp_path / "results.md").read_text()
