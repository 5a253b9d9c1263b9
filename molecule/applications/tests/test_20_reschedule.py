"""A member deleted after its node is cordoned comes back on another node: the same name, the
same claim, the same data, and it rejoins its primary (the node is uncordoned after)."""
from __future__ import annotations

from conftest import CACHE, SHOP, claims, redis, replicating, replication, reschedule, sql, wait_for


def test_redis_replica_rescheduled_keeps_its_claim_and_data_and_rejoins():
    before = claims(CACHE)
    node, moved = reschedule(CACHE, "redis-2")
    assert moved["spec"]["nodeName"] != node
    assert claims(CACHE) == before  # data-redis-2 is the same claim (uid)
    assert [v["persistentVolumeClaim"]["claimName"] for v in moved["spec"]["volumes"]
            if "persistentVolumeClaim" in v] == ["data-redis-2"]
    wait_for("redis-2 to rejoin", lambda: replication("redis-2").get("master_link_status") == "up", timeout=60, interval=1)
    assert redis(CACHE, "redis-2", "get", "greeting") == "hello from redis-0"
    assert replication("redis-0")["connected_slaves"] == "2"


def test_mariadb_replica_rescheduled_keeps_its_claim_and_data_and_resumes():
    before = claims(SHOP)
    node, moved = reschedule(SHOP, "mariadb-1")
    assert moved["spec"]["nodeName"] != node
    assert claims(SHOP) == before
    wait_for("mariadb-1 to resume", replicating, timeout=60, interval=1)
    sql("mariadb-0", "INSERT INTO shop.orders VALUES (2, 'written while mariadb-1 moved')")
    position = sql("mariadb-0", "SELECT @@gtid_binlog_pos")
    assert sql("mariadb-1", f"SELECT MASTER_GTID_WAIT('{position}', 30)") == "0"
    assert sql("mariadb-1", "SELECT COUNT(*) FROM shop.orders") == "2"
