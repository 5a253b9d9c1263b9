"""module_utils/k8s/restore.py: the restore plan (pure) and the archive names it matches."""
from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.restore import (
    owners,
    parse_directory,
    plan_restore,
    pv_manifest,
    pvc_manifest,
    restored_name,
    validate_restore_params,
)

PV0 = "pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10"
PV1 = "pvc-1b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e11"
PV2 = "pvc-2b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e12"
EXPORT = "/srv/nfs"


def params(**over):
    sts = {"name": "web", "namespace": "shop", "image": "nginx", "replicas": 2,
           "volume_claim_templates": [{"name": "www", "storage_class_name": "nfs-data", "size": "1Gi",
                                       "mount_path": "/usr/share/nginx/html"}]}
    raw = {"statefulset": sts, "directories": [f"{EXPORT}/archived-shop-www-web-0-{PV0}",
                                                f"{EXPORT}/archived-shop-www-web-1-{PV1}"]}
    raw.update(over)
    return validate_restore_params(raw)


def live(**over):
    base = {"namespace_exists": True, "claims": {}, "pods": {}, "namespaces": {"shop", "default"}, "pvs": [],
            "classes": {"nfs-data": {"nfs_server": "10.0.0.5", "nfs_path": EXPORT, "mount_options": ["nfsvers=4.1"]}}}
    base.update(over)
    return base


def test_names_are_matched_not_split():
    assert parse_directory(f"archived-a-b-c-{PV0}") == ("archived-", "a-b-c", PV0)
    assert parse_directory("archived-shop-www-web-0") is None
    assert owners("a-b-c", {"a", "a-b"}) == [("a", "b-c"), ("a-b", "c")]
    assert restored_name(f"archived-x-{PV0}") == f"restored-x-{PV0}"


def test_every_ordinal_gets_its_own_archive_renamed_and_a_pre_bound_retain_volume():
    plan = plan_restore(params(), live())
    assert plan["refusals"] == []
    rows = plan["claims"]
    assert [(r["claim"], r["action"], r["directory"], r["pv"]) for r in rows] == [
        ("www-web-0", "restore", f"restored-shop-www-web-0-{PV0}", f"restored-{PV0}"),
        ("www-web-1", "restore", f"restored-shop-www-web-1-{PV1}", f"restored-{PV1}")]
    assert rows[0]["rename"] == {"from": f"{EXPORT}/archived-shop-www-web-0-{PV0}",
                                 "to": f"{EXPORT}/restored-shop-www-web-0-{PV0}"}
    pv = pv_manifest(rows[0])
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["claimRef"] == {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "shop",
                                      "name": "www-web-0"}
    assert pv["spec"]["nfs"] == {"server": "10.0.0.5", "path": f"{EXPORT}/restored-shop-www-web-0-{PV0}"}
    assert pv["spec"]["mountOptions"] == ["nfsvers=4.1"]
    pvc = pvc_manifest(rows[0], {"app": "web"})
    assert pvc["spec"]["volumeName"] == f"restored-{PV0}" and pvc["spec"]["storageClassName"] == "nfs-data"


def test_refusals_name_the_claim_and_the_way_out():
    dirs = [f"{EXPORT}/archived-shop-www-web-0-{PV0}", f"{EXPORT}/archived-shop-www-web-0-{PV2}"]
    other_pv = {"metadata": {"name": "pvc-x"}, "spec": {"nfs": {"server": "s", "path": "/srv/nfs/x"}}}
    plan = plan_restore(params(directories=dirs),
                        live(claims={}, pods={"web-0": {"status": {"phase": "Running"}}}, pvs=[other_pv]))
    text = "\n".join(plan["refusals"])
    assert f"claim shop/www-web-0: ambiguous: 2 archives in {EXPORT}: archived-shop-www-web-0-{PV0}," in text
    assert "choose one with -e archive=DIR" in text
    assert "claim shop/www-web-1: no archive found: no archived-shop-www-web-1-<pv>" in text
    bound = {"www-web-0": {"metadata": {"name": "www-web-0", "uid": "u"}, "spec": {"volumeName": "pvc-x"}}}
    plan = plan_restore(params(), live(claims=bound, pvs=[other_pv]))
    assert plan["refusals"] == ["claim shop/www-web-0: exists and is bound to another volume, pvc-x (s:/srv/nfs/x):"
                                " restore.yml replaces no claim; delete it first (its data then goes where its class"
                                " sends a deleted claim's data) or restore another ordinal"]


