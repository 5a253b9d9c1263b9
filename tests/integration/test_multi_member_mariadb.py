"""A second real multi-member application on the lab, through site.yml and role statefulset:
examples/mariadb (a primary and a GTID replica that finds it by its stable DNS name, InnoDB on NFS
claims, run as Debian's non-root mysql user), given to the role as a file (``statefulset.src``)
and proved with MariaDB's own answer. The replica replicates what the primary wrote, comes back
on another node with the same claim and data and resumes, the data survives a teardown without
purge and a re-run, and a run with nothing to do changes nothing."""
from __future__ import annotations

import base64
from pathlib import Path

import yaml

from tests.support.waiting import wait_for

from .conftest import ROLLOUT

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mariadb" / "mariadb.yaml"
TAGS = "provisioner,statefulset"


def example_file(lab, ns, tmp_path):
    """examples/mariadb/mariadb.yaml for this test: its namespace, its class, the lab's image."""
    service, sts = yaml.safe_load_all(EXAMPLE.read_text())
    sts["metadata"]["namespace"] = service["metadata"]["namespace"] = ns
    sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = f"{ns}-db"
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = lab.image("mariadb")
    path = tmp_path / "mariadb.yaml"
    path.write_text(yaml.safe_dump_all([service, sts]))
    return str(path)


def extra(lab, ns, tmp_path, state="present"):
    app = {"name": "db", "statefulset": {"src": example_file(lab, ns, tmp_path), "state": state, "wait_timeout": ROLLOUT},
           # the server itself says which member it is
           "verify": {"app_check": {"exec": {"command": ["mariadb", "-N", "-e", "select @@hostname, @@server_id"],
                                             "stdout": "^{pod}\\s+[0-9]+$"}}}}
    return {"nfs_provisioner_classes": [{"storage_class_name": f"{ns}-db", "archive_on_delete": True}],
            "nfs_provisioner_namespace": ns, "nfs_provisioner_nfs_server": lab.nfs_server,
            "nfs_provisioner_nfs_path": lab.nfs_dir("db"), "statefulset_applications": [app],
            "statefulset_report_dir": str(tmp_path / "reports")}


def sql(lab, ns, pod, statement):
    return lab.lab.kubectl("exec", "-n", ns, pod, "--", "mariadb", "-N", "-B", "-e", statement).stdout.strip()


def replica_status(lab, ns, pod="mariadb-1"):
    out = lab.lab.kubectl("exec", "-n", ns, pod, "--", "mariadb", "-e", "SHOW SLAVE STATUS\\G").stdout
    pairs = (line.strip().partition(":") for line in out.splitlines() if ":" in line)
    return {key: value.strip() for key, _sep, value in pairs}


def replicating(lab, ns):
    status = replica_status(lab, ns)
    return status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes"


def test_mariadb_primary_and_replica_through_site_yml(lab, ns, tmp_path, player):
    lab.create(f"/api/v1/namespaces/{ns}/secrets", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mariadb-replication"},
        "data": {"password": base64.b64encode(b"repl-secret").decode()}})
    first = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path))
    assert first.rc == 0, first.failure()
    report = yaml.safe_load((tmp_path / "reports" / "db-identity.json").read_text())
    assert {c["status"] for c in report["checks"]} == {"pass"}, report["checks"]
    assert [p["name"] for p in report["pods"]] == ["mariadb-0", "mariadb-1"]

    # a second run changes nothing (the report included: the same pods on the same nodes)
    again = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path))
    assert again.rc == 0, again.failure()
    assert again.changed()["localhost"] == 0, again.changed_tasks()

    # the replica follows the primary by its stable DNS name, and replicates what it is given
    wait_for("the replica to replicate", lambda: replicating(lab, ns), timeout=60, interval=1)
    assert replica_status(lab, ns)["Master_Host"] == "mariadb-0.mariadb"
    sql(lab, ns, "mariadb-0", "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item TEXT);"
                              " INSERT INTO shop.orders VALUES (1, 'written on mariadb-0')")
    position = sql(lab, ns, "mariadb-0", "SELECT @@gtid_binlog_pos")
    assert sql(lab, ns, "mariadb-1", f"SELECT MASTER_GTID_WAIT('{position}', 30)") == "0"
    assert sql(lab, ns, "mariadb-1", "SELECT item FROM shop.orders") == "written on mariadb-0"

    # the replica rescheduled to another node (its node cordoned): same claim, same data, resumes
    pod = lab.get(f"/api/v1/namespaces/{ns}/pods/mariadb-1")
    node = pod["spec"]["nodeName"]
    claim_uid = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-mariadb-1")["metadata"]["uid"]
    lab.lab.kubectl("cordon", node)
    try:
        lab.lab.kubectl("delete", "pod", "-n", ns, "mariadb-1", "--wait=true")
        wait_for("mariadb-1 back and Ready", lambda: (lambda p: p and p["metadata"]["uid"] != pod["metadata"]["uid"]
                 and any(c["type"] == "Ready" and c["status"] == "True" for c in (p.get("status") or {}).get("conditions") or []))(
                     lab.get(f"/api/v1/namespaces/{ns}/pods/mariadb-1")), timeout=ROLLOUT, interval=1)
    finally:
        lab.lab.kubectl("uncordon", node)
    assert lab.get(f"/api/v1/namespaces/{ns}/pods/mariadb-1")["spec"]["nodeName"] != node
    assert lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-mariadb-1")["metadata"]["uid"] == claim_uid
    wait_for("the replica to resume", lambda: replicating(lab, ns), timeout=60, interval=1)
    sql(lab, ns, "mariadb-0", "INSERT INTO shop.orders VALUES (2, 'written while mariadb-1 moved')")
    position = sql(lab, ns, "mariadb-0", "SELECT @@gtid_binlog_pos")
    assert sql(lab, ns, "mariadb-1", f"SELECT MASTER_GTID_WAIT('{position}', 30)") == "0"
    assert sql(lab, ns, "mariadb-1", "SELECT COUNT(*) FROM shop.orders") == "2"

    # teardown without purge, then a re-run: the same claims, the same data on both members
    claims = {c["metadata"]["name"]: c["metadata"]["uid"]
              for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")}
    down = player.play("site.yml", tags="statefulset", **extra(lab, ns, tmp_path, state="absent"))
    assert down.rc == 0, down.failure()
    wait_for("the pods to be gone", lambda: lab.items(f"/api/v1/namespaces/{ns}/pods",
                                                      "app.kubernetes.io/name=mariadb") == [], timeout=ROLLOUT)
    back = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path))
    assert back.rc == 0, back.failure()
    assert {c["metadata"]["name"]: c["metadata"]["uid"]
            for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")} == claims
    wait_for("the replica to replicate again", lambda: replicating(lab, ns), timeout=60, interval=1)
    for member in ("mariadb-0", "mariadb-1"):
        assert sql(lab, ns, member, "SELECT COUNT(*) FROM shop.orders") == "2", member
