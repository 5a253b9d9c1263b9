"""module_utils/k8s/migrate.py: the plan of a move to another class (pure), its refusals, and its
two-step run against the fake API (old volumes set to Retain before any claim is deleted; a claim
bound only to a finished copy)."""
from __future__ import annotations

import copy

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.migrate import (
    MIGRATE_TO,
    migrated_directory,
    plan_migrate,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.restore import pv_manifest, validate_restore_params

PV0 = "pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10"
PV1 = "pvc-1b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e11"
OLD = "/srv/nfs/old"
NEW = "/srv/nfs/new"


def params(klass="nfs-new", **over):
    sts = {"name": "web", "namespace": "shop", "image": "nginx", "replicas": 2, "labels": {"app": "web"},
           "volume_claim_templates": [{"name": "www", "storage_class_name": klass, "size": "1Gi",
                                       "mount_path": "/usr/share/nginx/html"}]}
    raw = {"statefulset": sts, "source": "migrate"}
    raw.update(over)
    return validate_restore_params(raw)


def pv(name, claim, klass="nfs-old", path=None, policy="Delete", phase="Bound", server="10.0.0.5", annotations=None):
    return {"metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"storageClassName": klass, "persistentVolumeReclaimPolicy": policy,
                     "nfs": {"server": server, "path": path or f"{OLD}/shop-{claim}-{name}"},
                     "claimRef": {"namespace": "shop", "name": claim, "uid": f"uid-{claim}"}},
            "status": {"phase": phase}}


def pvc(claim, volume, klass="nfs-old", phase="Bound"):
    return {"metadata": {"name": claim, "namespace": "shop", "uid": f"uid-{claim}"},
            "spec": {"storageClassName": klass, "volumeName": volume}, "status": {"phase": phase}}


def sts(klass="nfs-old", templates=("www",)):
    return {"metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 2, "volumeClaimTemplates": [{"metadata": {"name": t},
                                                               "spec": {"storageClassName": klass}}
                                                              for t in templates]}}


def live(**over):
    base = {"namespace_exists": True, "namespaces": {"shop"}, "pods": {"web-0": {}, "web-1": {}},
            "claims": {"www-web-0": pvc("www-web-0", PV0), "www-web-1": pvc("www-web-1", PV1)},
            "pvs": [pv(PV0, "www-web-0"), pv(PV1, "www-web-1")], "statefulset": sts(),
            "classes": {"nfs-old": {"nfs_server": "10.0.0.5", "nfs_path": OLD, "mount_options": []},
                        "nfs-new": {"nfs_server": "10.0.0.5", "nfs_path": NEW, "mount_options": ["nfsvers=4.1"]}}}
    base.update(over)
    return base