def test_a_running_pod_is_refused_unless_quiesce():
    pods = {"web-1": {"status": {"phase": "Running"}}}
    plan = plan_restore(params(), live(pods=pods))
    assert len(plan["refusals"]) == 1 and "pod shop/web-1 exists (phase Running)" in plan["refusals"][0]
    assert "-e quiesce=true" in plan["refusals"][0]
    assert plan_restore(params(quiesce=True), live(pods=pods))["refusals"] == []


def test_a_chosen_archive_of_another_claim_needs_force():
    chosen = f"archived-shop-www-web-1-{PV1}"
    p = params(ordinals=[0], choose={"www-web-0": chosen})
    plan = plan_restore(p, live())
    assert plan["refusals"] == [(f"claim shop/www-web-0: archive {chosen!r} belongs to another claim (shop/www-web-1),"
                                 " not shop/www-web-0 (expected archived-shop-www-web-0-<pv>): restore it anyway with"
                                 " -e force_claim_mismatch=true")]
    forced = plan_restore(params(ordinals=[0], choose={"www-web-0": chosen}, force_claim_mismatch=True), live())
    assert forced["refusals"] == [] and forced["claims"][0]["directory"] == f"restored-shop-www-web-1-{PV1}"
    missing = plan_restore(params(ordinals=[0], choose={"www-web-0": "archived-nope"}), live())
    assert "archive 'archived-nope' (-e archive=DIR) is missing" in missing["refusals"][0]


def test_a_name_another_namespace_could_own_is_ambiguous():
    # namespace "shop-www" with claim "web-0-..." would archive under the same name
    plan = plan_restore(params(ordinals=[0]), live(namespaces={"shop", "shop-www"}))
    assert "may also be the archive of shop-www/web-0" in plan["refusals"][0]


def test_a_restored_claim_is_unchanged():
    target = f"{EXPORT}/restored-shop-www-web-0-{PV0}"
    pv = {"metadata": {"name": f"restored-{PV0}"}, "status": {"phase": "Bound"},
          "spec": {"nfs": {"server": "10.0.0.5", "path": target},
                   "claimRef": {"namespace": "shop", "name": "www-web-0", "uid": "u0"}}}
    claim = {"metadata": {"name": "www-web-0", "uid": "u0"}, "spec": {"volumeName": f"restored-{PV0}"}}
    plan = plan_restore(params(ordinals=[0], directories=[target]),
                        live(claims={"www-web-0": claim}, pvs=[pv], pods={"web-0": {}}))
    assert plan["refusals"] == [] and plan["claims"][0]["action"] == "unchanged"
    assert plan["claims"][0]["rename"] is None


def test_retained_volumes_are_bound_in_place():
    released = {"metadata": {"name": PV0}, "status": {"phase": "Released"},
                "spec": {"persistentVolumeReclaimPolicy": "Retain", "storageClassName": "nfs-data",
                         "nfs": {"server": "s", "path": f"/srv/nfs/shop-www-web-0-{PV0}"},
                         "claimRef": {"namespace": "shop", "name": "www-web-0", "uid": "old"}}}
    plan = plan_restore(params(source="retained", ordinals=[0]), live(pvs=[released]))
    assert plan["refusals"] == [] and plan["claims"][0]["pv"] == PV0 and plan["claims"][0]["action"] == "restore"
    plan = plan_restore(params(source="retained", ordinals=[1]), live(pvs=[released]))
    assert plan["refusals"] == ["claim shop/www-web-1: no retained volume found: no Released PersistentVolume whose"
                                " claimRef is shop/www-web-1"]


