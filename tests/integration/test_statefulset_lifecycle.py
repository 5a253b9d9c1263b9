"""stateful.nfs.statefulset against the lab cluster: immutable fields, recreate, deletion cascades, PVCs."""
from __future__ import annotations

import pytest

from tests.support.waiting import wait_for

from .conftest import ROLLOUT, is_ready, pods_of, settled_sts, static_storage, sts_args, vct


def _sts(lab, ns, name="web"):
    return lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/{name}")


def _pvcs(lab, ns):
    return {p["metadata"]["name"]: p for p in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")}


def _deployed(lab, ns, run, replicas=2, **over):
    sc = static_storage(lab, ns, replicas)
    args = sts_args(lab, ns, replicas=replicas, volume_claim_templates=vct(sc), wait=True, wait_timeout=ROLLOUT,
                    **over)
    res = run("statefulset", args, via="inproc")
    assert not res.get("failed") and res["rollout"]["ready"], res.get("msg")
    return sc, args


@pytest.mark.parametrize("change, field", [
    (lambda a, sc: {"volume_claim_templates": vct(sc, size="2Gi")}, "volumeClaimTemplates"),
    (lambda a, sc: {"service_name": "web-other"}, "serviceName"),
    (lambda a, sc: {"pod_management_policy": "Parallel"}, "podManagementPolicy"),
    (lambda a, sc: {"labels": {"app": "web", "tier": "x"}, "selector": {"tier": "x"}}, "selector"),
], ids=["volumeClaimTemplates", "serviceName", "podManagementPolicy", "selector"])
def test_immutable_change_fails_naming_the_field_and_writes_nothing(lab, ns, run, change, field):
    sc, args = _deployed(lab, ns, run)
    before = settled_sts(lab, ns)
    lab.reset_stats()
    res = run("statefulset", {**args, **change(args, sc), "wait": False}, via="inproc")
    stats = lab.stats()
    assert res.get("failed") is True
    assert field in res["msg"], res["msg"]
    assert "recreate_on_immutable_change" in res["msg"], res["msg"]  # says how to proceed
    assert stats["writes"] == 0 and stats["dry_run_writes"] == 0, stats
    assert lab.write_requests() == {}, stats
    after = _sts(lab, ns)
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert lab.get(f"/api/v1/namespaces/{ns}/services/web-other") is None


def test_immutable_change_fails_the_same_way_through_ansible_playbook(lab, ns, run):
    sc, args = _deployed(lab, ns, run, replicas=1)
    rv = settled_sts(lab, ns)["metadata"]["resourceVersion"]
    lab.reset_stats()
    res = run("statefulset", {**args, "volume_claim_templates": vct(sc, size="2Gi"), "wait": False})
    assert res.get("failed") is True and "volumeClaimTemplates" in res["msg"], res.get("msg")
    assert lab.write_requests() == {}, lab.stats()
    assert _sts(lab, ns)["metadata"]["resourceVersion"] == rv


def test_recreate_on_immutable_change_keeps_pods_and_pvcs(lab, ns, run):
    sc, args = _deployed(lab, ns, run, replicas=2)
    old_sts = _sts(lab, ns)
    pod_uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods_of(lab, ns)}
    pvc_uids = {n: p["metadata"]["uid"] for n, p in _pvcs(lab, ns).items()}
    assert sorted(pod_uids) == ["web-0", "web-1"] and sorted(pvc_uids) == ["data-web-0", "data-web-1"]

    res = run("statefulset", {**args, "volume_claim_templates": vct(sc, size="2Gi"),
                              "recreate_on_immutable_change": True}, via="inproc", diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert "spec.volumeClaimTemplates" in res["recreated_because"], res
    assert ("StatefulSet", "recreate") in [(o["kind"], o["action"]) for o in res["objects"]], res["objects"]

    new_sts = _sts(lab, ns)
    assert new_sts["metadata"]["uid"] != old_sts["metadata"]["uid"]
    assert new_sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    # the running pods were adopted, never deleted; the PVCs are the same objects
    pods = pods_of(lab, ns)
    assert {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods} == pod_uids
    assert all(is_ready(p) for p in pods)
    wait_for("pods adopted by the new StatefulSet",
             lambda: all((p["metadata"].get("ownerReferences") or [{}])[0].get("uid") == new_sts["metadata"]["uid"]
                         for p in pods_of(lab, ns)), timeout=30)
    assert {n: p["metadata"]["uid"] for n, p in _pvcs(lab, ns).items()} == pvc_uids
    assert all(not p["metadata"].get("deletionTimestamp") for p in _pvcs(lab, ns).values())

    # and it converges: the same input again is unchanged
    again = run("statefulset", {**args, "volume_claim_templates": vct(sc, size="2Gi"),
                                "recreate_on_immutable_change": True}, via="inproc")
    assert again["changed"] is False, again


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_absent_cascade_and_pvcs_kept(lab, ns, run, cascade):
    _deployed(lab, ns, run, replicas=2)
    pvc_uids = {n: p["metadata"]["uid"] for n, p in _pvcs(lab, ns).items()}
    pod_uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods_of(lab, ns)}

    res = run("statefulset", {"name": "web", "namespace": ns, "state": "absent", "cascade": cascade,
                              "wait": True, "wait_timeout": ROLLOUT}, via="inproc")
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True and res["cascade"] == cascade
    assert sorted(res["pvcs_kept"]) == ["data-web-0", "data-web-1"], res
    assert not res.get("pvcs_deleted")
    assert _sts(lab, ns) is None
    assert lab.get(f"/api/v1/namespaces/{ns}/services/web") is None

    if cascade == "orphan":
        pods = pods_of(lab, ns)
        assert {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods} == pod_uids
        assert all(not p["metadata"].get("deletionTimestamp") and is_ready(p) for p in pods)
        wait_for("orphaned pods lose their ownerReference (garbage collector)",
                 lambda: all(not p["metadata"].get("ownerReferences") for p in pods_of(lab, ns)), timeout=30)
    elif cascade == "foreground":
        # foreground: the StatefulSet is gone only after its pods are, and the module waited for that
        assert pods_of(lab, ns) == []
    else:
        wait_for("pods deleted in the background (garbage collector)", lambda: pods_of(lab, ns) == [], timeout=ROLLOUT)

    pvcs = _pvcs(lab, ns)
    assert {n: p["metadata"]["uid"] for n, p in pvcs.items()} == pvc_uids
    assert all(not p["metadata"].get("deletionTimestamp") for p in pvcs.values())

    # deleting what is already gone is a no-op
    again = run("statefulset", {"name": "web", "namespace": ns, "state": "absent", "cascade": cascade},
                via="inproc")
    assert again["changed"] is False, again


def test_absent_with_delete_pvcs_deletes_them(lab, ns, run):
    _deployed(lab, ns, run, replicas=2)
    res = run("statefulset", {"name": "web", "namespace": ns, "state": "absent", "delete_pvcs": True,
                              "wait": True, "wait_timeout": ROLLOUT}, via="inproc")
    assert not res.get("failed"), res.get("msg")
    assert sorted(res["pvcs_deleted"]) == ["data-web-0", "data-web-1"], res
    assert not res.get("pvcs_kept")
    wait_for("PVCs deleted (after their pods released them)", lambda: _pvcs(lab, ns) == {}, timeout=ROLLOUT)


def test_absent_in_check_mode_deletes_nothing(lab, ns, run):
    _deployed(lab, ns, run, replicas=1)
    lab.reset_stats()
    res = run("statefulset", {"name": "web", "namespace": ns, "state": "absent", "delete_pvcs": True},
              via="inproc", check=True)
    assert res["changed"] is True
    stats = lab.stats()
    assert stats["writes"] == 0, stats  # every delete carried dryRun=All
    assert _sts(lab, ns) is not None and len(pods_of(lab, ns)) == 1 and list(_pvcs(lab, ns)) == ["data-web-0"]
