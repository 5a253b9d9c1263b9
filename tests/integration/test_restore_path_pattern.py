"""playbooks/restore.yml on the lab with a class whose pathPattern is ${.PVC.namespace}/${.PVC.name}:
the provisioner archives a deleted claim's directory as archived-<claim> at the top of its export, a
name that says neither the namespace nor the volume. teardown.yml -e purge=true records each claim's
volume in the collection's index on the NFS server before deleting the claims; restore.yml attributes
the archives by it, and each ordinal serves its own data again. An archive neither parsed nor indexed
is refused, listed, with nothing changed."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.support.lab import NFS_HOST, dexec
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("nfs_clients")

TAGS = "provisioner,statefulset"
PATTERN = "${.PVC.namespace}/${.PVC.name}"
OWN_FILE = {"http_get": {"path": "/owner.txt", "port": 80, "status": 200, "body": "^{pod} "}}


def extra(lab, ns, tmp_path, app_check=None, **more):
    web = {"name": "web", "namespace": ns, "replicas": 2, "labels": {"app": "web"}, "image": lab.nginx,
           "ports": [{"name": "web", "container_port": 80}],
           "volume_claim_templates": [{"name": "www", "storage_class_name": f"{ns}-pp", "size": "1Mi",
                                       "mount_path": "/usr/share/nginx/html"}]}
    verify = {"dns_timeout": 30, **({"app_check": app_check} if app_check else {})}
    return {"nfs_provisioner_classes": [{"storage_class_name": f"{ns}-pp", "archive_on_delete": True,
                                         "path_pattern": PATTERN}],
            "nfs_provisioner_namespace": ns, "nfs_provisioner_nfs_server": lab.nfs_server,
            "nfs_provisioner_nfs_path": lab.nfs_dir("pathpattern"),
            "statefulset_applications": [{"name": "web", "statefulset": web, "verify": verify}],
            "statefulset_report_dir": str(tmp_path / "reports"), **more}


def listing(lab):
    """The export's tree (names, the index's files), to prove a refusal changed nothing."""
    return dexec(NFS_HOST, "sh", "-c", f"cd {lab.nfs_dir_path('pathpattern')} && find . -maxdepth 2 | sort").stdout


def state(lab, ns):
    pvs = sorted(p["metadata"]["name"] for p in lab.items("/api/v1/persistentvolumes")
                 if (p["spec"].get("claimRef") or {}).get("namespace") == ns)
    claims = [c["metadata"]["name"] for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")]
    return listing(lab), pvs, claims


def checksums(directory):
    return dexec(NFS_HOST, "sh", "-c", f"cd {directory} && find . -type f ! -name .stateful-nfs-verify"
                                       " -exec sha256sum {} + | sort -k2").stdout


def test_path_pattern_archives_are_restored_by_the_index(lab, ns, tmp_path, player):
    export = lab.nfs_dir_path("pathpattern")
    first = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path))
    assert first.rc == 0, first.failure()
    token = uuid.uuid4().hex[:8]
    before = {}
    for i in (0, 1):
        lab.lab.kubectl("exec", "-n", ns, f"web-{i}", "--", "sh", "-c",
                        f"cd /usr/share/nginx/html && echo 'web-{i} {token}' > owner.txt && head -c 65536 /dev/urandom > data.bin")
        claim = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-{i}")
        pv = lab.get(f"/api/v1/persistentvolumes/{claim['spec']['volumeName']}")
        assert pv["spec"]["nfs"]["path"] == f"{export}/{ns}/www-web-{i}"  # the pathPattern's directory
        before[i] = (pv["metadata"]["name"], checksums(pv["spec"]["nfs"]["path"]))
    restored_pvs = [f"restored-{pv}" for pv, _ in before.values()]
    fake = f"{export}/archived-www-web-2"
    try:
        down = player.play("playbooks/teardown.yml", app="web", purge=True, confirm_purge="web", **extra(lab, ns, tmp_path))
        assert down.rc == 0, down.failure()
        wait_for("the provisioner to archive both directories as archived-<claim>",
                 lambda: all(f"./archived-www-web-{i}\n" in listing(lab) for i in (0, 1)), timeout=60, interval=1)
        for i, (pv, _) in before.items():
            entry = json.loads(dexec(NFS_HOST, "cat", f"{export}/.stateful-nfs-volumes/{pv}.json").stdout)
            assert (entry["namespace"], entry["claim"], entry["statefulset"], entry["ordinal"]) == (ns, f"www-web-{i}", "web", i)

        # --- an archive neither parsed nor indexed: refused, listed, nothing changed
        dexec(NFS_HOST, "mkdir", fake)
        unchanged = state(lab, ns)
        run = player.play("playbooks/restore.yml", app="web", source="archive", ordinals=[0, 1, 2],
                          **extra(lab, ns, tmp_path))
        message = run.failure()
        assert run.rc != 0
        assert f"claim {ns}/www-web-2: no archive found" in message, message
        unknown = message.split("archives whose claim is unknown (name not archived-<namespace>-<claim>-<pv>, not in"
                                " the index): ", 1)[1].split("; -e archive=DIR chooses one", 1)[0].split(", ")
        # the role nfs_provisioner's proof claim leaves its archive too: unknown as well
        assert "archived-www-web-2" in unknown and "archived-www-web-0" not in unknown, message
        assert f"claim {ns}/www-web-0" not in message and f"claim {ns}/www-web-1" not in message, message
        assert state(lab, ns) == unchanged and run.changed_tasks() == []
        dexec(NFS_HOST, "rmdir", fake)

        # --- the restore: each archive found through the index
        done = player.play("playbooks/restore.yml", app="web", source="archive", **extra(lab, ns, tmp_path))
        assert done.rc == 0, done.failure()
        assert done.day2["restored"] == ["www-web-0", "www-web-1"]
        assert sorted((r["from"], r["to"]) for r in done.day2["renamed"]) == [
            (f"{export}/archived-www-web-{i}", f"{export}/restored-www-web-{i}") for i in (0, 1)]
        for i, (pv, sums) in before.items():
            row = next(c for c in done.day2["claims"] if c["ordinal"] == i)
            assert (row["directory"], row["pv"], row["indexed"]["pv"]) == (f"restored-www-web-{i}", f"restored-{pv}", pv)
            assert checksums(f"{export}/restored-www-web-{i}") == sums

        # --- deployed again: each ordinal serves its own data (app_check), and a re-run proves and changes nothing
        again = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path, app_check=OWN_FILE))
        assert again.rc == 0, again.failure()
        for i in (0, 1):
            out = lab.lab.kubectl("exec", "-n", ns, f"web-{i}", "--", "cat", "/usr/share/nginx/html/owner.txt").stdout
            assert out == f"web-{i} {token}\n"
        proof = player.play("playbooks/restore.yml", app="web", source="archive",
                            **extra(lab, ns, tmp_path, app_check=OWN_FILE))
        assert proof.rc == 0, proof.failure()
        assert proof.changed_tasks() == [] and proof.day2["proof"].startswith("proved"), proof.changed_tasks()
        assert all(d["same"] for d in proof.day2["checksums_after"].values())
    finally:
        dexec(NFS_HOST, "rm", "-rf", fake)
        lab.http("DELETE", f"/apis/apps/v1/namespaces/{ns}/statefulsets/web")
        for c in ("www-web-0", "www-web-1"):
            lab.http("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{c}")
        for name in restored_pvs:
            lab.http("DELETE", f"/api/v1/persistentvolumes/{name}")
