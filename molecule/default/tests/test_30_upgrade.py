"""playbooks/upgrade.yml with a partition canary on the walkthrough's application (web): the canary first,
then the rest, each replaced highest ordinal first (role statefulset's entry point upgrade, proved by
stateful.nfs.statefulset); names and storage survive."""
from __future__ import annotations

from conftest import pods_by_name, pvc_uids

def test_upgrade_with_canary(play, api, images):
    """From the lab's nginx (Debian 12's) to a real newer release (Debian 13's), a canary first."""
    import kubernetes.client as k

    old_image, new_image = images["nginx"], images["nginx_upgrade"]
    claims = pvc_uids(api)
    before = {n: p.metadata.uid for n, p in pods_by_name(api).items()}
    run = play("playbooks/upgrade.yml", image=new_image, partition=2)
    assert run.rc == 0, run.failure()
    r = run.day2
    canary, rest = r["canary"], r["upgrade"]
    assert r["application"] == "web"
    assert canary["images"] == {"web-0": old_image, "web-1": old_image, "web-2": new_image}
    assert (canary["pods_updated"], canary["pods_not_updated"]) == (["web-2"], ["web-0", "web-1"])
    assert canary["revisions"]["web-2"] == canary["update_revision"]
    assert canary["revisions"]["web-0"] == canary["current_revision"] != canary["update_revision"]
    # replaced highest ordinal first: the canary, then the rest from the top down
    assert canary["replaced_in_order"] + rest["replaced_in_order"] == ["web-2", "web-1", "web-0"]
    assert canary["replaced_highest_first"] is True and rest["replaced_highest_first"] is True
    assert rest["images"] == {p: new_image for p in ("web-0", "web-1", "web-2")} and rest["partition"] == 0
    # the claims of the pods, each the one it was (those kept from the scale to 5 are no pod's now)
    assert rest["claims"] == {c: uid for c, uid in claims.items() if int(c.rsplit("-", 1)[1]) < 3}
    assert [row["name"] for row in r["identity"]] == ["web-0", "web-1", "web-2"]
    assert [row["pvc"] for row in r["identity"]] == ["nginx-pvc-web-0", "nginx-pvc-web-1", "nginx-pvc-web-2"]
    after = pods_by_name(api)
    assert sorted(after) == sorted(before)
    assert all(after[n].metadata.uid != before[n] for n in before), "every pod was replaced"
    assert {n: p.spec.containers[0].image for n, p in after.items()} == {n: new_image for n in before}
    assert pvc_uids(api) == claims
    sts = k.AppsV1Api(api).read_namespaced_stateful_set("web", "default")
    assert sts.spec.update_strategy.rolling_update.partition in (0, None)
