"""playbooks/teardown.yml without purge deletes both applications' StatefulSets and pods and
keeps their claims; site.yml then brings them back on the same claims, with the same data on
every member."""
from __future__ import annotations

from conftest import CACHE, SHOP, TAGS, Lab, claims, redis, replicating, replication, sql, wait_for


def members(ns: str, app: str) -> list:
    return [p["metadata"]["name"] for p in Lab.require().get("pods", "-n", ns, "-l", f"app.kubernetes.io/name={app}")["items"]]


def test_teardown_keeps_the_claims_and_a_rerun_brings_back_the_data(play):
    before = {CACHE: claims(CACHE), SHOP: claims(SHOP)}
    assert len(before[CACHE]) == 3 and len(before[SHOP]) == 2, before

    down = play("playbooks/teardown.yml")
    assert down.rc == 0, down.failure()
    result = down.day2["applications"]
    assert sorted(result["cache"]["pvcs_kept"]) == sorted(before[CACHE]), result
    assert sorted(result["db"]["pvcs_kept"]) == sorted(before[SHOP]), result
    for ns, app in ((CACHE, "redis"), (SHOP, "mariadb")):
        wait_for(f"the {app} pods to be gone", lambda n=ns, a=app: members(n, a) == [], timeout=120, interval=1)
        assert Lab.require().kubectl("get", "statefulset", "-n", ns, app, check=False).returncode != 0
    assert {CACHE: claims(CACHE), SHOP: claims(SHOP)} == before

    back = play("site.yml", tags=TAGS)
    assert back.rc == 0, back.failure()
    assert {CACHE: claims(CACHE), SHOP: claims(SHOP)} == before  # the same claims, bound again
    for member in ("redis-1", "redis-2"):
        wait_for(f"{member} to sync", lambda m=member: replication(m).get("master_link_status") == "up",
                 timeout=60, interval=1)
    for member in ("redis-0", "redis-1", "redis-2"):
        assert redis(CACHE, member, "get", "greeting") == "hello from redis-0", member
    wait_for("mariadb-1 to replicate again", replicating, timeout=60, interval=1)
    for member in ("mariadb-0", "mariadb-1"):
        assert sql(member, "SELECT COUNT(*) FROM shop.orders") == "2", member