def test_each_claim_is_copied_into_a_fresh_directory_of_the_new_export_and_bound_to_it():
    plan = plan_migrate(params(), live())
    assert plan["refusals"] == []
    assert plan["apply_statefulset"] is True and plan["live_classes"] == {"www": "nfs-old"}
    rows = plan["claims"]
    assert [(r["claim"], r["action"], r["from"], r["old_pv"], r["retain"]) for r in rows] == [
        ("www-web-0", "migrate", "claim", PV0, True), ("www-web-1", "migrate", "claim", PV1, True)]
    row = rows[0]
    assert row["directory"] == migrated_directory("shop", "www-web-0", PV0) == f"migrated-shop-www-web-0-{PV0}"
    assert row["copy"] == {"src": f"{OLD}/shop-www-web-0-{PV0}", "dest": f"{NEW}/migrated-shop-www-web-0-{PV0}"}
    assert row["pv"] == f"migrated-{PV0}" and row["pod_exists"] is True
    manifest = pv_manifest(row)
    assert manifest["spec"]["storageClassName"] == "nfs-new"
    assert manifest["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert manifest["spec"]["nfs"] == {"server": "10.0.0.5", "path": f"{NEW}/migrated-shop-www-web-0-{PV0}"}
    assert manifest["spec"]["claimRef"]["name"] == "www-web-0"
    assert [s["pv"] for s in plan["sources"]] == [PV0, PV1]


def test_the_inventory_class_equal_to_the_live_one_is_nothing_to_do():
    state = live(claims={"www-web-0": pvc("www-web-0", PV0, "nfs-new"), "www-web-1": pvc("www-web-1", PV1, "nfs-new")},
                 pvs=[pv(PV0, "www-web-0", "nfs-new"), pv(PV1, "www-web-1", "nfs-new")], statefulset=sts("nfs-new"))
    plan = plan_migrate(params(), state)
    assert plan["refusals"] == [] and plan["apply_statefulset"] is False
    assert {r["action"] for r in plan["claims"]} == {"unchanged"} and plan["sources"] == []


def test_an_old_volume_already_retained_and_marked_is_not_patched_again():
    marked = {MIGRATE_TO: "nfs-new"}
    state = live(pvs=[pv(PV0, "www-web-0", policy="Retain", annotations=marked), pv(PV1, "www-web-1", policy="Retain")])
    rows = plan_migrate(params(), state)["claims"]
    assert [r["retain"] for r in rows] == [False, True]  # www-web-1's is Retain but not marked for this class


def test_an_interrupted_move_is_found_again_from_the_marked_old_volume():
    """Claim www-web-0 deleted (its old PV Released, Retain, marked), www-web-1 already bound to its copy,
    the StatefulSet deleted by an interrupted recreate: the plan finishes web-0 and applies the StatefulSet."""
    marked = {MIGRATE_TO: "nfs-new"}
    old0 = pv(PV0, "www-web-0", policy="Retain", phase="Released", annotations=marked)
    old1 = pv(PV1, "www-web-1", policy="Retain", phase="Released", annotations=marked)
    new1 = pv(f"migrated-{PV1}", "www-web-1", "nfs-new", path=f"{NEW}/migrated-shop-www-web-1-{PV1}", policy="Retain")
    state = live(claims={"www-web-1": pvc("www-web-1", f"migrated-{PV1}", "nfs-new")}, pvs=[old0, old1, new1],
                 statefulset=None, pods={})
    plan = plan_migrate(params(), state)
    assert plan["refusals"] == []
    rows = {r["claim"]: r for r in plan["claims"]}
    assert rows["www-web-0"]["action"] == "migrate" and rows["www-web-0"]["from"] == "retained"
    assert rows["www-web-0"]["retain"] is False and rows["www-web-0"]["copy"]["src"] == f"{OLD}/shop-www-web-0-{PV0}"
    assert rows["www-web-1"]["action"] == "unchanged" and rows["www-web-1"]["old_pv"] == PV1
    assert plan["apply_statefulset"] is True
    assert [s["nfs_path"] for s in plan["sources"]] == [f"{OLD}/shop-www-web-0-{PV0}", f"{OLD}/shop-www-web-1-{PV1}"]


def test_a_claim_of_an_ordinal_beyond_the_replicas_moves_too_and_a_missing_one_is_none():
    pv2 = "pvc-2b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e12"
    state = live(claims={"www-web-0": pvc("www-web-0", PV0), "www-web-3": pvc("www-web-3", pv2)},
                 pvs=[pv(PV0, "www-web-0"), pv(pv2, "www-web-3")])
    rows = plan_migrate(params(), state)["claims"]
    assert [(r["claim"], r["action"]) for r in rows] == [
        ("www-web-0", "migrate"), ("www-web-1", "none"), ("www-web-3", "migrate")]
    only = plan_migrate(params(ordinals=[0]), state)["claims"]
    assert [r["claim"] for r in only] == ["www-web-0"]


def test_refusals_name_the_claim_and_the_way_out():
    state = live(claims={"www-web-0": pvc("www-web-0", None, phase="Pending"), "www-web-1": pvc("www-web-1", PV1)},
                 statefulset=sts(templates=("www", "logs")))
    refusals = plan_migrate(params(), state)["refusals"]
    assert refusals[0].startswith("StatefulSet shop/web has claim template(s) logs that the inventory's entry does not")
    assert "claim shop/www-web-0: is Pending, not Bound" in refusals[1]
    assert len(refusals) == 2


def test_a_class_missing_or_not_served_is_refused():
    state = live(classes={"nfs-old": {"nfs_server": "10.0.0.5", "nfs_path": OLD}, "nfs-gone": None})
    refusals = plan_migrate(params("nfs-gone"), state)["refusals"]
    assert len(refusals) == 2
    assert "StorageClass 'nfs-gone' (statefulset: spec.volumeClaimTemplates[0], the class the inventory names)" \
        in refusals[0] and "not provisioned by an NFS provisioner" in refusals[0]


def test_another_nfs_server_is_refused_unless_a_copy_host_is_named():
    state = live(pvs=[pv(PV0, "www-web-0", server="10.0.0.9"), pv(PV1, "www-web-1")])
    refusals = plan_migrate(params(), state)["refusals"]
    assert refusals == [f"claim shop/www-web-0: its directory is on NFS server 10.0.0.9 ({OLD}/shop-www-web-0-{PV0})"
                        f" and StorageClass 'nfs-new' writes to 10.0.0.5:{NEW}: the copy runs on one host, so a move"
                        " between two NFS servers is refused unless -e migrate_nfs_host=HOST names an inventory host"
                        f" where both {OLD}/shop-www-web-0-{PV0} and {NEW} are reachable under these paths"]
    assert plan_migrate(params(copy_host="nfs1"), state)["refusals"] == []


def test_a_volume_that_is_not_nfs_and_a_foreign_migrated_pv_are_refused():
    hostpath = pv(PV0, "www-web-0")
    del hostpath["spec"]["nfs"]
    foreign = pv(f"migrated-{PV1}", "www-other-1", "nfs-new", path="/elsewhere")
    refusals = plan_migrate(params(), live(pvs=[hostpath, pv(PV1, "www-web-1"), foreign]))["refusals"]
    assert "claim shop/www-web-0: its volume " + PV0 + " is not an NFS volume" in refusals[0]
    assert f"claim shop/www-web-1: PersistentVolume migrated-{PV1} exists for another directory or claim" in refusals[1]


@pytest.mark.parametrize(("over", "message"), [
    ({"namespace": "other"}, "is not read with source=migrate"),
    ({"source": "archive", "copy_host": "nfs1"}, "is read only with source=migrate"),
])
def test_migrate_input(over, message):
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError
    with pytest.raises(InputError, match=message):
        params(**over)


def test_the_plan_does_not_change_what_it_read():
    state = live()
    before = copy.deepcopy(state)
    plan_migrate(params(), state)
    assert state == before


class Recorder:
    """The reads run_migrate asks for, from ``state``; every write recorded in order (and applied to
    ``state`` as the API server would: a deleted claim goes, a created object appears)."""

    def __init__(self, state):
        self.state = copy.deepcopy(state)
        self.writes = []

    def get(self, ref):
        if ref.kind == "Namespace":
            return {"metadata": {"name": ref.name}}
        if ref.kind == "StatefulSet":
            return self.state["statefulset"]
        if ref.kind == "PersistentVolume":
            return next((p for p in self.state["pvs"] if p["metadata"]["name"] == ref.name), None)
        if ref.kind == "PersistentVolumeClaim":
            claim = self.state["claims"].get(ref.name)
            return dict(claim, status={"phase": "Bound"}) if claim and claim["spec"].get("volumeName") else claim
        if ref.kind == "StorageClass":
            return {"metadata": {"name": ref.name}, "provisioner": f"stateful.nfs/{ref.name}"}
        return None

    def list(self, kind, namespace=None, **_kw):
        if kind == "PersistentVolumeClaim":
            return list(self.state["claims"].values())
        if kind == "PersistentVolume":
            return self.state["pvs"]
        if kind == "Pod":
            return [{"metadata": {"name": n}} for n in self.state["pods"]]
        if kind == "Namespace":
            return [{"metadata": {"name": "shop"}}]
        if kind == "Deployment":
            return [{"metadata": {"name": f"{c}-provisioner", "namespace": "nfs"},
                     "spec": {"template": {"spec": {"containers": [{"name": "p", "env": [
                         {"name": "PROVISIONER_NAME", "value": f"stateful.nfs/{c}"},
                         {"name": "NFS_SERVER", "value": v["nfs_server"]}, {"name": "NFS_PATH", "value": v["nfs_path"]}]}]}}}}
                    for c, v in self.state["classes"].items() if v]
        raise AssertionError(kind)

    def patch(self, ref, body, _manager, dry_run=False, patch_type=None):
        self.writes.append(("patch", ref.kind, ref.name, dry_run))
        if not dry_run:
            pv = self.get(ref)
            pv["spec"].update(body["spec"])
            pv["metadata"].setdefault("annotations", {}).update(body["metadata"]["annotations"])

    def delete(self, ref, dry_run=False, preconditions=None):
        self.writes.append(("delete", ref.kind, ref.name, dry_run))
        assert preconditions == {"uid": f"uid-{ref.name}"}
        if not dry_run:
            del self.state["claims"][ref.name]

    def request(self, method, path, what, query=None, body=None):
        dry = ("dryRun", "All") in (query or [])
        self.writes.append(("create", body["kind"], body["metadata"]["name"], dry))
        if not dry:
            if body["kind"] == "PersistentVolume":
                self.state["pvs"].append(body)
            else:
                self.state["claims"][body["metadata"]["name"]] = dict(body, metadata=dict(
                    body["metadata"], uid="new"))
        return body


class Outcome:
    def __init__(self):
        self.extra, self.results = {}, []

    def add(self, result):
        self.results.append(result)


def run(client, check_mode=False, **over):
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.migrate import run_migrate
    outcome = Outcome()
    run_migrate(client, params(wait_timeout=0, **over), check_mode, outcome)
    return outcome


def test_the_run_sets_retain_first_and_binds_only_finished_copies():
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.restore import RestoreRefused
    client = Recorder(live(statefulset=sts()))
    # check mode: dry runs only
    out = run(client, check_mode=True)
    assert out.extra["retains"] == [PV0, PV1] and out.extra["pods_to_stop"] == ["web-0", "web-1"]
    assert client.writes == [("patch", "PersistentVolume", PV0, True), ("patch", "PersistentVolume", PV1, True)]
    # step 1: only the old volumes set to Retain and marked; no claim touched
    client.writes.clear()
    run(client)
    assert client.writes == [("patch", "PersistentVolume", PV0, False), ("patch", "PersistentVolume", PV1, False)]
    assert all(p["spec"]["persistentVolumeReclaimPolicy"] == "Retain" for p in client.state["pvs"])
    # step 3 refused while the pods exist and while a copy is not finished: nothing written
    client.writes.clear()
    with pytest.raises(RestoreRefused) as refused:
        run(client, directories=[f"{NEW}/migrated-shop-www-web-0-{PV0}"])
    assert f"claim shop/www-web-1: its copy {NEW}/migrated-shop-www-web-1-{PV1} is not finished" in str(refused.value)
    assert "claim shop/www-web-0: pod web-0 still exists" in str(refused.value)
    assert client.writes == []
    # check mode of step 3: dry runs only, and no dry-run create of a claim that still exists
    copies = [f"{NEW}/migrated-shop-www-web-0-{PV0}", f"{NEW}/migrated-shop-www-web-1-{PV1}"]
    dry = run(client, check_mode=True, directories=copies)
    assert all(w[3] for w in client.writes) and ("create", "PersistentVolume", f"migrated-{PV0}", True) in client.writes
    assert ("delete", "PersistentVolumeClaim", "www-web-0", True) in client.writes
    assert not any(w[0] == "create" and w[1] == "PersistentVolumeClaim" for w in client.writes)
    assert sum(r.action == "create" and r.ref.kind == "PersistentVolumeClaim" for r in dry.results) == 2
    client.writes.clear()
    # pods stopped, both copies finished: each old claim deleted, then its copy's PV and claim created
    client.state["pods"] = {}
    run(client, directories=copies)
    assert client.writes == [
        ("delete", "PersistentVolumeClaim", "www-web-0", False), ("delete", "PersistentVolumeClaim", "www-web-1", False),
        ("create", "PersistentVolume", f"migrated-{PV0}", False), ("create", "PersistentVolumeClaim", "www-web-0", False),
        ("create", "PersistentVolume", f"migrated-{PV1}", False), ("create", "PersistentVolumeClaim", "www-web-1", False)]
    # a re-run: every claim on the new class; only the StatefulSet is left to apply
    client.writes.clear()
    again = run(client, directories=copies)
    assert client.writes == [] and {r["action"] for r in again.extra["claims"]} == {"unchanged"}
    assert again.extra["apply_statefulset"] is True and again.extra["nothing_to_do"] is False
    client.state["statefulset"] = sts("nfs-new")
    assert run(client).extra["nothing_to_do"] is True


def test_a_real_bind_refuses_an_old_volume_that_is_not_retain():
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.restore import RestoreRefused
    client = Recorder(live(pods={}))
    with pytest.raises(RestoreRefused, match=f"its old volume {PV0} is not Retain"):
        run(client, directories=[f"{NEW}/migrated-shop-www-web-0-{PV0}", f"{NEW}/migrated-shop-www-web-1-{PV1}"])
    assert client.writes == []
