"""A real multi-member application on the lab: examples/redis (a primary and replicas that find
each other by stable DNS names, append-only data on NFS claims, run as Debian's non-root redis
user), given to stateful.nfs.statefulset as a file (src, through the action plugin) and proved by
stateful.nfs.statefulset_verify with redis' own check. Members see each other, data written on
the primary survives a member rescheduled to another node, a new member joins with its own claim."""
from __future__ import annotations

import time
from pathlib import Path

import yaml

from tests.support.lab import NFS_HOST, dexec
from tests.support.waiting import wait_for

from .conftest import ROLLOUT

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "redis" / "redis.yaml"


def example_file(lab, ns, sc, tmp_path, replicas=3):
    """examples/redis/redis.yaml for this test: its class, the lab's image, ``replicas``."""
    service, sts = yaml.safe_load_all(EXAMPLE.read_text())
    sts["spec"]["replicas"] = replicas
    sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = sc
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = lab.image("redis")
    path = tmp_path / f"redis-{replicas}.yaml"
    path.write_text(yaml.safe_dump_all([service, sts]))
    return str(path)


def redis(lab, ns, pod, *args):
    return lab.lab.kubectl("exec", "-n", ns, pod, "--", "redis-cli", *args).stdout.strip()


def replication(lab, ns, pod):
    text = redis(lab, ns, pod, "info", "replication")
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def provisioned_class(lab, ns, run):
    """A StorageClass served by the lab's provisioner on a directory of the session's export."""
    res = run("nfs_provisioner", {"name": f"prov-{ns}", "namespace": ns, "provisioner_name": f"example.com/{ns}",
                                  "storage_class_name": f"nfs-{ns}", "nfs_server": lab.nfs_server,
                                  "nfs_path": lab.nfs_dir(ns), "image": lab.image("provisioner"),
                                  "image_pull_policy": "IfNotPresent", "wait": True, "wait_timeout": ROLLOUT},
              via="inproc")
    assert not res.get("failed"), res.get("msg")
    return f"nfs-{ns}"


def test_redis_members_replicate_and_keep_their_data_across_a_reschedule_and_a_scale_up(lab, ns, run, tmp_path):
    sc = provisioned_class(lab, ns, run)
    res = run("statefulset", {"src": example_file(lab, ns, sc, tmp_path), "namespace": ns, "wait": True,
                              "wait_timeout": ROLLOUT})
    assert not res.get("failed"), res.get("msg")
    assert [(o["kind"], o["action"]) for o in res["objects"]] == [("Service", "create"), ("StatefulSet", "create")]
    svc = lab.get(f"/api/v1/namespaces/{ns}/services/redis")
    assert svc["spec"]["publishNotReadyAddresses"] is True  # the file's Service, not one made by the module

    proof = run("statefulset_verify", {"name": "redis", "namespace": ns, "dns_timeout": 30, "app_check": {
        "exec": {"command": ["redis-cli", "info", "replication"], "stdout": "role:(master|slave)"}}}, via="inproc")
    assert not proof.get("failed"), proof.get("msg")
    assert {c["status"] for c in proof["checks"]} == {"pass"}, proof["checks"]

    # members see each other: the primary lists both replicas online, each replica its primary
    wait_for("the primary to list two replicas", lambda: replication(lab, ns, "redis-0").get("connected_slaves") == "2",
             timeout=60, interval=1)
    for pod in ("redis-1", "redis-2"):
        info = replication(lab, ns, pod)
        assert info["role"] == "slave" and info["master_host"] == "redis-0.redis", info
        wait_for(f"{pod} to sync", lambda p=pod: replication(lab, ns, p).get("master_link_status") == "up",
                 timeout=60, interval=1)

    # written on the primary, acknowledged by both replicas, on NFS as the non-root user
    assert redis(lab, ns, "redis-0", "set", "greeting", "hello from redis-0") == "OK"
    assert redis(lab, ns, "redis-0", "wait", "2", "5000") == "2"
    # what the provisioner made (root's directory, mode 0777) and what redis wrote in it (as 100:101)
    for marker in proof["markers"]:
        directory = marker["nfs_path"].rsplit("/", 1)[0]
        made = dexec(NFS_HOST, "stat", "-c", "%u:%g %a", directory).stdout.split()
        wrote = dexec(NFS_HOST, "stat", "-c", "%u:%g", f"{directory}/appendonlydir", marker["nfs_path"]).stdout.split()
        assert made == ["0:0", "777"] and wrote == ["100:101", "100:101"], (directory, made, wrote)

    # redis-2 rescheduled to another node (its node cordoned): same name, same claim, same data, rejoins
    pod = lab.get(f"/api/v1/namespaces/{ns}/pods/redis-2")
    node, claim_uid = pod["spec"]["nodeName"], lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-redis-2")["metadata"]["uid"]
    lab.lab.kubectl("cordon", node)
    try:
        lab.lab.kubectl("delete", "pod", "-n", ns, "redis-2", "--wait=true")
        wait_for("redis-2 back and Ready", lambda: (lambda p: p and p["metadata"]["uid"] != pod["metadata"]["uid"]
                 and any(c["type"] == "Ready" and c["status"] == "True" for c in (p.get("status") or {}).get("conditions") or []))(
                     lab.get(f"/api/v1/namespaces/{ns}/pods/redis-2")), timeout=ROLLOUT, interval=1)
    finally:
        lab.lab.kubectl("uncordon", node)
    moved = lab.get(f"/api/v1/namespaces/{ns}/pods/redis-2")
    assert moved["spec"]["nodeName"] != node
    assert lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-redis-2")["metadata"]["uid"] == claim_uid
    wait_for("redis-2 to rejoin", lambda: replication(lab, ns, "redis-2").get("master_link_status") == "up",
             timeout=60, interval=1)
    assert redis(lab, ns, "redis-2", "get", "greeting") == "hello from redis-0"

    # scale up by one: redis-3 joins with a claim of its own and syncs the data
    start = time.monotonic()
    res = run("statefulset", {"src": example_file(lab, ns, sc, tmp_path, replicas=4), "namespace": ns, "wait": True,
                              "wait_timeout": ROLLOUT})
    assert not res.get("failed") and res["changed"], res.get("msg")
    assert res["pvc_names"][-1] == "data-redis-3"
    wait_for("redis-3 to sync", lambda: replication(lab, ns, "redis-3").get("master_link_status") == "up",
             timeout=60, interval=1)
    assert redis(lab, ns, "redis-3", "get", "greeting") == "hello from redis-0"
    assert time.monotonic() - start < ROLLOUT + 60
    again = run("statefulset_verify", {"name": "redis", "namespace": ns, "app_check": {
        "exec": {"command": ["redis-cli", "ping"], "stdout": "^PONG$"}}}, via="inproc")
    assert not again.get("failed"), again.get("msg")
    assert [p["name"] for p in again["pods"]] == ["redis-0", "redis-1", "redis-2", "redis-3"]
