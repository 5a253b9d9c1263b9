"""The data lifecycle with a multi-member application (issue 22's tests): the redis example (a primary
and a replica of it, append-only data on each member's claim, as Debian's redis user) is deployed
through site.yml, a key is written on the primary and acknowledged by the replica, and a large file
sits beside redis' data on redis-0's volume. backup.yml copies each member's directory with the
application quiesced; the namespace is deleted; restore.yml -e source=backup -e to_namespace=NS is
SIGKILLed in the middle of redis-0's copy: no claim is bound to anything but a finished copy, and the
re-run converges and leaves no partial copy. Deployed there, both members serve the key (the primary
from its restored append-only file, the replica again through replication from it) and the replica
is connected; a last restore.yml run proves it and changes nothing. Wall time about 4 minutes."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from tests.integration.test_backup import crash_mid_copy, exists
from tests.integration.test_restore import bound_directories, checksums, remove_restored
from tests.support.lab import NFS_HOST, dexec
from tests.support.waiting import wait_for

# the provisioner stage probes each class's export from a node: the nodes need the NFS client
pytestmark = pytest.mark.usefixtures("nfs_clients")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "redis" / "redis.yaml"
TAGS = "provisioner,statefulset"
BIG_MB = 200  # beside redis-0's data: its copy takes long enough to be killed in the middle
CLAIMS = ("data-redis-0", "data-redis-1")
# what redis rewrites once it runs again: the replica's whole data set comes anew from the primary
# (full resynchronisation), and either member may rewrite its append-only files or snapshot
REWRITTEN = [".stateful-nfs-verify", "appendonlydir/*", "dump.rdb", "temp-*"]


def extra(lab, ns, app_ns, **more):
    service, sts = yaml.safe_load_all(EXAMPLE.read_text())
    sts["metadata"]["namespace"] = app_ns
    sts["spec"]["replicas"] = 2
    sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = f"{ns}-data"
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = lab.image("redis")
    cache = {"name": "cache", "statefulset": {"definition": sts, "service": service},
             "verify": {"dns_timeout": 30, "app_check": {"exec": {"command": ["redis-cli", "info", "replication"],
                                                                  "stdout": "role:(master|slave)"}}}}
    return {"nfs_provisioner_classes": [{"storage_class_name": f"{ns}-data", "archive_on_delete": True}],
            "nfs_provisioner_namespace": ns, "nfs_provisioner_nfs_server": lab.nfs_server,
            "nfs_provisioner_nfs_path": lab.nfs_dir("lifecycle"),
            "statefulset_applications": [cache], **more}


def redis(lab, ns, pod, *command):
    return lab.lab.kubectl("exec", "-n", ns, pod, "--", "redis-cli", *command).stdout.strip()


def test_redis_backed_up_restored_after_a_crash_mid_copy_and_rejoined(lab, ns, player):
    app_ns = lab.new_namespace()
    export = lab.nfs_dir_path("lifecycle")
    root = f"{export}-backups"
    restored_pvs = []
    try:
        first = player.play("site.yml", tags=TAGS, **extra(lab, ns, app_ns))
        assert first.rc == 0, first.failure()
        token = uuid.uuid4().hex
        assert redis(lab, app_ns, "redis-0", "set", "lifecycle", token) == "OK"
        # the replica acknowledged the write (WAIT: number of replicas that have it)
        assert redis(lab, app_ns, "redis-0", "wait", "1", "10000") == "1"
        assert redis(lab, app_ns, "redis-1", "get", "lifecycle") == token
        dirs = bound_directories(lab, app_ns)
        assert sorted(dirs) == list(CLAIMS), dirs
        dexec(NFS_HOST, "sh", "-c", f"head -c {BIG_MB}M /dev/urandom > {dirs['data-redis-0']}/big.bin", timeout=120)

        # --- a crash-consistent backup: scaled to 0 (redis fsyncs its append-only file as it stops), copied, back
        backup = player.play("playbooks/backup.yml", app="cache", quiesce=True, backup_name="quiet", **extra(lab, ns, app_ns))
        assert backup.rc == 0, backup.failure()
        assert backup.day2["quiesced"] is True and sorted(backup.day2["manifests"]) == list(CLAIMS), backup.day2
        assert all(m["crash_consistent"] is True for m in backup.day2["manifests"].values())
        assert lab.get(f"/apis/apps/v1/namespaces/{app_ns}/statefulsets/redis")["spec"]["replicas"] == 2
        copy = f"{root}/quiet"
        kept = {claim: checksums(lab, f"{copy}/{claim}") for claim in CLAIMS}
        assert "appendonlydir/" in kept["data-redis-0"] and "big.bin" in kept["data-redis-0"], kept

        # --- the namespace goes
        lab.http("DELETE", f"/api/v1/namespaces/{app_ns}")
        wait_for("the namespace to go", lambda: lab.get(f"/api/v1/namespaces/{app_ns}") is None, timeout=120, interval=2)

        # --- the restore into ns killed in the middle of redis-0's copy
        common = dict(app="cache", source="backup", backup=copy, to_namespace=ns, **extra(lab, ns, app_ns))
        partial = f"{export}/\\.restored-{ns}-data-redis-0-backup-[0-9a-f]*\\.partial"
        bg = player.start("playbooks/restore.yml", **common)
        crash_mid_copy(bg, partial, f"{export}/never-there", timeout=180, big_mb=BIG_MB)
        # no claim bound to anything but a finished copy of its own backup
        for claim, path in bound_directories(lab, ns).items():
            assert ".partial" not in path and checksums(lab, path) == kept[claim], (claim, path)
        assert dexec(NFS_HOST, "sh", "-c", f"ls -a {export} | grep -c '^\\.restored-.*\\.partial$'").stdout.strip() == "1"

        again = player.play("playbooks/restore.yml", **common)
        assert again.rc == 0, again.failure()
        assert "data-redis-0" in again.day2["restored"], again.day2
        restored_pvs = [c["spec"]["volumeName"] for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")]
        assert dexec(NFS_HOST, "sh", "-c", f"ls -a {export} | grep -c '\\.partial$' || true").stdout.strip() == "0"
        restored = bound_directories(lab, ns)
        assert sorted(restored) == list(CLAIMS), restored
        for claim, path in restored.items():
            assert f"restored-{ns}-{claim}-backup-" in path and checksums(lab, path) == kept[claim], (claim, path)
        assert {claim: checksums(lab, f"{copy}/{claim}") for claim in CLAIMS} == kept  # the backup intact

        # --- deployed there: the primary serves the key from its restored data, the replica rejoins and has it
        moved = extra(lab, ns, ns)
        deployed = player.play("site.yml", tags=TAGS, **moved)
        assert deployed.rc == 0, deployed.failure()
        assert redis(lab, ns, "redis-0", "get", "lifecycle") == token
        wait_for("the replica to be in sync with the primary", lambda: redis(lab, ns, "redis-1", "get", "lifecycle") == token,
                 timeout=60, interval=1)
        assert "connected_slaves:1" in redis(lab, ns, "redis-0", "info", "replication")
        proof = player.play("playbooks/restore.yml", app="cache", source="backup", backup=copy,
                            restore_exclude=REWRITTEN, **moved)
        assert proof.rc == 0, proof.failure()
        assert proof.changed_tasks() == [] and proof.day2["proof"].startswith("proved"), proof.changed_tasks()
        assert all(d["same"] for d in proof.day2["checksums_after"].values()), proof.day2["checksums_after"]
        assert not exists(f"{export}/never-there")
    finally:
        remove_restored(lab, ns, restored_pvs, statefulset="redis", claims=CLAIMS)
        dexec(NFS_HOST, "rm", "-rf", root)
