"""playbooks/scale.yml 3 -> 5 -> 2 -> 3: order, PVC retention and reuse."""
from __future__ import annotations

import pytest
from conftest import pods_by_name, pvc_uids

STATE: dict = {}


def test_scale_up_to_5_in_order(play, api):
    run = play("playbooks/scale.yml", replicas=5)
    assert run.rc == 0, run.failure()
    r = run.day2
    assert (r["from"], r["to"]) == (3, 5)
    assert r["pods_created"] == ["web-3", "web-4"]
    assert r["claims_created"] == ["nginx-pvc-web-3", "nginx-pvc-web-4"]
    assert [t["pod"] for t in r["new_pods_ready_timeline"]] == ["web-3", "web-4"]
    assert r["pods_deleted"] == []
    assert sorted(pods_by_name(api)) == [f"web-{i}" for i in range(5)]
    assert [row["name"] for row in r["identity"]] == [f"web-{i}" for i in range(5)]
    STATE["uids_at_5"] = pvc_uids(api)
    assert len(STATE["uids_at_5"]) == 5


def test_scale_down_to_2_highest_first_pvcs_kept(play, api, nfs_host):
    if "uids_at_5" not in STATE:
        pytest.skip("scale-up to 5 failed")
    run = play("playbooks/scale.yml", replicas=2)
    assert run.rc == 0, run.failure()
    r = run.day2
    assert r["pods_deleted"] == ["web-4", "web-3", "web-2"]
    assert r["pods_created"] == []
    assert r["pvc_retention_when_scaled"] == "Retain"
    assert r["pvcs_of_removed_pods"] == {f"nginx-pvc-web-{i}": STATE["uids_at_5"][f"nginx-pvc-web-{i}"]
                                         for i in (4, 3, 2)}
    assert sorted(pods_by_name(api)) == ["web-0", "web-1"]
    assert pvc_uids(api) == STATE["uids_at_5"]
    for volume in r["pvc_uids_after"]:
        assert volume.startswith("nginx-pvc-web-")


def test_scale_up_to_3_reuses_the_kept_pvc(play, api):
    if "uids_at_5" not in STATE:
        pytest.skip("scale-up to 5 failed")
    run = play("playbooks/scale.yml", replicas=3)
    assert run.rc == 0, run.failure()
    r = run.day2
    assert r["pods_created"] == ["web-2"]
    assert r["claims_created"] == []
    assert r["pvcs_reused"] == ["nginx-pvc-web-2"]
    assert r["pvc_uids_after"]["nginx-pvc-web-2"] == STATE["uids_at_5"]["nginx-pvc-web-2"]
    # The content the volume held before the scale-down, read through NFS before any write.
    assert r["reused_content"] == {"nginx-pvc-web-2": "congratulations web-2 for k8s"}
    assert sorted(pods_by_name(api)) == ["web-0", "web-1", "web-2"]
    assert pvc_uids(api) == STATE["uids_at_5"]
