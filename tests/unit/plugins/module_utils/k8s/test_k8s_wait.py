"""Waiters: partition-aware StatefulSet rollout, readiness timeline, timeout diagnostics, Deployments."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import wait
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import (
    WaitTimeoutError,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref

from tests.unit.plugins.module_utils.k8s.fakeapi import make_pod


def make_sts(replicas=3, partition=None, update="rev-2", current="rev-1", generation=2, observed=2, start=None,
             strategy="RollingUpdate", min_ready=None, available=None):
    spec = {"serviceName": "web", "replicas": replicas, "selector": {"matchLabels": {"app": "nginx"}},
            "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": []}},
            "updateStrategy": {"type": strategy},
            "volumeClaimTemplates": [{"metadata": {"name": "nginx-pvc"}, "spec": {}}]}
    if partition is not None:
        spec["updateStrategy"]["rollingUpdate"] = {"partition": partition}
    if start is not None:
        spec["ordinals"] = {"start": start}
    if min_ready:
        spec["minReadySeconds"] = min_ready
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "namespace": "default", "uid": "sts-uid", "generation": generation},
            "spec": spec,
            "status": {"observedGeneration": observed, "updateRevision": update, "currentRevision": current,
                       "availableReplicas": replicas if available is None else available}}


class ScriptedClient:
    """get/list answered from a list of snapshots; the waiter's sleep advances to the next one."""

    def __init__(self, snapshots, events=None, pvcs=None):
        self.snapshots = snapshots
        self.i = 0
        self.t = 0.0
        self.events = events or []
        self.pvcs = pvcs or {}
        self.calls = 0

    def clock(self):
        return self.t

    def sleep(self, d):
        self.t += d
        self.i = min(self.i + 1, len(self.snapshots) - 1)

    def get(self, ref):
        self.calls += 1
        if ref.kind == "StatefulSet":
            return self.snapshots[self.i][0]
        if ref.kind == "PersistentVolumeClaim":
            return self.pvcs.get(ref.name)
        return None

    def list(self, kind, namespace=None, label_selector=None, field_selector=None):
        self.calls += 1
        if kind == "Pod":
            return self.snapshots[self.i][1]
        if kind == "Event":
            return list(self.events)
        return []


def pods(sts, spec):
    """spec: {ordinal: (ready, revision)}"""
    return [make_pod(sts, o, ready=r, revision=rev) for o, (r, rev) in spec.items()]


# ----------------------------------------------------------------------------- progress evaluation
def test_done_when_all_updated_and_ready():
    s = make_sts()
    p = wait.statefulset_progress(s, pods(s, {0: (True, "rev-2"), 1: (True, "rev-2"), 2: (True, "rev-2")}))
    assert p["done"] and p["reason"] == "3/3 pods ready and at revision rev-2"


def test_not_done_while_old_revision_remains_without_partition():
    s = make_sts()
    p = wait.statefulset_progress(s, pods(s, {0: (True, "rev-1"), 1: (True, "rev-2"), 2: (True, "rev-2")}))
    assert not p["done"]
    assert p["problems"] == {"web-0": "at revision rev-1, waiting for update to rev-2 (Ready)"}


def test_partition_done_when_high_ordinals_updated_and_low_ones_ready():
    """kubernetes.core's waiter never returns here: currentRevision != updateRevision by design."""
    s = make_sts(partition=2)
    p = wait.statefulset_progress(s, pods(s, {0: (True, "rev-1"), 1: (True, "rev-1"), 2: (True, "rev-2")}))
    assert p["done"], p
    assert p["reason"] == "3/3 pods ready (ordinals >= 2 at rev-2)"


@pytest.mark.parametrize("state, problem", [
    ({0: (True, "rev-1"), 1: (True, "rev-1"), 2: (True, "rev-1")}, ("web-2", "at revision rev-1")),
    ({0: (False, "rev-1"), 1: (True, "rev-1"), 2: (True, "rev-2")}, ("web-0", "not ready")),
    ({0: (True, "rev-1"), 1: (True, "rev-1")}, ("web-2", "not created yet")),
])
def test_partition_not_done(state, problem):
    s = make_sts(partition=2)
    p = wait.statefulset_progress(s, pods(s, state))
    assert not p["done"]
    assert p["problems"][problem[0]].startswith(problem[1])
    assert "partition 2" in p["reason"]


