"""playbooks/backup.yml and restore.yml -e source=backup on the lab: an application writes per-pod
data, is backed up on the NFS server (a run SIGKILLed mid-copy leaves nothing that looks finished and
its re-run converges; live copies say crash_consistent false, quiesced ones true), its namespace is
deleted, and the backup is restored into another namespace (to_namespace): the same data for the same
ordinals, the backup kept intact. Each refusal changes nothing (NFS listing, PVs, claims, API audit
log)."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.integration.test_restore import checksums, deploy_and_write, remove_restored
from tests.support.lab import DOCKER, NFS_HOST, dexec
from tests.support.waiting import wait_for

# the provisioner stage probes each class's export from a node: the nodes need the NFS client
pytestmark = pytest.mark.usefixtures("nfs_clients")

TAGS = "provisioner,statefulset"
BIG_MB = 300  # web-0's large file: the copy takes long enough to be killed in the middle


def extra(lab, ns, app_ns, **more):
    web = {"name": "web", "namespace": app_ns, "replicas": 2, "labels": {"app": "web"}, "image": lab.nginx,
           "ports": [{"name": "web", "container_port": 80}],
           "volume_claim_templates": [{"name": "www", "storage_class_name": f"{ns}-data", "size": "1Mi",
                                       "mount_path": "/usr/share/nginx/html"}]}
    return {"nfs_provisioner_classes": [{"storage_class_name": f"{ns}-data", "archive_on_delete": True}],
            "nfs_provisioner_namespace": ns, "nfs_provisioner_nfs_server": lab.nfs_server,
            "nfs_provisioner_nfs_path": lab.nfs_dir("backup"),
            "statefulset_applications": [{"name": "web", "statefulset": web, "verify": {"dns_timeout": 30}}], **more}


def tree(lab):
    """The session's export and backups (names, two levels), to prove a refusal changed nothing."""
    return dexec(NFS_HOST, "sh", "-c", f"cd {lab.nfs_dir_path()} && find . -maxdepth 3 | sort").stdout


