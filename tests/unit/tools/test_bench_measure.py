"""The benchmark's measurements (tools/bench/measure.py): stages from a run's jsonl event stream,
requests from the API server's audit log, and the serving poller. `make bench` runs them against
real labs; here they read small hand-made streams in the formats ansible.posix.jsonl and the
audit log (audit.k8s.io/v1 Event) write."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

from tools.bench.measure import PlayLog, ReadyWatcher, ServingPoller, audit_offset, audit_requests, stage_of, utc

T = utc("2026-01-01T10:00:00.000000Z")


def at(seconds: float) -> str:
    return (T + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def task_events(task_id, name, path, start, end, hosts):
    info = {"id": task_id, "name": name, "path": path, "duration": {"start": at(start)}}
    yield {"_event": "v2_playbook_on_task_start", "task": info, "hosts": {}}
    for host, result in hosts.items():
        yield {"_event": "v2_runner_on_ok", "task": {**info, "duration": {"start": at(start), "end": at(end)}},
               "hosts": {host: result}}


def write_stream(path: Path) -> None:
    events = [{"_event": "v2_playbook_on_play_start", "play": {"name": "Gather facts on every host", "id": "p1"}}]
    events += task_events("t1", "Gathering Facts", "/repo/site.yml:14", 1.0, 3.0, {"nfs": {}, "node-1": {}})
    events += [{"_event": "v2_playbook_on_play_start", "play": {"name": "NFS server (walkthrough section 3)", "id": "p2"}}]
    events += task_events("t2", "stateful.nfs.nfs_server : Install", "/repo/.collections/ansible_collections/stateful/nfs/"
                          "roles/nfs_server/tasks/install.yml:26", 3.5, 10.0, {"nfs": {"changed": True, "action": "ansible.builtin.apt"}})
    # A meta task (flush_handlers) reports a start and no result.
    events += [{"_event": "v2_playbook_on_task_start", "hosts": {}, "task": {
        "id": "t2m", "name": "stateful.nfs.nfs_server : Apply pending changes", "duration": {"start": at(10.1)},
        "path": "/repo/roles/nfs_server/tasks/main.yml:48"}}]
    events += [{"_event": "v2_playbook_on_play_start", "play": {"name": "NFS provisioner and StatefulSet", "id": "p3"}}]
    events += task_events("t3", "stateful.nfs.statefulset : Apply", "/repo/roles/statefulset/tasks/"
                          "application.yml:10", 10.2, 20.0, {"localhost": {"changed": False}})
    events += task_events("t4", "stateful.nfs.statefulset : Prove each pod's identity: web", "/repo/roles/statefulset/tasks/"
                          "application.yml:111", 20.1, 21.0, {"localhost": {"failed": True, "msg": "HTTP web-1: 403"}})
    events += [{"_event": "v2_playbook_on_stats", "stats": {"nfs": {"changed": 1, "failures": 0},
                                                             "localhost": {"changed": 0, "failures": 1}}}]
    path.write_text("\n".join(json.dumps(e) for e in events) + "\nnot json\n")


def test_stage_of_roles_and_plays():
    assert stage_of("/x/roles/nfs_server/handlers/main.yml:3", "") == "nfs_server"
    assert stage_of("/x/usual_way/roles/nfs_server_usual/tasks/main.yml:2", "") == "nfs_server"
    assert stage_of("/x/roles/statefulset/tasks/application.yml:111", "", "stateful.nfs.statefulset : Prove each pod's"
                    " identity, DNS record, own storage and application check: web") == "verify"
    assert stage_of("/x/roles/k8s_statefulset_nginx/tasks/plan.yml:8", "") == "k8s_validate"
    assert stage_of("/x/usual_way/k8s.yml:12", "StatefulSet, the usual way (kubernetes.core.k8s)") == "statefulset"
    assert stage_of("/x/usual_way/k8s.yml:40", "Each pod's line, the usual way") == "content"
    assert stage_of("/x/site.yml:30", "Preflight gate: every node proved") == "gate"
    assert stage_of("/x/other.yml:1", "Something else") == "other"


def test_play_log_stages_add_up_to_the_wall_time(tmp_path):
    stream = tmp_path / "run.jsonl"
    write_stream(stream)
    log = PlayLog.read(stream)
    assert [t.stage for t in log.tasks] == ["facts", "nfs_server", "nfs_server", "statefulset", "verify"]
    assert log.recap("changed") == 1 and log.recap("failures") == 1
    assert log.tasks[1].changed == 1 and log.tasks[3].changed == 0
    assert log.tasks[1].action == "ansible.builtin.apt" and log.tasks[2].action == ""
    assert log.tasks[4].failed == ["localhost: HTTP web-1: 403"]
    assert log.first_start("statefulset") == T + timedelta(seconds=10.2)
    spans = log.spans(T, T + timedelta(seconds=22))
    per_stage = {}
    for stage, begin, end, _ in spans:
        per_stage[stage] = per_stage.get(stage, 0) + (end - begin).total_seconds()
    assert sum(per_stage.values()) == 22
    # Start-up before the first task; the gap before a task counts to it; the tail after the last.
    assert {k: round(v, 3) for k, v in per_stage.items()} == {
        "startup": 1.0, "facts": 2.0, "nfs_server": 7.1, "statefulset": 9.9, "verify": 1.0, "tail": 1.0}
    # Own times: the meta task ends where the next task starts, the last one where the run ends.
    own = [round(secs, 3) for _, secs in log.durations(T + timedelta(seconds=22))]
    assert own == [2.0, 6.5, 0.1, 9.8, 0.9]


def audit_event(seconds, verb, uri, stage="ResponseComplete", groups=("kubeadm:cluster-admins", "system:authenticated"),
                subresource=None):
    ref = {"resource": "pods", "namespace": "default"}
    if subresource:
        ref["subresource"] = subresource
    return {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": stage, "verb": verb, "requestURI": uri,
            "user": {"username": "kubernetes-admin", "groups": list(groups)}, "objectRef": ref,
            "userAgent": "test", "requestReceivedTimestamp": at(seconds)}


def test_audit_requests_one_per_request_of_the_admin_group_in_the_window(tmp_path):
    log = tmp_path / "audit.log"
    log.write_text(json.dumps(audit_event(1, "get", "/api/v1/pods/old")) + "\n")
    offset = audit_offset(log)
    events = [
        audit_event(2, "get", "/api/v1/namespaces/default/pods"),
        audit_event(3, "watch", "/api/v1/pods?watch=1", stage="ResponseStarted"),
        audit_event(4, "patch", "/apis/apps/v1/namespaces/default/statefulsets/web?fieldManager=x"),
        audit_event(5, "patch", "/apis/apps/v1/namespaces/default/statefulsets/web?dryRun=All&fieldManager=x"),
        audit_event(6, "get", "/api/v1/namespaces/default/pods/web-0/exec?command=hostname", subresource="exec"),
        audit_event(7, "create", "/api/v1/namespaces/default/pods", groups=("system:masters",)),
        audit_event(8, "delete", "/api/v1/namespaces/default/pods/web-verify"),
        audit_event(30, "delete", "/api/v1/namespaces/default/pods/late"),
    ]
    with log.open("a") as out:
        out.write("\n".join(json.dumps(e) for e in events) + "\n")
    found = audit_requests(log, offset, T, T + timedelta(seconds=20))
    assert [(r.verb, r.kind) for r in found] == [
        ("get", "read"), ("patch", "write"), ("patch", "dry-run"), ("get", "stream"), ("delete", "write")]
    assert audit_requests(tmp_path / "missing.log", 0, T, T) == []


def test_serving_poller_keeps_the_first_time_each_pod_served_its_line():
    answers = {"web-0": ["error: (404)", "congratulations web-0 for k8s"], "web-1": ["403 Forbidden", "congratulations web-1 for k8s\n"]}
    calls: list[str] = []

    def fetch(pod: str) -> str:
        calls.append(pod)
        queue = answers[pod]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    poller = ServingPoller(fetch, ["web-0", "web-1"], "congratulations {pod} for k8s", interval=0.01)
    started = time.monotonic()
    poller.start()
    assert poller.wait(5)
    poller.stop()
    assert time.monotonic() - started < 5
    assert set(poller.first) == {"web-0", "web-1"}
    assert poller.all_serving() == max(poller.first.values())
    assert calls.count("web-0") == 2  # not fetched again once it served


def test_serving_poller_reports_the_last_answer_when_a_pod_never_serves():
    poller = ServingPoller(lambda pod: "error: (503) Service Unavailable", ["web-0"], "line {pod}", interval=0.01)
    poller.start()
    assert not poller.wait(0.3)
    poller.stop()
    assert poller.all_serving() is None
    assert poller.last_answer == {"web-0": "error: (503) Service Unavailable"}


def test_serving_poller_measures_its_sampling_period():
    def slow(pod: str) -> str:
        time.sleep(0.02)
        return "not yet"

    poller = ServingPoller(slow, ["web-0", "web-1"], "line {pod}", interval=0.01)
    assert poller.period() is None
    poller.start()
    time.sleep(0.3)
    poller.stop()
    # two fetches of 20 ms a round, plus the 10 ms interval
    assert 0.045 <= poller.period() < 0.2


def _pod(name, ready):
    from types import SimpleNamespace as NS
    return NS(metadata=NS(name=name, resource_version="1"),
              status=NS(conditions=[NS(type="Ready", status="True" if ready else "False")]))


def test_ready_watcher_keeps_the_first_time_each_watched_pod_was_ready(tmp_path, monkeypatch):
    from tools.bench import measure
    monkeypatch.setattr(measure.config, "new_client_from_config", lambda config_file: None)
    watcher = ReadyWatcher(tmp_path / "kubeconfig", "default", "", ["web-0", "web-1"])
    watcher._seen(_pod("web-0", False))
    assert watcher.ready == {} and watcher.all_ready() is None
    watcher._seen(_pod("web-0", True))
    first = watcher.ready["web-0"]
    watcher._seen(_pod("web-0", True))  # a later event of a pod already Ready changes nothing
    watcher._seen(_pod("other-0", True))  # not one of the pods watched for
    assert watcher.ready == {"web-0": first} and watcher.all_ready() is None
    watcher._seen(_pod("web-1", True))
    assert watcher.all_ready() == watcher.ready["web-1"] >= first
