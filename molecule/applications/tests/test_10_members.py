"""What converge deployed: each application proved and reported by the role, the members see
each other (redis' primary lists both replicas, MariaDB's replica replicates from the
primary's stable DNS name), MariaDB's claims' directories on the NFS server belong to root
with mode 0777 and its files to its non-root user (redis' export squashes root:
test_15_root_squash.py); then the data the later tests look for is written."""
from __future__ import annotations

import json

from conftest import CACHE, SHOP, claim_dir, pod, redis, replica_status, replicating, replication_when, sql, wait_for

REDIS = ["redis-0", "redis-1", "redis-2"]
MARIADB = ["mariadb-0", "mariadb-1"]


def test_each_application_is_proved_and_reported(ephemeral):
    for app, pods in (("cache", REDIS), ("db", MARIADB)):
        report = json.loads((ephemeral / "reports" / f"{app}-identity.json").read_text())
        assert [p["name"] for p in report["pods"]] == pods, report["pods"]
        assert report["checks"] and {c["status"] for c in report["checks"]} == {"pass"}, report["checks"]


def test_redis_primary_lists_both_replicas_online():
    info = wait_for("redis-0 to list two replicas online", lambda: replication_when("redis-0", lambda i: i.get(
        "connected_slaves") == "2" and all("state=online" in i.get(f"slave{n}", "") for n in (0, 1))), timeout=60, interval=1)
    assert info["role"] == "master", info
    listed = {dict(kv.split("=", 1) for kv in info[f"slave{n}"].split(","))["ip"] for n in (0, 1)}
    assert listed == {pod(CACHE, p)["status"]["podIP"] for p in REDIS[1:]}, (listed, info)
    for member in REDIS[1:]:
        seen = wait_for(f"{member}'s link to the primary", lambda m=member: replication_when(
            m, lambda i: i.get("master_link_status") == "up"), timeout=60, interval=1)
        assert seen["role"] == "slave" and seen["master_host"] == "redis-0.redis", seen


def test_mariadb_replica_replicates_from_the_primary():
    wait_for("mariadb-1 to replicate", replicating, timeout=60, interval=1)
    status = replica_status()
    assert status["Master_Host"] == "mariadb-0.mariadb" and status["Using_Gtid"] == "Slave_Pos", status


def test_mariadb_claims_belong_to_root_and_its_files_to_its_non_root_user(nfs_host):
    """On the lab's export (no_root_squash) the provisioner, root in its container, makes each
    claim's directory root's with mode 0777; MariaDB (uid 100, gid 101) writes its files in it
    as itself."""
    for member in MARIADB:
        directory = nfs_host.file(claim_dir(SHOP, f"data-{member}"))
        assert (directory.uid, directory.gid, directory.mode) == (0, 0, 0o777), (member, directory.path)
        data = nfs_host.file(f"{directory.path}/data/mysql")
        assert data.is_directory and (data.uid, data.gid) == (100, 101), (member, data.path)


def test_data_written_on_the_primaries_reaches_the_replicas():
    assert redis(CACHE, "redis-0", "set", "greeting", "hello from redis-0") == "OK"
    assert redis(CACHE, "redis-0", "wait", "2", "5000") == "2"  # both replicas acknowledged it
    sql("mariadb-0", "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item TEXT);"
                     " INSERT INTO shop.orders VALUES (1, 'written on mariadb-0')")
    position = sql("mariadb-0", "SELECT @@gtid_binlog_pos")
    assert sql("mariadb-1", f"SELECT MASTER_GTID_WAIT('{position}', 30)") == "0"
    assert sql("mariadb-1", "SELECT item FROM shop.orders") == "written on mariadb-0"
