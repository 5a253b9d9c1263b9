"""playbooks/scale.yml and upgrade.yml by application name (-e app=NAME), on the lab: an application of
statefulset_applications deployed through site.yml, then scaled down (the removed pod's claim kept
with its uid) and up again (that claim reused, a new one for the next ordinal), a re-run that changes
nothing, check mode sending dry runs only, an unknown name and a missing one refused before any
request, site.yml setting the
inventory's replicas back (the inventory is the source of truth), and a canary image upgrade through
the partition. The role's modules run as the session's test identity, so what they sent is read from
the API server's audit log."""
from __future__ import annotations

from .conftest import pods_of, static_storage

TAGS = "statefulset"


def applications(lab, ns, sc):
    def web(name):
        return {"name": name, "namespace": ns, "replicas": 2, "labels": {"app": name}, "image": lab.nginx,
                "image_pull_policy": "IfNotPresent", "ports": [{"name": "web", "container_port": 80}],
                "volume_claim_templates": [{"name": "www", "storage_class_name": sc, "size": "1Gi",
                                            "mount_path": "/usr/share/nginx/html"}]}
    # the storage marker is the page: served over HTTP from the pod's own claim
    check = {"app_check": {"http_get": {"path": "/.stateful-nfs-verify", "port": 80, "status": 200,
                                        "body": "^stateful\\.nfs .*/{pod} "}}}
    # "other" is never deployed: it is a second name the refusals list
    return [{"name": "web", "statefulset": web("web"), "verify": check},
            {"name": "other", "statefulset": web("other"), "verify": check}]


def claims(lab, ns):
    return {c["metadata"]["name"]: c["metadata"]["uid"] for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")}


def pod_uids(lab, ns):
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods_of(lab, ns)
            if not p["metadata"].get("deletionTimestamp")}


def sts(lab, ns):
    return lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/web")


def replicas_manager(obj):
    """The field manager (and subresource) that owns spec.replicas."""
    return sorted((e["manager"], e.get("subresource", "")) for e in obj["metadata"]["managedFields"]
                  if "f:replicas" in (e.get("fieldsV1", {}).get("f:spec") or {}))


