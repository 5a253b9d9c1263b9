"""playbooks/migrate.yml on the lab: an application on one class (archiving, its own export) writes
per-pod data (web-0 a large file), the inventory names another class (pathPattern, another export on
the same NFS server, as test_roles_classes_and_applications.py declares the two), and migrate.yml
moves each claim's directory there. Each refusal changes nothing (NFS listing, PVs, claims, API audit
log); the inventory's class equal to the live one is nothing to do (changed=0); check mode writes
nothing. A run SIGKILLed in the middle of web-0's copy leaves every claim bound to its old directory
(old PVs Retain, no copy that looks finished), and its re-run converges: each claim bound to its
copy on the new class, the same checksums, each pod serving its own file. A further run changes
nothing (changed=0); -e prune_source=true then removes the old directories and PVs (kept until then).

The kill lands in the middle of the copy whatever the disk's speed: the module's process is SIGSTOPped
in the same exec that finds it writing big.bin, then the controller and that process are SIGKILLed; the
partial big.bin is shorter than the file. Wall time on the lab: about 130 s (site.yml 25 s, the
refusals and the no-op 15 s, check mode 10-15 s, the re-run after the kill 20 s, the further run and
prune 15 s).
"""
from __future__ import annotations

import pytest

from tests.integration.test_backup import crash_mid_copy, exists, writes
from tests.integration.test_restore import checksums, deploy_and_write
from tests.support.lab import NFS_HOST, dexec
from tests.support.waiting import wait_for

# the provisioner stage probes each class's export from a node: the nodes need the NFS client
pytestmark = pytest.mark.usefixtures("nfs_clients")

TAGS = "provisioner,statefulset"
BIG_MB = 150  # web-0's large file: its copy is seen (and stopped) in the middle
OWN_FILE = {"http_get": {"path": "/owner.txt", "port": 80, "status": 200, "body": "^{pod} "}}


def classes(lab, ns):
    """Two classes as test_roles_classes_and_applications.py declares them, each on an export of its own."""
    return [{"storage_class_name": f"{ns}-data", "archive_on_delete": True, "nfs_path": lab.nfs_dir("migrate-old")},
            {"storage_class_name": f"{ns}-scratch", "on_delete": "delete",
             "path_pattern": "${.PVC.namespace}/${.PVC.name}", "nfs_path": lab.nfs_dir("migrate-new")}]


def extra(lab, ns, klass, template="www", app_check=OWN_FILE, **more):
    web = {"name": "web", "namespace": ns, "replicas": 2, "labels": {"app": "web"}, "image": lab.nginx,
           "ports": [{"name": "web", "container_port": 80}],
           "volume_claim_templates": [{"name": template, "storage_class_name": klass, "size": "1Mi",
                                       "mount_path": "/usr/share/nginx/html"}]}
    return {"nfs_provisioner_classes": classes(lab, ns), "nfs_provisioner_namespace": ns,
            "nfs_provisioner_nfs_server": lab.nfs_server, "nfs_provisioner_nfs_path": lab.nfs_dir("migrate-old"),
            "statefulset_applications": [{"name": "web", "statefulset": web,
                                          "verify": {"dns_timeout": 30, **({"app_check": app_check} if app_check else {})}}], **more}


def tree(lab):
    """Both exports (names, three levels: the pathPattern's namespace/claim), to prove a refusal changed nothing."""
    return dexec(NFS_HOST, "sh", "-c", f"cd {lab.nfs_dir_path()} && find . -maxdepth 4 | sort").stdout


def pvs_of(lab, ns):
    return {p["metadata"]["name"]: p for p in lab.items("/api/v1/persistentvolumes")
            if (p["spec"].get("claimRef") or {}).get("namespace") == ns}