@pytest.mark.parametrize(("over", "message"), [
    ({"ordinals": [5, 5]}, "ordinals: names an ordinal twice"),
    ({"choose": {"www-web-9": "x"}}, "choose['www-web-9']: is not a claim this run restores"),
    ({"statefulset": {"src": "web.yaml"}}, "statefulset.src: is read only by"),
    ({"directories": ["relative"]}, "directories[0]: must be the absolute path"),
])
def test_bad_input(over, message):
    with pytest.raises(InputError, match=None) as err:
        params(**over)
    assert message in str(err.value)


def test_a_claim_deleted_while_its_pod_runs_is_restored_with_quiesce():
    target = f"{EXPORT}/restored-shop-www-web-0-{PV0}"
    pv = {"metadata": {"name": f"restored-{PV0}"}, "status": {"phase": "Bound"},
          "spec": {"nfs": {"server": "10.0.0.5", "path": target},
                   "claimRef": {"namespace": "shop", "name": "www-web-0", "uid": "u0"}}}
    claim = {"metadata": {"name": "www-web-0", "uid": "u0", "deletionTimestamp": "2026-01-01T00:00:00Z"},
             "spec": {"volumeName": f"restored-{PV0}"}}
    pods = {"web-0": {"status": {"phase": "Running"}}}
    refused = plan_restore(params(ordinals=[0], directories=[target]), live(claims={"www-web-0": claim}, pvs=[pv], pods=pods))
    assert "pod shop/web-0 exists (phase Running)" in refused["refusals"][0]
    plan = plan_restore(params(ordinals=[0], directories=[target], quiesce=True),
                        live(claims={"www-web-0": claim}, pvs=[pv], pods=pods))
    assert plan["refusals"] == [] and plan["claims"][0]["action"] == "restore" and plan["claims"][0]["claim_deleting"]


def backup_entries(*ordinals, sha="ab" * 32):
    return [{"path": f"/srv/nfs-backups/shop-web/www-web-{o}",
             "manifest": {"claim_template": "www", "ordinal": o, "pvc": f"www-web-{o}", "namespace": "shop",
                          "list_sha256": f"{o}{sha[1:]}", "files": 2, "bytes": 10, "crash_consistent": True}}
            for o in ordinals]


def test_a_backup_is_copied_into_a_fresh_directory_of_another_namespace_and_bound():
    p = params(source="backup", directories=None, backups=backup_entries(0, 1), namespace="shop2")
    plan = plan_restore(p, live(namespaces={"shop", "shop2"}))
    assert plan["refusals"] == []
    row = plan["claims"][0]
    fresh = "restored-shop2-www-web-0-backup-" + ("0" + ("ab" * 32)[1:])[:12]
    assert (row["namespace"], row["claim"], row["directory"], row["pv"]) == ("shop2", "www-web-0", fresh, fresh)
    assert row["copy"] == {"src": "/srv/nfs-backups/shop-web/www-web-0", "dest": f"{EXPORT}/{fresh}",
                           "expect_list_sha256": "0" + ("ab" * 32)[1:]}
    assert row["rename"] is None and pv_manifest(row)["spec"]["nfs"]["path"] == f"{EXPORT}/{fresh}"
    assert pvc_manifest(row, {})["metadata"]["namespace"] == "shop2"


def test_a_backup_refuses_a_missing_ordinal_and_a_copy_without_manifest():
    entries = backup_entries(0) + [{"path": "/srv/nfs-backups/shop-web/www-web-1", "manifest": None}]
    plan = plan_restore(params(source="backup", directories=None, backups=entries, ordinals=[0, 1, 2]), live())
    text = "\n".join(plan["refusals"])
    assert "claim shop/www-web-1: the backup's copy /srv/nfs-backups/shop-web/www-web-1 has no manifest" in text
    assert ("claim shop/www-web-2: the backup has no copy of ordinal 2 (claim template www); it holds www 0:"
            " restore those ordinals with -e ordinals=[N]") in text
    assert len(plan["refusals"]) == 2