def test_partition_is_an_index_with_ordinals_start():
    s = make_sts(partition=1, start=5)
    p = wait.statefulset_progress(s, pods(s, {5: (True, "rev-1"), 6: (True, "rev-2"), 7: (True, "rev-2")}))
    assert p["done"] and p["expected"] == ["web-5", "web-6", "web-7"]


def test_partition_beyond_replicas_needs_only_readiness():
    s = make_sts(partition=5)
    assert wait.statefulset_progress(s, pods(s, {0: (True, "rev-1"), 1: (True, "rev-1"), 2: (True, "rev-1")}))["done"]


def test_on_delete_ignores_revisions():
    s = make_sts(strategy="OnDelete")
    assert wait.statefulset_progress(s, pods(s, {0: (True, "rev-1"), 1: (True, "rev-1"), 2: (True, "rev-1")}))["done"]


def test_generation_not_observed():
    s = make_sts(generation=3, observed=2)
    p = wait.statefulset_progress(s, pods(s, {0: (True, "rev-2"), 1: (True, "rev-2"), 2: (True, "rev-2")}))
    assert not p["done"] and "generation 3" in p["reason"]


def test_scale_down_waits_for_extra_pods():
    s = make_sts(replicas=2)
    p = wait.statefulset_progress(s, pods(s, {0: (True, "rev-2"), 1: (True, "rev-2"), 2: (True, "rev-2")}))
    assert not p["done"] and p["problems"] == {"web-2": "waiting to be deleted (scale down)"}


def test_scale_to_zero_done_when_no_pods():
    s = make_sts(replicas=0)
    assert wait.statefulset_progress(s, [])["done"]


def test_min_ready_seconds_uses_available_replicas():
    s = make_sts(min_ready=10, available=2)
    p = wait.statefulset_progress(s, pods(s, {0: (True, "rev-2"), 1: (True, "rev-2"), 2: (True, "rev-2")}))
    assert not p["done"] and "minReadySeconds=10" in p["reason"]


