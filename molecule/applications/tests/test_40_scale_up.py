"""redis scaled up by one through site.yml, as a user does: the manifest's replicas raised to 4
and `site.yml -e statefulset_app=cache`. The new member redis-3 gets a claim and an NFS
directory of its own, joins the primary and syncs the data; a second run changes nothing."""
from __future__ import annotations

import json

import yaml

from conftest import CACHE, TAGS, claim_dir, claims, redis, replication, wait_for


def test_redis_scaled_up_by_one_joins_with_its_own_claim_and_syncs(play, ephemeral):
    service, sts = yaml.safe_load_all((ephemeral / "manifests" / "redis.yaml").read_text())
    assert sts["spec"]["replicas"] == 3
    sts["spec"]["replicas"] = 4
    scaled = ephemeral / "manifests" / "redis-4.yaml"
    scaled.write_text(yaml.safe_dump_all([service, sts]))
    before = claims(CACHE)

    up = play("site.yml", tags=TAGS, statefulset_app="cache", applications_redis_manifest=str(scaled))
    assert up.rc == 0, up.failure()
    assert up.changed()["localhost"] > 0
    after = claims(CACHE)
    assert {k: v for k, v in after.items() if k in before} == before and set(after) - set(before) == {"data-redis-3"}
    directories = {c: claim_dir(CACHE, c) for c in after}
    assert len(set(directories.values())) == 4, directories  # a directory of its own
    report = json.loads((ephemeral / "reports" / "cache-identity.json").read_text())
    assert [p["name"] for p in report["pods"]] == ["redis-0", "redis-1", "redis-2", "redis-3"]
    assert {c["status"] for c in report["checks"]} == {"pass"}, report["checks"]

    wait_for("redis-3 to sync", lambda: replication("redis-3").get("master_link_status") == "up", timeout=60, interval=1)
    assert redis(CACHE, "redis-3", "get", "greeting") == "hello from redis-0"
    wait_for("redis-0 to list three replicas", lambda: replication("redis-0").get("connected_slaves") == "3",
             timeout=60, interval=1)

    again = play("site.yml", tags=TAGS, statefulset_app="cache", applications_redis_manifest=str(scaled))
    assert again.rc == 0, again.failure()
    assert again.changed()["localhost"] == 0, again.changed_tasks()