def state(lab, ns):
    pvs = {n: (p["spec"]["persistentVolumeReclaimPolicy"], (p["spec"].get("claimRef") or {}).get("name"))
           for n, p in pvs_of(lab, ns).items()}
    claims = {c["metadata"]["name"]: (c["spec"].get("volumeName"), c["spec"].get("storageClassName"))
              for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")}
    sts = lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/web")
    return tree(lab), pvs, claims, sts["spec"]["replicas"], sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"]


def test_migrate_to_another_class(lab, ns, player):
    old_export, new_export = lab.nfs_dir_path("migrate-old"), lab.nfs_dir_path("migrate-new")
    token = deploy_and_write(lab, player, ns, extra(lab, ns, f"{ns}-data", app_check=None))  # owner.txt comes after
    before, old = {}, {}
    for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"):
        pv = lab.get(f"/api/v1/persistentvolumes/{c['spec']['volumeName']}")
        old[c["metadata"]["name"]] = (pv["metadata"]["name"], pv["spec"]["nfs"]["path"])
    assert sorted(old) == ["www-web-0", "www-web-1"] and all(p.startswith(old_export + "/") for _, p in old.values())
    dexec(NFS_HOST, "sh", "-c", f"head -c {BIG_MB}M /dev/urandom > {old['www-web-0'][1]}/big.bin", timeout=120)
    before = {claim: checksums(lab, path) for claim, (_pv, path) in old.items()}
    copy_of = {claim: f"{new_export}/migrated-{ns}-{claim}-{pv}" for claim, (pv, _path) in old.items()}
    moved = extra(lab, ns, f"{ns}-scratch")
    try:
        # --- refusals, each before any change (API audit log, NFS listing, PVs, claims)
        lab.create(f"/api/v1/namespaces/{ns}/persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "www-web-5"},
            "spec": {"storageClassName": "", "accessModes": ["ReadWriteOnce"], "volumeName": f"other-{ns}",
                     "resources": {"requests": {"storage": "1Mi"}}}})
        refusals = [
            ({"app": "nope", **moved}, "'nope' is not an application of statefulset_applications"),
            ({"app": "web", **extra(lab, ns, f"{ns}-missing")},
             f"StorageClass '{ns}-missing' (statefulset: spec.volumeClaimTemplates[0], the class the inventory names)"
             " does not exist or is not provisioned by an NFS provisioner"),
            ({"app": "web", **extra(lab, ns, f"{ns}-scratch", template="data")},
             f"StatefulSet {ns}/web has claim template(s) www that the inventory's entry does not declare (data)"),
            ({"app": "web", **moved}, f"claim {ns}/www-web-5: is Pending, not Bound"),
        ]
        for more, message in refusals:
            unchanged = state(lab, ns)
            mark = lab.lab.audit_mark()
            run = player.play("playbooks/migrate.yml", **more)
            assert run.rc != 0 and message in run.failure(), (more.get("app"), run.failure())
            assert state(lab, ns) == unchanged and run.changed_tasks() == [], run.changed_tasks()
            assert writes(lab, mark, ns, *(pv for pv, _path in old.values())) == []
        lab.http("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-5")
        wait_for("the stand-in claim to go",
                 lambda: lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-5") is None, timeout=60, interval=1)

        # --- the inventory's class is the live one: nothing to do, changed=0, the application proved
        unchanged = state(lab, ns)
        same = player.play("playbooks/migrate.yml", app="web", **extra(lab, ns, f"{ns}-data"))
        assert same.rc == 0, same.failure()
        assert same.changed_tasks() == [] and same.day2["nothing_to_do"] is True, same.changed_tasks()
        assert state(lab, ns) == unchanged

        # --- check mode: what would happen, nothing written (API dry runs only, NFS server untouched)
        mark = lab.lab.audit_mark()
        dry = player.play("playbooks/migrate.yml", check=True, app="web", **moved)
        assert dry.rc == 0, dry.failure()
        assert dry.day2["moved"] == ["www-web-0", "www-web-1"] and dry.day2["proof"].startswith("check mode")
        assert sorted(c["dest"] for c in dry.day2["copies"]) == sorted(copy_of.values())
        assert state(lab, ns) == unchanged and writes(lab, mark, ns, *(pv for pv, _path in old.values())) == []

        # --- killed in the middle of web-0's copy: every claim still on its old directory, nothing looks finished
        partial = f"{new_export}/.migrated-{ns}-www-web-0-{old['www-web-0'][0]}.partial"
        manifest = f"{copy_of['www-web-0']}.manifest.json"
        bg = player.start("playbooks/migrate.yml", app="web", **moved)
        crash_mid_copy(bg, partial, manifest, timeout=180, big_mb=BIG_MB)
        copied = int(dexec(NFS_HOST, "stat", "-c", "%s", f"{partial}/big.bin").stdout)
        assert 0 < copied < BIG_MB << 20, copied  # killed in the middle of the large file
        assert not exists(copy_of["www-web-0"]) and not exists(f"{copy_of['www-web-0']}.manifest.json")
        pvs = pvs_of(lab, ns)
        for claim, (pv, path) in old.items():
            assert pvs[pv]["spec"]["persistentVolumeReclaimPolicy"] == "Retain", pv  # before any claim is deleted
            assert pvs[pv]["metadata"]["annotations"]["stateful.nfs/migrate-to"] == f"{ns}-scratch"
            claim_now = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim}")
            assert claim_now["spec"]["volumeName"] == pv  # never bound to a half copy
            assert checksums(lab, path) == before[claim]
        assert lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/web")["spec"]["replicas"] == 0

        # --- the re-run converges: each claim bound to its finished copy on the new class, proved
        done = player.play("playbooks/migrate.yml", app="web", **moved)
        assert done.rc == 0, done.failure()
        result = done.day2
        assert result["moved"] == ["www-web-0", "www-web-1"] and result["proof"].startswith("proved"), result
        assert not exists(partial)
        for claim, (pv, path) in old.items():
            pvc = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim}")
            assert pvc["spec"]["volumeName"] == f"migrated-{pv}" and pvc["spec"]["storageClassName"] == f"{ns}-scratch"
            assert pvc["status"]["phase"] == "Bound"
            new_pv = lab.get(f"/api/v1/persistentvolumes/migrated-{pv}")
            assert new_pv["spec"]["nfs"]["path"] == copy_of[claim]
            assert new_pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
            assert checksums(lab, copy_of[claim]) == before[claim]
            assert checksums(lab, path) == before[claim]  # the old directory kept
            assert exists(f"{copy_of[claim]}.manifest.json")
        assert all(d["same"] for d in result["checksums_after"].values()) and len(result["checksums_after"]) == 2
        sts = lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/web")
        assert sts["spec"]["replicas"] == 2
        assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == f"{ns}-scratch"
        for i in (0, 1):
            out = lab.lab.kubectl("exec", "-n", ns, f"web-{i}", "--", "cat", "/usr/share/nginx/html/owner.txt").stdout
            assert out == f"web-{i} {token}\n"
        assert sorted(s["nfs_path"] for s in result["sources_kept"]) == sorted(p for _, p in old.values())

        # --- a further run changes nothing (and proves it)
        again = player.play("playbooks/migrate.yml", app="web", **moved)
        assert again.rc == 0, again.failure()
        assert again.changed_tasks() == [] and again.day2["nothing_to_do"] is True, again.changed_tasks()
        assert again.day2["proof"].startswith("proved")

        # --- prune_source: the old directories, then their PVs, removed once the move is proved
        pruned = player.play("playbooks/migrate.yml", app="web", prune_source=True, **moved)
        assert pruned.rc == 0, pruned.failure()
        for claim, (pv, path) in old.items():
            assert not exists(path) and lab.get(f"/api/v1/persistentvolumes/{pv}") is None
            assert checksums(lab, copy_of[claim]) == before[claim]
        assert pruned.day2["pruned"] and pruned.day2["sources_kept"] == []
    finally:
        lab.http("DELETE", f"/apis/apps/v1/namespaces/{ns}/statefulsets/web")
        for claim in old:
            lab.http("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim}")
        for pv, _path in old.values():
            lab.http("DELETE", f"/api/v1/persistentvolumes/{pv}")
            lab.http("DELETE", f"/api/v1/persistentvolumes/migrated-{pv}")