def test_pods_of_other_owners_are_ignored():
    s = make_sts(replicas=1)
    stray = make_pod(s, 0, revision="rev-2")
    stray["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    assert wait.statefulset_progress(s, [stray])["problems"] == {"web-0": "not created yet"}


# ----------------------------------------------------------------------------- the wait loop
def ordered_rollout_snapshots():
    """OrderedReady creation: web-0, then web-1, then web-2 become ready one poll apart."""
    s = make_sts(update="rev-1", current="rev-1")
    snaps = []
    for n in range(4):
        state = {o: (o < n, "rev-1") for o in range(min(n + 1, 3))}
        snaps.append((s, pods(s, state)))
    return snaps


def test_wait_returns_timeline_in_order():
    c = ScriptedClient(ordered_rollout_snapshots())
    res = wait.wait_statefulset(c, "default", "web", timeout=60, interval=2, clock=c.clock, sleep=c.sleep)
    assert res["ready"] is True and res["in_order"] is True
    assert [e["pod"] for e in res["timeline"]] == ["web-0", "web-1", "web-2"]
    assert [e["observed_after_seconds"] for e in res["timeline"]] == [2.0, 4.0, 6.0]
    assert res["timeline"][0]["ready_at"] == "2024-05-01T10:00:00Z"
    assert res["elapsed"] == 6.0


def test_wait_partitioned_rollout_returns():
    s = make_sts(partition=2)
    c = ScriptedClient([
        (s, pods(s, {0: (True, "rev-1"), 1: (True, "rev-1"), 2: (True, "rev-1")})),
        (s, pods(s, {0: (True, "rev-1"), 1: (True, "rev-1"), 2: (False, "rev-2")})),
        (s, pods(s, {0: (True, "rev-1"), 1: (True, "rev-1"), 2: (True, "rev-2")})),
    ])
    res = wait.wait_statefulset(c, "default", "web", timeout=60, interval=1, clock=c.clock, sleep=c.sleep)
    assert res["ready"] and res["partition"] == 2 and res["elapsed"] == 2.0
    assert res["current_revision"] == "rev-1" and res["update_revision"] == "rev-2"


def test_timeout_lists_not_ready_pods_with_phase_conditions_events():
    s = make_sts(update="rev-1", current="rev-1")
    stuck = make_pod(s, 1, ready=False, conditions=[
        {"type": "PodScheduled", "status": "True"},
        {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
         "message": "containers with unready status: [nginx]"}])
    stuck["status"]["containerStatuses"] = [{"name": "nginx", "ready": False, "state": {
        "waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "nginx:nope"'}}}]
    unsched = make_pod(s, 2, ready=False, phase="Pending", conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": "0/3 nodes are available: 3 Insufficient memory."}])
    events = [
        {"involvedObject": {"kind": "Pod", "name": "web-1"}, "type": "Warning", "reason": "Failed",
         "message": "Failed to pull image \"nginx:nope\"", "count": 4, "lastTimestamp": "2024-05-01T10:01:00Z"},
        {"involvedObject": {"kind": "Pod", "name": "web-1"}, "type": "Warning", "reason": "FailedMount",
         "message": "MountVolume.SetUp failed for volume \"pvc-1\" : mount failed: exit status 32 mount.nfs:"
                    " Connection refused", "lastTimestamp": "2024-05-01T10:00:30Z"},
        {"involvedObject": {"kind": "StatefulSet", "name": "web"}, "type": "Warning", "reason": "FailedCreate",
         "message": "create Pod web-3 failed", "lastTimestamp": "2024-05-01T10:00:10Z"},
    ]
    pvcs = {"nginx-pvc-web-2": {"status": {"phase": "Pending"}}}
    c = ScriptedClient([(s, [make_pod(s, 0), stuck, unsched])], events=events, pvcs=pvcs)
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_statefulset(c, "default", "web", timeout=10, interval=2, clock=c.clock, sleep=c.sleep)
    msg = str(exc.value)
    lines = msg.splitlines()
    assert lines[0] == "Timed out after 10s waiting for StatefulSet default/web: 1/3 pods ready; web-1 not ready"
    web1 = next(line for line in lines if line.startswith("  - web-1"))
    assert "phase Pending" in web1 or "phase Running" in web1
    assert "Ready=False ContainersNotReady" in web1
    assert "container nginx waiting ImagePullBackOff" in web1
    assert "Warning Failed (x4): Failed to pull image" in web1
    assert "FailedMount" in web1 and "mount.nfs: Connection refused" in web1
    # events oldest first
    assert web1.index("FailedMount") < web1.index("Warning Failed (x4)")
    web2 = next(line for line in lines if line.startswith("  - web-2"))
    assert "PodScheduled=False Unschedulable: 0/3 nodes are available" in web2
    assert "PVC nginx-pvc-web-2 Pending" in web2
    assert any(line.startswith("StatefulSet events: Warning FailedCreate") for line in lines)
    assert "Became ready meanwhile: web-0" in msg
    details = exc.value.details
    assert [d["pod"] for d in details["not_ready"]] == ["web-1", "web-2"]
    assert details["timeline"][0]["pod"] == "web-0"
    assert c.t == 10  # bounded by the timeout


def _broken(sts, ordinal, revision):
    pod = make_pod(sts, ordinal, ready=False, revision=revision)
    pod["status"]["containerStatuses"] = [{"name": "nginx", "ready": False, "restartCount": 7, "state": {
        "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}}]
    return pod


def test_timeout_after_a_reverted_template_says_the_broken_pod_must_be_deleted():
    """Template updated to a broken revision, then reverted: the StatefulSet's update revision is the
    good one again, but web-2 still runs the broken one and is never replaced (Kubernetes docs,
    "Forced rollback"): the timeout says to delete it, and which command does."""
    s = make_sts(update="rev-1", current="rev-1")
    c = ScriptedClient([(s, [make_pod(s, 0, revision="rev-1"), make_pod(s, 1, revision="rev-1"), _broken(s, 2, "rev-2")])])
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_statefulset(c, "default", "web", timeout=6, interval=2, clock=c.clock, sleep=c.sleep)
    msg = str(exc.value)
    assert "Forced rollback" in msg and "kubectl delete pod -n default web-2" in msg
    assert "web-2 runs revision rev-2, not the update revision rev-1, and is not Ready" in msg
    assert exc.value.details["forced_rollback"] == ["web-2"]


@pytest.mark.parametrize("case", ["parallel", "at_update_revision", "below_partition", "ready_old_pod"])
def test_no_forced_rollback_hint_where_the_controller_moves_on(case):
    s = make_sts(update="rev-1", current="rev-1", partition=3 if case == "below_partition" else None)
    if case == "parallel":
        s["spec"]["podManagementPolicy"] = "Parallel"
    third = {"at_update_revision": _broken(s, 2, "rev-1"), "ready_old_pod": make_pod(s, 2, revision="rev-2")}.get(
        case, _broken(s, 2, "rev-2"))
    c = ScriptedClient([(s, [make_pod(s, 0, revision="rev-1"), _broken(s, 1, "rev-1"), third])])
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_statefulset(c, "default", "web", timeout=4, interval=2, clock=c.clock, sleep=c.sleep)
    assert "Forced rollback" not in str(exc.value)
    assert exc.value.details["forced_rollback"] == []


def test_timeout_for_missing_pods_says_not_created():
    s = make_sts(update="rev-1", current="rev-1")
    c = ScriptedClient([(s, [])])
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_statefulset(c, "default", "web", timeout=3, interval=1, clock=c.clock, sleep=c.sleep)
    assert "  - web-0: not created yet" in str(exc.value).splitlines()


def test_missing_statefulset_times_out_clearly():
    c = ScriptedClient([(None, [])])
    with pytest.raises(WaitTimeoutError, match="StatefulSet does not exist"):
        wait.wait_statefulset(c, "default", "web", timeout=2, interval=1, clock=c.clock, sleep=c.sleep)


def test_timeline_keeps_each_incarnation():
    s = make_sts(update="rev-2", current="rev-1")
    old = make_pod(s, 0, revision="rev-1")
    new = copy.deepcopy(make_pod(s, 0, revision="rev-2"))
    new["metadata"]["uid"] = "uid-web-0-new"
    new["status"]["conditions"][1]["lastTransitionTime"] = "2024-05-01T10:05:00Z"
    s1 = make_sts(replicas=1, update="rev-2", current="rev-1")
    c = ScriptedClient([(s1, [old]), (s1, [new])])
    res = wait.wait_statefulset(c, "default", "web", timeout=10, interval=1, clock=c.clock, sleep=c.sleep)
    assert [(e["pod"], e["revision"]) for e in res["timeline"]] == [("web-0", "rev-1"), ("web-0", "rev-2")]



def test_timeline_says_which_pod_went_when():
    """A scale-down 3 -> 1: web-2 seen terminating, then gone, then web-1 gone without being seen
    terminating; each once, in the order seen (the scale's highest-first proof reads it)."""
    s = make_sts(replicas=1, update="rev-1", current="rev-1")
    p0, p1, p2 = (make_pod(s, o, revision="rev-1") for o in range(3))
    going = copy.deepcopy(p2)
    going["metadata"]["deletionTimestamp"] = "2024-05-01T10:06:00Z"
    c = ScriptedClient([(s, [p0, p1, going]), (s, [p0, p1]), (s, [p0])])
    res = wait.wait_statefulset(c, "default", "web", timeout=10, interval=1, clock=c.clock, sleep=c.sleep)
    assert [(e["pod"], e["deleted_at"]) for e in res["removed"]] == [("web-2", "2024-05-01T10:06:00Z"), ("web-1", None)]
    assert res["removed"][0]["observed_after_seconds"] < res["removed"][1]["observed_after_seconds"]

# ----------------------------------------------------------------------------- Deployment
def dep(replicas=1, updated=1, available=1, total=1, cond="True", gen=1, observed=1, progressing=None):
    conds = [{"type": "Available", "status": cond}]
    if progressing:
        conds.append({"type": "Progressing", "status": "False", "reason": progressing, "message": "too slow"})
    return {"metadata": {"name": "p", "namespace": "default", "generation": gen},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "p"}}},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "availableReplicas": available,
                       "replicas": total, "conditions": conds}}


@pytest.mark.parametrize("d, done, reason", [
    (dep(), True, "1 of 1 replicas available"),
    (dep(available=0), False, "0 of 1 replicas available"),
    (dep(updated=0), False, "0 of 1 replicas updated"),
    (dep(total=2), False, "1 old replicas pending termination"),
    (dep(cond="False"), False, "condition Available is not True"),
    (dep(gen=2), False, "controller has not observed generation 2 yet"),
    (dep(replicas=0, updated=0, available=0, total=0), True, "scaled to 0"),
    (None, False, "does not exist"),
])
def test_deployment_available(d, done, reason):
    assert wait.deployment_available(d) == (done, reason)


class DepClient:
    def __init__(self, seq, pods=()):
        self.seq, self.pods, self.t = list(seq), list(pods), 0.0

    def clock(self):
        return self.t

    def sleep(self, d):
        self.t += d
        if len(self.seq) > 1:
            self.seq.pop(0)

    def get(self, ref):
        return self.seq[0]

    def list(self, kind, namespace=None, label_selector=None, field_selector=None):
        if kind == "Pod":
            assert label_selector == "app=p"
            return self.pods
        return [{"involvedObject": {"kind": "Pod", "name": "p-1"}, "type": "Warning", "reason": "FailedMount",
                 "message": "mount.nfs: access denied by server", "lastTimestamp": "t"}]


def test_wait_deployment_becomes_available():
    c = DepClient([dep(available=0), dep(available=0), dep()])
    res = wait.wait_deployment_available(c, Ref("Deployment", "p", "default"), timeout=30, interval=2,
                                         clock=c.clock, sleep=c.sleep)
    assert res == {"ready": True, "elapsed": 4.0, "reason": "1 of 1 replicas available"}


def test_wait_deployment_timeout_lists_pods():
    pod = {"metadata": {"name": "p-1", "namespace": "default"}, "spec": {},
           "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]}}
    c = DepClient([dep(available=0)], pods=[pod])
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_deployment_available(c, Ref("Deployment", "p", "default"), timeout=5, interval=1,
                                       clock=c.clock, sleep=c.sleep)
    msg = str(exc.value)
    assert msg.startswith("Timed out after 5s waiting for Deployment default/p to become Available")
    assert "  - p-1: phase Pending; Ready=False; events: Warning FailedMount: mount.nfs: access denied" in msg


def test_wait_deployment_progress_deadline_fails_early():
    c = DepClient([dep(available=0, progressing="ProgressDeadlineExceeded")])
    with pytest.raises(WaitTimeoutError, match="progress deadline exceeded"):
        wait.wait_deployment_available(c, Ref("Deployment", "p", "default"), timeout=300, interval=1,
                                       clock=c.clock, sleep=c.sleep)
    assert c.t == 0


def test_wait_over_http_with_fake_api(fake_api, client):
    """The real request path: GET StatefulSet + LIST pods by selector until ready."""
    s = make_sts(replicas=2, update="rev-1", current="rev-1")
    s["status"]["observedGeneration"] = 1
    s["metadata"]["generation"] = 1
    fake_api.objects[("StatefulSet", "default", "web")] = s
    polls = []

    def controller(fake, method, path):
        if method == "GET" and path.endswith("/pods"):
            polls.append(1)
            n = len(polls)
            for o in range(min(n, 2)):
                fake.objects[("Pod", "default", f"web-{o}")] = make_pod(s, o, ready=o < n - 1)

    fake_api.hooks.append(controller)
    res = wait.wait_statefulset(client, "default", "web", timeout=20, interval=0.01)
    assert res["ready"] and [e["pod"] for e in res["timeline"]] == ["web-0", "web-1"]
    assert any(r["query"].get("labelSelector") == "app=nginx" for r in fake_api.requests)


def test_a_known_forced_rollback_ends_the_wait_after_the_grace_not_the_timeout():
    """web-2 runs the broken revision in CrashLoopBackOff after the template was reverted: the
    controller will never replace it, so the wait says so once the grace has passed."""
    s = make_sts(update="rev-1", current="rev-1")
    c = ScriptedClient([(s, [make_pod(s, 0, revision="rev-1"), make_pod(s, 1, revision="rev-1"), _broken(s, 2, "rev-2")])])
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_statefulset(c, "default", "web", timeout=600, interval=2, clock=c.clock, sleep=c.sleep)
    msg = str(exc.value)
    assert msg.splitlines()[0] == ("StatefulSet default/web cannot finish its rollout: web-2 needs a forced rollback"
                                   " (web-2 CrashLoopBackOff; known after 20s of the 600s timeout)")
    assert "kubectl delete pod -n default web-2" in msg
    assert exc.value.details["forced_rollback"] == ["web-2"]
    assert c.t == wait.FORCED_ROLLBACK_GRACE  # not the timeout
    # a pod that was ready once and is stuck now is not listed as "became ready"
    assert "Became ready meanwhile: web-0, web-1" in msg


def test_a_crash_loop_reported_as_terminated_between_restarts_is_known_after_the_grace():
    """Measured on the lab (v1.35): between two restarts the kubelet reports the exited container
    as terminated, not waiting CrashLoopBackOff; that is a crash loop all the same."""
    s = make_sts(update="rev-1", current="rev-1")
    looping = _broken(s, 2, "rev-2")
    looping["status"]["containerStatuses"][0]["state"] = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    c = ScriptedClient([(s, [make_pod(s, 0, revision="rev-1"), make_pod(s, 1, revision="rev-1"), looping])])
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_statefulset(c, "default", "web", timeout=600, interval=2, clock=c.clock, sleep=c.sleep)
    assert exc.value.details["forced_rollback"] == ["web-2"] and c.t == wait.FORCED_ROLLBACK_GRACE
    assert "web-2 CrashLoopBackOff (exit code 0, 7 restarts)" in str(exc.value)


@pytest.mark.parametrize("statuses, expected", [
    ({"containerStatuses": [{"restartCount": 0, "state": {"terminated": {"exitCode": 1}}}]}, None),  # not restarted yet
    ({"containerStatuses": [{"restartCount": 2, "state": {"running": {}}}]}, None),
    ({"initContainerStatuses": [{"restartCount": 1, "state": {"terminated": {"exitCode": 0}}}]}, None),  # init done
    ({"initContainerStatuses": [{"restartCount": 3, "state": {"terminated": {"exitCode": 2}}}]},
     "CrashLoopBackOff (exit code 2, 3 restarts)"),
    ({"containerStatuses": [{"restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}, "ImagePullBackOff"),
])
def test_stuck_reason(statuses, expected):
    assert wait.stuck_reason({"spec": {"restartPolicy": "Always"}, "status": statuses}) == expected


def test_a_terminated_container_of_a_pod_that_is_not_restarted_is_not_a_crash_loop():
    pod = {"spec": {"restartPolicy": "Never"},
           "status": {"containerStatuses": [{"restartCount": 1, "state": {"terminated": {"exitCode": 1}}}]}}
    assert wait.stuck_reason(pod) is None


def test_a_stuck_pod_the_controller_will_replace_is_waited_for():
    s = make_sts(update="rev-1", current="rev-1")
    c = ScriptedClient([(s, [make_pod(s, 0, revision="rev-1"), make_pod(s, 1, revision="rev-1"), _broken(s, 2, "rev-1")])])
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_statefulset(c, "default", "web", timeout=60, interval=2, clock=c.clock, sleep=c.sleep)
    assert str(exc.value).startswith("Timed out after 60s") and c.t == 60


def test_a_wait_woken_early_by_many_changes_is_bounded_by_the_clock_not_a_count_of_checks():
    """A watch-driven sleep returns at each change: thirty quick changes before the rollout ends
    must not exhaust the wait (the timeout is time, not a number of checks)."""
    s = make_sts(update="rev-2", current="rev-2")
    not_yet = (s, [make_pod(s, 0, revision="rev-2"), make_pod(s, 1, ready=False, revision="rev-2"),
                   make_pod(s, 2, ready=False, revision="rev-2")])
    done = (s, [make_pod(s, o, revision="rev-2") for o in range(3)])
    c = ScriptedClient([not_yet] * 30 + [done])

    def woken_early(seconds):
        c.sleep(0.05)  # an event after 50 ms, whatever the interval

    res = wait.wait_statefulset(c, "default", "web", timeout=60, interval=10, clock=c.clock, sleep=woken_early)
    assert res["ready"] is True and c.i == 30


class WatchingClient(ScriptedClient):
    """A ScriptedClient whose watch yields one change per snapshot, then ends (as the server ends a watch)."""

    def __init__(self, snapshots):
        super().__init__(snapshots)
        self.watches = []

    def watch(self, kind, namespace, label_selector=None, field_selector=None, resource_version=None,
              timeout_seconds=30):
        self.watches.append((kind, label_selector, field_selector, resource_version))
        if kind == "Pod":
            import time as real_time
            real_time.sleep(0.05)
            self.i = min(self.i + 1, len(self.snapshots) - 1)
            yield "MODIFIED", {"metadata": {"resourceVersion": str(100 + self.i)}}


def test_without_a_sleep_the_wait_follows_watch_events_on_the_statefulset_and_its_pods():
    s = make_sts(update="rev-2", current="rev-2")
    start = (s, [make_pod(s, 0, revision="rev-2"), make_pod(s, 1, ready=False, revision="rev-2")])
    done = (s, [make_pod(s, o, revision="rev-2") for o in range(3)])
    c = WatchingClient([start, start, done])
    res = wait.wait_statefulset(c, "default", "web", timeout=30)  # no sleep given: watches
    assert res["ready"] is True and res["elapsed"] < 5  # woken by events, not the 10 s re-check
    kinds = {w[0]: w for w in c.watches}
    assert kinds["StatefulSet"][2] == "metadata.name=web" and kinds["Pod"][1] == "app=nginx"
    # a watch the server ended is resumed from its last resourceVersion
    assert any(w[0] == "Pod" and w[3] is not None for w in c.watches)


def test_a_crashing_container_is_named_with_its_last_exit_code_and_the_tail_of_its_previous_log():
    s = make_sts(update="rev-1", current="rev-1", replicas=1)
    pod = _broken(s, 0, "rev-1")
    pod["status"]["containerStatuses"][0]["lastState"] = {"terminated": {"reason": "Error", "exitCode": 2}}
    c = ScriptedClient([(s, [pod])])
    asked = []

    def previous_log(namespace, name, container, tail_lines):
        asked.append((namespace, name, container, tail_lines))
        return 'FATAL:  could not access directory "/data/pgdta": No such file or directory\n\n'
    c.previous_log = previous_log
    with pytest.raises(WaitTimeoutError) as exc:
        wait.wait_statefulset(c, "default", "web", timeout=2, interval=1, clock=c.clock, sleep=c.sleep)
    line = next(x for x in str(exc.value).splitlines() if x.startswith("  - web-0"))
    assert ("container nginx last terminated Error exit code 2: log: FATAL:  could not access directory"
            ' "/data/pgdta": No such file or directory') in line
    assert asked == [("default", "web-0", "nginx", wait.LOG_TAIL_LINES)]


def _going(pod, deleted_at):
    pod = copy.deepcopy(pod)
    pod["metadata"]["deletionTimestamp"] = deleted_at
    return pod


def test_pods_first_seen_going_in_one_reading_are_listed_as_their_deletion_shows():
    """A scale 5 -> 2 read on a loaded machine: web-4 seen terminating; at the next reading web-3
    is gone and web-2 terminating. The list says web-4, web-3, web-2 (gone before terminating),
    not the order the reading met them in (web-2 first: it is still listed)."""
    s = make_sts(replicas=5)
    pods = {o: make_pod(s, o) for o in range(5)}
    timeline = wait.Timeline("web")
    timeline.observe(list(pods.values()), 0.0)
    timeline.observe([pods[0], pods[1], pods[2], pods[3], _going(pods[4], "2026-01-01T00:00:01Z")], 1.0)
    timeline.observe([pods[0], pods[1], _going(pods[2], "2026-01-01T00:00:09Z")], 9.0)
    assert [e["pod"] for e in timeline.removed()] == ["web-4", "web-3", "web-2"]
    # both gone between two readings, or both terminating with one timestamp: highest ordinal first
    timeline = wait.Timeline("web")
    timeline.observe(list(pods.values()), 0.0)
    timeline.observe([pods[0], pods[1]], 5.0)
    assert [e["pod"] for e in timeline.removed()] == ["web-4", "web-3", "web-2"]
    timeline = wait.Timeline("web")
    timeline.observe(list(pods.values()), 0.0)
    timeline.observe([pods[0], pods[1], pods[2]] + [_going(pods[o], "2026-01-01T00:00:05Z") for o in (3, 4)], 5.0)
    assert [e["pod"] for e in timeline.removed()] == ["web-4", "web-3"]
    # seen going one after the other: the order of the readings, whatever the timestamps say
    timeline = wait.Timeline("web")
    timeline.observe(list(pods.values()), 0.0)
    timeline.observe([pods[0], pods[1], pods[2], pods[3], _going(pods[4], "2026-01-01T00:00:07Z")], 1.0)
    timeline.observe([pods[0], pods[1], pods[2], _going(pods[3], "2026-01-01T00:00:02Z")], 2.0)
    assert [e["pod"] for e in timeline.removed()] == ["web-4", "web-3"]