def test_scale_and_upgrade_an_application_by_name(lab, ns, tmp_path, player):
    sc = static_storage(lab, ns, 3)
    extra = {"statefulset_applications": applications(lab, ns, sc), "statefulset_report_dir": str(tmp_path / "reports"),
             "statefulset_k8s_auth": {"kubeconfig": lab.kubeconfig}}
    first = player.play("site.yml", tags=TAGS, statefulset_app="web", **extra)
    assert first.rc == 0, first.failure()
    assert sorted(pod_uids(lab, ns)) == ["web-0", "web-1"]

    # refused before any request: an unknown name, and no name, each listing the applications
    lab.reset_stats()
    unknown = player.play("playbooks/scale.yml", app="nope", replicas=3, **extra)
    assert unknown.rc != 0
    assert "'nope' is not an application of statefulset_applications; it has web, other" in unknown.failure()
    unnamed = player.play("playbooks/upgrade.yml", image=lab.nginx_upgrade, **extra)
    assert unnamed.rc != 0
    assert "name the one application to act on; statefulset_applications has web, other" in unnamed.failure()
    assert lab.stats()["requests"] == 0 and lab.write_requests() == {}, lab.stats()

    # check mode: what the scale-down would do, with dry runs only
    before, web0 = claims(lab, ns), pod_uids(lab, ns)["web-0"]
    lab.reset_stats()
    dry = player.play("playbooks/scale.yml", check=True, app="web", replicas=1, **extra)
    assert dry.rc == 0, dry.failure()
    assert dry.day2["scale"]["pods_removed"] == ["web-1"] and dry.day2["scale"]["claims_kept"] == {
        "www-web-1": before["www-web-1"]}
    stats = lab.stats()
    assert stats["writes"] == 0 and stats["dry_run_writes"] == 1, stats["write_events"]
    assert sts(lab, ns)["spec"]["replicas"] == 2

    # scale down: the highest ordinal goes, its claim stays with its uid, web-0 is not touched
    down = player.play("playbooks/scale.yml", app="web", replicas=1, **extra)
    assert down.rc == 0, down.failure()
    scale = down.day2["scale"]
    assert (scale["from"], scale["to"], scale["pods_removed"], scale["pods_kept"]) == (2, 1, ["web-1"], ["web-0"])
    assert scale["claims_kept"] == {"www-web-1": before["www-web-1"]} and scale["when_scaled"] == "Retain"
    assert claims(lab, ns) == before
    assert pod_uids(lab, ns) == {"web-0": web0}
    assert ("stateful.nfs-day2", "scale") in replicas_manager(sts(lab, ns))
    # the inventory still says 2: site.yml would set it back, and the summary says so
    assert down.day2["inventory_declares"] == {"replicas": 2}
    assert down.day2["undone_by_site_yml"][0].startswith("spec.replicas: the definition says 2, this change 1")
    assert down.day2["proved"][0] == "identity: web-0"

    # scale up: web-1 gets its kept claim back (same uid), web-2 a new one, in ordinal order
    up = player.play("playbooks/scale.yml", app="web", replicas=3, **extra)
    assert up.rc == 0, up.failure()
    scale = up.day2["scale"]
    assert scale["pods_added"] == ["web-1", "web-2"] and scale["added_ready_in_order"] is True
    assert scale["claims_reused"] == {"www-web-1": before["www-web-1"]}
    assert scale["claims_created"] == ["www-web-2"]
    after = claims(lab, ns)
    assert {k: after[k] for k in before} == before and set(after) == {"www-web-0", "www-web-1", "www-web-2"}
    assert pod_uids(lab, ns)["web-0"] == web0
    assert up.day2["proved"][0] == "identity: web-0, web-1, web-2"

    # the same size again: nothing to do
    again = player.play("playbooks/scale.yml", app="web", replicas=3, **extra)
    assert again.rc == 0, again.failure()
    assert again.changed()["localhost"] == 0, again.changed_tasks()

    # site.yml applies the inventory again: replicas back to 2, owned by the inventory's manager again
    site = player.play("site.yml", tags=TAGS, statefulset_app="web", **extra)
    assert site.rc == 0, site.failure()
    live = sts(lab, ns)
    assert live["spec"]["replicas"] == 2 and ("stateful.nfs", "") in replicas_manager(live), replicas_manager(live)
    assert sorted(pod_uids(lab, ns)) == ["web-0", "web-1"] and claims(lab, ns) == after

    # upgrade as a canary (partition 1: web-1 first), then every pod; names and claims survive
    upgraded = player.play("playbooks/upgrade.yml", app="web", image=lab.nginx_upgrade, partition=1, **extra)
    assert upgraded.rc == 0, upgraded.failure()
    canary, upgrade = upgraded.day2["canary"], upgraded.day2["upgrade"]
    assert (canary["pods_updated"], canary["pods_not_updated"]) == (["web-1"], ["web-0"]), canary
    assert canary["images"] == {"web-0": lab.nginx, "web-1": lab.nginx_upgrade}, canary
    assert upgrade["images"] == {"web-0": lab.nginx_upgrade, "web-1": lab.nginx_upgrade} and upgrade["container"] == "web"
    assert upgrade["claims"] == {k: after[k] for k in ("www-web-0", "www-web-1")}
    assert upgrade["partition"] == 0 and upgrade["pods_updated"] == ["web-0", "web-1"]
    assert [p["spec"]["containers"][0]["image"] for p in pods_of(lab, ns)] == [lab.nginx_upgrade] * 2
    assert upgraded.day2["undone_by_site_yml"][0].startswith("spec.template.spec.containers[name=web].image")
    assert upgraded.day2["proved"][0] == "identity: web-0, web-1"

    # the same image again: nothing to write, the proof still runs
    same = player.play("playbooks/upgrade.yml", app="web", image=lab.nginx_upgrade, **extra)
    assert same.rc == 0, same.failure()
    assert same.changed()["localhost"] == 0, same.changed_tasks()
    assert same.day2["upgrade"]["pods_replaced"] == [] and same.day2["canary"] == "no canary (partition 0)"