@pytest.mark.parametrize("over, message", [
    ({"source": "backup", "directories": None}, "backups"),
    ({"backups": []}, "backups"),
    ({"source": "backup", "directories": None, "backups": [{"path": "rel"}]}, "backups[0].path"),
    ({"source": "backup", "directories": None, "backups": [{"path": "/b", "manifest": {"pvc": "x"}}]},
     "backups[0].manifest"),
    ({"namespace": "Bad_NS"}, "namespace"),
])
def test_backup_input(over, message):
    with pytest.raises(InputError) as exc:
        params(**over)
    assert exc.value.param == message


# --- a class with a pathPattern: archives named archived-<last path element>, attributed by the index
def indexed(pv, claim, archive, share=EXPORT, ns="shop"):
    return {"pv": pv, "namespace": ns, "claim": claim, "statefulset": "web", "template": "www",
            "ordinal": int(claim.rsplit("-", 1)[1]), "directory": f"{share}/{ns}/{claim}", "inode": 7,
            "share": share, "archive": archive}


def test_pattern_archives_are_restored_by_the_index():
    dirs = [f"{EXPORT}/archived-www-web-0", f"{EXPORT}/archived-www-web-1"]
    index = [indexed(PV0, "www-web-0", "archived-www-web-0"), indexed(PV1, "www-web-1", "archived-www-web-1")]
    plan = plan_restore(params(directories=dirs, volume_index=index), live())
    assert plan["refusals"] == []
    assert [(r["claim"], r["source_directory"], r["directory"], r["pv"], r["indexed"]["pv"]) for r in plan["claims"]] == [
        ("www-web-0", "archived-www-web-0", "restored-www-web-0", f"restored-{PV0}", PV0),
        ("www-web-1", "archived-www-web-1", "restored-www-web-1", f"restored-{PV1}", PV1)]
    # a re-run finds the restored directory through the same entry
    index = [indexed(PV0, "www-web-0", "restored-www-web-0")]
    plan = plan_restore(params(ordinals=[0], directories=[f"{EXPORT}/restored-www-web-0"], volume_index=index), live())
    assert plan["refusals"] == [] and plan["claims"][0]["rename"] is None


def test_unindexed_pattern_archives_are_listed_and_only_chosen():
    dirs = [f"{EXPORT}/archived-www-web-0", f"{EXPORT}/archived-www-web-1"]
    plan = plan_restore(params(ordinals=[0], directories=dirs), live())
    assert plan["refusals"] == [
        f"claim shop/www-web-0: no archive found: no archived-shop-www-web-0-<pv> in 10.0.0.5:{EXPORT} and none of this"
        " claim in the collection's index (archives naming www-web-0: archived-www-web-0; choose one with -e archive=DIR);"
        " archives whose claim is unknown (name not archived-<namespace>-<claim>-<pv>, not in the index):"
        " archived-www-web-0, archived-www-web-1; -e archive=DIR chooses one"]
    chosen = plan_restore(params(ordinals=[0], directories=dirs, choose={"www-web-0": "archived-www-web-1"}), live())
    assert chosen["refusals"] == [] and chosen["claims"][0]["source_directory"] == "archived-www-web-1"