def state(lab, ns):
    pvs = sorted(p["metadata"]["name"] for p in lab.items("/api/v1/persistentvolumes")
                 if (p["spec"].get("claimRef") or {}).get("namespace") == ns)
    claims = [c["metadata"]["name"] for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")]
    return tree(lab), pvs, claims


def writes(lab, mark, *names):
    """The API writes since ``mark`` naming the namespaces (their objects, and the PVs a restore names after
    them); dry runs change nothing and are left out. The lab is shared: other writes are others'."""
    return [w for w in lab.lab.api_writes(mark) if "dryRun" not in w
            and any(n in w for n in names)]


def exists(path):
    return dexec(NFS_HOST, "sh", "-c", f"test -e {path} && echo yes || echo no").stdout.strip() == "yes"


def copiers(path):
    """The NFS server's processes with a file open under ``path`` (the module's copy)."""
    script = (f"for p in /proc/[0-9]*; do ls -l $p/fd 2>/dev/null | grep -q -- ' {path}/' && echo ${{p#/proc/}};"
              " done; true")
    return dexec(NFS_HOST, "sh", "-c", script).stdout.split()


def stop_copier_script(partial, manifest, seconds):
    """The NFS server's side of :func:`crash_mid_copy`: for up to ``seconds``, every 20 ms, only python
    processes, SIGSTOP the module's copy (a python process writing ``partial``'s big.bin) where it is,
    so that the kill lands in the middle of the copy whatever the disk's speed. Prints the stopped
    pids, ``done`` when the copy is finished already (``manifest`` there), else nothing."""
    return (f"end=$(($(date +%s)+{seconds})); while [ $(date +%s) -lt $end ]; do"
            f" test -e {manifest} && echo done && exit 0; found=;"
            " for p in $(pgrep python); do"
            f" ls -l /proc/$p/fd 2>/dev/null | grep -q -- ' {partial}/big.bin$' && kill -STOP $p 2>/dev/null"
            " && echo $p && found=1; done; [ -n \"$found\" ] && exit 0; sleep 0.02; done; true")


def crash_mid_copy(bg, partial, manifest, timeout, big_mb=BIG_MB):
    """A crash of the whole run in the middle of a copy into ``partial``: the copier stopped where it is
    (:func:`stop_copier_script`), then the controller ``bg`` and the module's process on the NFS server (a
    docker exec outlives its killed client, as an ssh session would) killed. Returns the copier's pids.
    One watch covers the whole ``timeout`` (seconds): with a watch per few seconds, a loaded machine's
    slow docker exec between two watches let a whole copy pass unseen (test_migrate, 2026-12-07)."""
    watch = subprocess.Popen([DOCKER, "exec", NFS_HOST, "sh", "-c", stop_copier_script(partial, manifest, timeout)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + timeout + 30
        while watch.poll() is None and bg.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        # the run ended (or the watch hung) before the watch did: whatever it found so far is not a stop
        pids = watch.stdout.read().split() if watch.poll() is not None else ["ended"] if bg.poll() is not None else []
    finally:
        watch.kill()  # a no-op once it ended
        watch.wait(timeout=30)
        watch.stdout.close()
    assert pids and pids not in (["done"], ["ended"]), \
        f"{pids}: the copy of {big_mb} MB was not seen under way within {timeout} s: raise BIG_MB"
    os.killpg(bg.pid, signal.SIGKILL)
    bg.finish(timeout=30)
    dexec(NFS_HOST, "kill", "-9", *pids)
    wait_for("the copy process to end", lambda: not copiers(partial), timeout=30, interval=0.5)
    return pids


def test_backup_then_restore_into_another_namespace(lab, ns, player):
    app_ns = lab.new_namespace()
    export = lab.nfs_dir_path("backup")
    root = f"{export}-backups"  # the default: beside the export
    token = deploy_and_write(lab, player, app_ns, extra(lab, ns, app_ns))
    dirs = {}
    for c in lab.items(f"/api/v1/namespaces/{app_ns}/persistentvolumeclaims"):
        dirs[c["metadata"]["name"]] = lab.get(f"/api/v1/persistentvolumes/{c['spec']['volumeName']}")["spec"]["nfs"]["path"]
    dexec(NFS_HOST, "sh", "-c", f"head -c {BIG_MB}M /dev/urandom > {dirs['www-web-0']}/big.bin", timeout=120)
    before = {claim: checksums(lab, d) for claim, d in dirs.items()}
    assert sorted(before) == ["www-web-0", "www-web-1"] and all("owner.txt" in s for s in before.values())
    restored_pvs = []
    try:
        # --- a live backup killed in the middle of web-0's copy: nothing looks finished; the re-run converges
        live = f"{root}/live"
        partial = f"{live}/.www-web-0.partial"
        bg = player.start("playbooks/backup.yml", app="web", backup_name="live", **extra(lab, ns, app_ns))
        crash_mid_copy(bg, partial, f"{live}/www-web-0.manifest.json", timeout=120)
        # never a copy that looks finished without being so: the directory exists exactly with its manifest
        assert exists(f"{live}/www-web-0.manifest.json") == exists(f"{live}/www-web-0")
        assert exists(partial) and not exists(f"{live}/www-web-0") and not exists(f"{live}/www-web-0.manifest.json")
        again = player.play("playbooks/backup.yml", app="web", backup_name="live", **extra(lab, ns, app_ns))
        assert again.rc == 0, again.failure()
        result = again.day2
        assert result["backup"] == live and "www-web-0" in result["copied"], result
        assert not exists(f"{live}/.www-web-0.partial") and not exists(f"{live}/.www-web-1.partial")
        for claim in before:
            manifest = result["manifests"][claim]
            assert manifest["crash_consistent"] is False and manifest["namespace"] == app_ns
            assert manifest["ordinal"] == int(claim[-1]) and manifest["pvc"] == claim and manifest["claim_template"] == "www"
            assert manifest["source_directory"] == dirs[claim] and manifest["statefulset"] == "web"
            assert checksums(lab, f"{live}/{claim}") == before[claim]
        assert result["manifests"]["www-web-0"]["bytes"] > BIG_MB << 20
        same = player.play("playbooks/backup.yml", app="web", backup_name="live", **extra(lab, ns, app_ns))
        assert same.rc == 0 and same.changed_tasks() == [] and same.day2["copied"] == [], same.changed_tasks()

        # --- quiesced: scaled to 0, copied, scaled back; the manifests say crash-consistent
        quiet = player.play("playbooks/backup.yml", app="web", backup_name="quiet", quiesce=True, **extra(lab, ns, app_ns))
        assert quiet.rc == 0, quiet.failure()
        assert quiet.day2["quiesced"] is True
        assert all(m["crash_consistent"] is True for m in quiet.day2["manifests"].values())
        assert lab.get(f"/apis/apps/v1/namespaces/{app_ns}/statefulsets/web")["spec"]["replicas"] == 2
        backup = f"{root}/quiet"
        kept = {claim: checksums(lab, f"{backup}/{claim}") for claim in before}
        assert kept == before

        # --- the application's namespace goes
        lab.http("DELETE", f"/api/v1/namespaces/{app_ns}")
        wait_for("the namespace to go", lambda: lab.get(f"/api/v1/namespaces/{app_ns}") is None, timeout=120, interval=2)

        # --- refusals, each before any change
        dexec(NFS_HOST, "sh", "-c", f"mkdir -p {root}/bad-sum {root}/bad-manifest && cp -a {backup}/www-web-1"
                                    f" {backup}/www-web-1.manifest.json {root}/bad-sum/ && echo x >> {root}/bad-sum/www-web-1/owner.txt"
                                    f" && cp -a {backup}/www-web-1 {root}/bad-manifest/")
        lab.create(f"/api/v1/namespaces/{ns}/persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "www-web-0"},
            "spec": {"storageClassName": "", "accessModes": ["ReadWriteOnce"], "volumeName": f"other-{ns}",
                     "resources": {"requests": {"storage": "1Mi"}}}})
        common = dict(app="web", source="backup", to_namespace=ns, **extra(lab, ns, app_ns))
        refusals = [
            ({"backup": f"{root}/nonexistent"}, f"backup={root}/nonexistent is missing: not a directory of"),
            ({"backup": backup, "ordinals": [1, 5]},
             f"claim {ns}/www-web-5: the backup has no copy of ordinal 5 (claim template www); it holds www 0, www 1"),
            ({"backup": f"{root}/bad-manifest", "ordinals": [1]},
             f"claim {ns}/www-web-1: the backup's copy {root}/bad-manifest/www-web-1 has no manifest"),
            ({"backup": f"{root}/bad-sum", "ordinals": [1]}, f"src {root}/bad-sum/www-web-1 does not match its manifest"),
            ({"backup": backup}, f"claim {ns}/www-web-0: exists and is bound to another volume, other-{ns}"),
        ]
        for more, message in refusals:
            unchanged = state(lab, ns)
            mark = lab.lab.audit_mark()
            run = player.play("playbooks/restore.yml", **common, **more)
            assert run.rc != 0 and message in run.failure(), (more, run.failure())
            # the plan's check-mode tasks report what they would do (API dry runs); nothing else may change
            assert state(lab, ns) == unchanged, more
            assert [t for t in run.changed_tasks() if "nothing written" not in t] == [], (more, run.changed_tasks())
            assert writes(lab, mark, ns, app_ns) == [], more
        lab.http("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-0")
        wait_for("the stand-in claim to go",
                 lambda: lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-0") is None, timeout=60, interval=1)

        # --- the restore into ns: each claim a fresh copy of the backup, bound; the backup intact
        done = player.play("playbooks/restore.yml", backup=backup, **common)
        assert done.rc == 0, done.failure()
        result = done.day2
        assert result["restored"] == ["www-web-0", "www-web-1"] and result["proof"].startswith("pending"), result
        for row in result["claims"]:
            restored_pvs.append(row["pv"])
            assert row["namespace"] == ns and row["directory"].startswith(f"restored-{ns}-{row['claim']}-backup-")
            assert checksums(lab, row["nfs_path"]) == before[row["claim"]]
            pvc = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{row['claim']}")
            assert pvc["spec"]["volumeName"] == row["pv"] and pvc["status"]["phase"] == "Bound"
        assert {claim: checksums(lab, f"{backup}/{claim}") for claim in before} == kept

        # --- deployed there: the same data served by the same ordinals; a re-run proves it and changes nothing
        moved = extra(lab, ns, ns)
        deployed = player.play("site.yml", tags=TAGS, **moved)
        assert deployed.rc == 0, deployed.failure()
        for i in (0, 1):
            out = lab.lab.kubectl("exec", "-n", ns, f"web-{i}", "--", "cat", "/usr/share/nginx/html/owner.txt").stdout
            assert out == f"web-{i} {token}\n"
        proof = player.play("playbooks/restore.yml", app="web", source="backup", backup=backup, **moved)
        assert proof.rc == 0, proof.failure()
        assert proof.changed_tasks() == [] and proof.day2["proof"].startswith("proved"), proof.changed_tasks()
        assert all(d["same"] for d in proof.day2["checksums_after"].values()), proof.day2["checksums_after"]
    finally:
        remove_restored(lab, ns, restored_pvs)
        dexec(NFS_HOST, "rm", "-rf", root)
