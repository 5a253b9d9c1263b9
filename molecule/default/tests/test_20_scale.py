"""playbooks/scale.yml 3 -> 5 -> 2 -> 3 on the walkthrough's application (web, without -e app: the only one):
order, PVC retention and reuse, proved by role statefulset's entry point scale (stateful.nfs.statefulset)."""
from __future__ import annotations

import pytest
from conftest import nfs_cat, pods_by_name, pvc_uids

STATE: dict = {}


def test_scale_up_to_5_in_order(play, api):
    run = play("playbooks/scale.yml", replicas=5)
    assert run.rc == 0, run.failure()
    r, s = run.day2, run.day2["scale"]
    assert r["application"] == "web" and r["statefulset"] == "default/web"
    assert (s["from"], s["to"]) == (3, 5)
    assert s["pods_added"] == ["web-3", "web-4"] and s["pods_kept"] == ["web-0", "web-1", "web-2"]
    assert s["claims_created"] == ["nginx-pvc-web-3", "nginx-pvc-web-4"] and s["claims_reused"] == {}
    assert s["added_ready_in_order"] is True
    assert [t["pod"] for t in r["rollout_timeline"] if t["ordinal"] >= 3] == ["web-3", "web-4"]
    assert s["pods_removed"] == []
    assert sorted(pods_by_name(api)) == [f"web-{i}" for i in range(5)]
    assert r["proved"][0] == "identity: " + ", ".join(f"web-{i}" for i in range(5))
    STATE["uids_at_5"] = pvc_uids(api)
    assert len(STATE["uids_at_5"]) == 5


def test_scale_down_to_2_highest_first_pvcs_kept(play, api):
    if "uids_at_5" not in STATE:
        pytest.skip("scale-up to 5 failed")
    run = play("playbooks/scale.yml", app="web", replicas=2)
    assert run.rc == 0, run.failure()
    s = run.day2["scale"]
    assert s["pods_removed"] == ["web-4", "web-3", "web-2"] and s["pods_added"] == []
    # seen going one after the other, highest ordinal first (OrderedReady)
    assert s["removed_highest_first"] is True, s["removed_in_order"]
    assert s["removed_in_order"] == ["web-4", "web-3", "web-2"]
    assert s["when_scaled"] == "Retain"
    assert s["claims_kept"] == {f"nginx-pvc-web-{i}": STATE["uids_at_5"][f"nginx-pvc-web-{i}"] for i in (4, 3, 2)}
    assert sorted(pods_by_name(api)) == ["web-0", "web-1"]
    assert pvc_uids(api) == STATE["uids_at_5"]


def test_scale_up_to_3_reuses_the_kept_pvc(play, api, nfs_host):
    if "uids_at_5" not in STATE:
        pytest.skip("scale-up to 5 failed")
    run = play("playbooks/scale.yml", replicas=3)
    assert run.rc == 0, run.failure()
    s = run.day2["scale"]
    assert s["pods_added"] == ["web-2"]
    assert s["claims_created"] == []
    assert s["claims_reused"] == {"nginx-pvc-web-2": STATE["uids_at_5"]["nginx-pvc-web-2"]}
    assert sorted(pods_by_name(api)) == ["web-0", "web-1", "web-2"]
    assert pvc_uids(api) == STATE["uids_at_5"]
    # the reused volume (its directory on the server, where web-2's line is) proved with the others
    assert any(p.startswith("storage (in the pods and through NFS on ") and p.endswith("web-0, web-1, web-2")
               for p in run.day2["proved"]), run.day2["proved"]
    assert nfs_cat(nfs_host, pv_path(api, "nginx-pvc-web-2") + "/index.html").strip() == "congratulations web-2 for k8s"


def pv_path(api, claim, namespace="default"):
    """The NFS path of the PV the claim is bound to (the directory the provisioner made)."""
    import kubernetes.client as k

    core = k.CoreV1Api(api)
    return core.read_persistent_volume(core.read_namespaced_persistent_volume_claim(claim, namespace).spec.volume_name).spec.nfs.path