def test_an_indexed_archive_of_another_claim_needs_force():
    dirs = [f"{EXPORT}/archived-www-web-1"]
    index = [indexed(PV1, "www-web-1", "archived-www-web-1", ns="other")]
    p = params(ordinals=[1], directories=dirs, volume_index=index)
    assert "no archive found" in plan_restore(p, live())["refusals"][0]  # other/www-web-1's, not shop's
    p = params(ordinals=[1], directories=dirs, volume_index=index, choose={"www-web-1": "archived-www-web-1"})
    assert plan_restore(p, live())["refusals"] == [
        "claim shop/www-web-1: archive 'archived-www-web-1' belongs to another claim (other/www-web-1), not"
        f" shop/www-web-1 (the collection's index: volume {PV1}): restore it anyway with -e force_claim_mismatch=true"]
    # two entries locating one archive: attributed to neither
    twice = [indexed(PV0, "www-web-1", "archived-www-web-1"), indexed(PV1, "www-web-1", "archived-www-web-1")]
    assert "archives whose claim is unknown" in plan_restore(
        params(ordinals=[1], directories=dirs, volume_index=twice), live())["refusals"][0]


def test_index_only_lists_the_bound_volumes_of_the_statefulset():
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.restore import claim_volumes

    def pvc(name, volume):
        return {"metadata": {"name": name}, "spec": {"volumeName": volume}}

    def pv(name, claim, path):
        return {"metadata": {"name": name}, "spec": {"nfs": {"server": "s", "path": path},
                                                     "claimRef": {"namespace": "shop", "name": claim}}}
    claims = {"www-web-0": pvc("www-web-0", PV0), "www-web-1": pvc("www-web-1", PV1), "www-other-0": pvc("www-other-0", PV2)}
    pvs = [pv(PV0, "www-web-0", f"{EXPORT}/shop/www-web-0"), pv(PV1, "www-web-1", "/elsewhere/www-web-1"),
           pv(PV2, "www-other-0", f"{EXPORT}/shop/www-other-0")]
    assert claim_volumes(params(), live(claims=claims, pvs=pvs)) == [
        {"pv": PV0, "namespace": "shop", "claim": "www-web-0", "statefulset": "web", "template": "www", "ordinal": 0,
         "directory": f"{EXPORT}/shop/www-web-0", "share": EXPORT}]


class BindingClient:
    """Claims as the PV controller leaves them: ``stuck`` ones stay Pending until they are patched (the
    conflict the controller retries only at its resync), the others are Bound after ``bind_after`` seconds
    of a fake clock that each sleep advances."""

    def __init__(self, stuck=(), bind_after=0.5):
        self.stuck, self.bind_after, self.now, self.patches = set(stuck), bind_after, 0.0, []

    def get(self, ref):
        bound = ref.name not in self.stuck and self.now >= self.bind_after
        return {"metadata": {"name": ref.name}, "status": {"phase": "Bound" if bound else "Pending"}}

    def patch(self, ref, body, field_manager, patch_type=None, **_kw):
        self.patches.append((ref.name, sorted(body["metadata"]["annotations"]), field_manager, patch_type))
        self.stuck.discard(ref.name)

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_a_claim_the_controller_left_unbound_is_touched_once_then_binds():
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.restore import BIND_RETRY, _wait_bound
    rows = [{"claim": "www-web-0", "namespace": "shop"}, {"claim": "www-web-1", "namespace": "shop"}]
    c = BindingClient(stuck={"www-web-1"})
    assert _wait_bound(c, rows, timeout=60, clock=c.clock, sleep=c.sleep) == {"www-web-0": "Bound", "www-web-1": "Bound"}
    assert c.patches == [("www-web-1", [BIND_RETRY], "stateful.nfs", "merge-patch")]
    assert [r["bind_retried"] for r in rows] == [False, True]
    assert c.now < 3.5  # 2 s before the retry, not the controller's 15 s resync


def test_a_claim_that_stays_unbound_is_touched_only_once_and_the_timeout_holds():
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.restore import _wait_bound
    rows = [{"claim": "www-web-0", "namespace": "shop"}]
    c = BindingClient(bind_after=1e9)
    assert _wait_bound(c, rows, timeout=10, clock=c.clock, sleep=c.sleep) == {"www-web-0": "Pending"}
    assert len(c.patches) == 1 and c.now == pytest.approx(10.0, abs=0.6)
