"""playbooks/restore.yml on the lab: an application on an archiving class writes per-pod data, is
torn down with purge (its claims deleted, their directories archived by the provisioner), is
restored and deployed again, and each pod has its own old data (same checksums on the NFS server,
its own file served). Each refusal changes nothing (NFS listing, PVs and claims the same), and a
second run changes nothing and proves the running application."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.support.lab import NFS_HOST, dexec
from tests.support.waiting import wait_for

# the provisioner stage probes each class's export from a node: the nodes need the NFS client
pytestmark = pytest.mark.usefixtures("nfs_clients")

TAGS = "provisioner,statefulset"


def extra(lab, ns, tmp_path, app_check=None, **more):
    web = {"name": "web", "namespace": ns, "replicas": 2, "labels": {"app": "web"}, "image": lab.nginx,
           "ports": [{"name": "web", "container_port": 80}],
           "volume_claim_templates": [{"name": "www", "storage_class_name": f"{ns}-data", "size": "1Mi",
                                       "mount_path": "/usr/share/nginx/html"}]}
    verify = {"dns_timeout": 30}
    if app_check:
        verify["app_check"] = app_check
    return {"nfs_provisioner_classes": [{"storage_class_name": f"{ns}-data", "archive_on_delete": True}],
            "nfs_provisioner_namespace": ns, "nfs_provisioner_nfs_server": lab.nfs_server,
            "nfs_provisioner_nfs_path": lab.nfs_dir("restore"),
            "statefulset_applications": [{"name": "web", "statefulset": web, "verify": verify}],
            "statefulset_report_dir": str(tmp_path / "reports"), **more}


# each pod serves its own file: the line names the pod
OWN_FILE = {"http_get": {"path": "/owner.txt", "port": 80, "status": 200, "body": "^{pod} "}}


def listing(lab):
    """The export's tree of directories (names and the index), to prove a refusal changed nothing."""
    return dexec(NFS_HOST, "sh", "-c", f"cd {lab.nfs_dir_path('restore')} && find . -maxdepth 2 | sort").stdout


def state(lab, ns):
    pvs = sorted(p["metadata"]["name"] for p in lab.items("/api/v1/persistentvolumes")
                 if p["metadata"]["name"].startswith("restored-")
                 and (p["spec"].get("claimRef") or {}).get("namespace") == ns)
    claims = [c["metadata"]["name"] for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")]
    return listing(lab), pvs, claims


def checksums(lab, directory):
    return dexec(NFS_HOST, "sh", "-c", f"cd {directory} && find . -type f ! -name .stateful-nfs-verify"
                                       " -exec sha256sum {} + | sort -k2").stdout


def bound_directories(lab, ns):
    """Each claim of ``ns`` that has a volume: the NFS path of its PV."""
    out = {}
    for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"):
        volume = c["spec"].get("volumeName")
        if volume:
            out[c["metadata"]["name"]] = lab.get(f"/api/v1/persistentvolumes/{volume}")["spec"]["nfs"]["path"]
    return out


def deploy_and_write(lab, player, ns, extra_vars):
    """site.yml deploys web (2 pods) into ``ns``; each pod writes its own owner.txt and 256 KiB of random
    data. Returns the token in the owner lines (``web-<i> <token>``)."""
    first = player.play("site.yml", tags=TAGS, **extra_vars)
    assert first.rc == 0, first.failure()
    token = uuid.uuid4().hex[:8]
    for i in (0, 1):
        lab.lab.kubectl("exec", "-n", ns, f"web-{i}", "--", "sh", "-c",
                        f"cd /usr/share/nginx/html && echo 'web-{i} {token}' > owner.txt && mkdir -p sub &&"
                        f" head -c 262144 /dev/urandom > sub/data.bin")
    return token


def remove_restored(lab, ns, pvs, statefulset="web", claims=("www-web-0", "www-web-1")):
    """What a restore test made: the StatefulSet, its claims and the restored PVs ``pvs`` (reclaim policy Retain)."""
    lab.http("DELETE", f"/apis/apps/v1/namespaces/{ns}/statefulsets/{statefulset}")
    for c in claims:
        lab.http("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{c}")
    for name in pvs:
        lab.http("DELETE", f"/api/v1/persistentvolumes/{name}")


def test_restore_archived_data_into_the_same_ordinals(lab, ns, tmp_path, player):
    export = lab.nfs_dir_path("restore")
    token = deploy_and_write(lab, player, ns, extra(lab, ns, tmp_path))
    before = {}
    for c in lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"):
        pv = lab.get(f"/api/v1/persistentvolumes/{c['spec']['volumeName']}")
        before[c["metadata"]["name"]] = (pv["metadata"]["name"], checksums(lab, pv["spec"]["nfs"]["path"]))
    assert sorted(before) == ["www-web-0", "www-web-1"] and all("owner.txt" in s for _, s in before.values())

    down = player.play("playbooks/teardown.yml", app="web", purge=True, confirm_purge="web", **extra(lab, ns, tmp_path))
    assert down.rc == 0, down.failure()
    archived = {claim: f"archived-{ns}-{claim}-{pv}" for claim, (pv, _) in before.items()}
    wait_for("the provisioner to archive both directories",
             lambda: all(a in listing(lab) for a in archived.values()), timeout=60, interval=1)
    restored_pvs = [f"restored-{pv}" for pv, _ in before.values()]
    try:
        # --- refusals, each before any change
        fake = f"archived-{ns}-www-web-1-pvc-{uuid.uuid4()}"
        dexec(NFS_HOST, "mkdir", f"{export}/{fake}")
        lab.create(f"/api/v1/namespaces/{ns}/persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "www-web-0"},
            "spec": {"storageClassName": "", "accessModes": ["ReadWriteOnce"], "volumeName": f"other-{ns}",
                     "resources": {"requests": {"storage": "1Mi"}}}})
        unchanged = state(lab, ns)
        run = player.play("playbooks/restore.yml", app="web", ordinals=[0, 1, 5], **extra(lab, ns, tmp_path))
        message = run.failure()
        assert run.rc != 0
        assert f"claim {ns}/www-web-0: exists and is bound to another volume, other-{ns}" in message, message
        assert f"claim {ns}/www-web-1: ambiguous: 2 archives in {export}: {archived['www-web-1']}, {fake}" in message \
            or f"claim {ns}/www-web-1: ambiguous: 2 archives in {export}: {fake}, {archived['www-web-1']}" in message, message
        assert f"claim {ns}/www-web-5: no archive found: no archived-{ns}-www-web-5-<pv> in" in message, message
        assert state(lab, ns) == unchanged and run.changed_tasks() == []
        lab.http("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-0")
        dexec(NFS_HOST, "rmdir", f"{export}/{fake}")

        unchanged = state(lab, ns)
        run = player.play("playbooks/restore.yml", app="web", ordinals=[0], archive=archived["www-web-1"],
                          **extra(lab, ns, tmp_path))
        assert run.rc != 0
        assert (f"archive '{archived['www-web-1']}' belongs to another claim ({ns}/www-web-1), not {ns}/www-web-0"
                in run.failure()), run.failure()
        assert "-e force_claim_mismatch=true" in run.failure()
        assert state(lab, ns) == unchanged and run.changed_tasks() == []

        lab.create(f"/api/v1/namespaces/{ns}/pods", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0"},
            "spec": {"containers": [{"name": "c", "image": lab.nginx, "imagePullPolicy": "IfNotPresent"}],
                     "terminationGracePeriodSeconds": 0}})
        unchanged = state(lab, ns)
        run = player.play("playbooks/restore.yml", app="web", **extra(lab, ns, tmp_path))
        assert run.rc != 0
        assert f"pod {ns}/web-0 exists" in run.failure() and "-e quiesce=true" in run.failure(), run.failure()
        assert state(lab, ns) == unchanged and run.changed_tasks() == []
        lab.http("DELETE", f"/api/v1/namespaces/{ns}/pods/web-0")
        wait_for("the stand-in pod to go", lambda: lab.get(f"/api/v1/namespaces/{ns}/pods/web-0") is None,
                 timeout=60, interval=1)

        # --- check mode: the plan and the API's dry runs, nothing written (NFS server or API)
        unchanged = state(lab, ns)
        dry = player.play("playbooks/restore.yml", check=True, app="web", **extra(lab, ns, tmp_path))
        assert dry.rc == 0, dry.failure()
        assert state(lab, ns) == unchanged and dry.day2["proof"].startswith("pending")

        # --- the restore, before the application is deployed again
        done = player.play("playbooks/restore.yml", app="web", **extra(lab, ns, tmp_path, app_check=OWN_FILE))
        assert done.rc == 0, done.failure()
        result = done.day2
        assert result["restored"] == ["www-web-0", "www-web-1"] and result["proof"].startswith("pending")
        for claim, (pv, sums) in before.items():
            target = f"{export}/restored-{ns}-{claim}-{pv}"
            assert archived[claim] not in listing(lab) and f"restored-{ns}-{claim}-{pv}" in listing(lab)
            assert result["checksums_before"][target]["recorded"] is True
            assert checksums(lab, target) == sums
            restored = lab.get(f"/api/v1/persistentvolumes/restored-{pv}")
            assert restored["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
            assert restored["spec"]["nfs"]["path"] == target
            pvc = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim}")
            assert pvc["spec"]["volumeName"] == f"restored-{pv}" and pvc["status"]["phase"] == "Bound"

        # --- deployed again: each pod has its own old data
        again = player.play("site.yml", tags=TAGS, **extra(lab, ns, tmp_path, app_check=OWN_FILE))
        assert again.rc == 0, again.failure()
        for i in (0, 1):
            out = lab.lab.kubectl("exec", "-n", ns, f"web-{i}", "--", "cat", "/usr/share/nginx/html/owner.txt").stdout
            assert out == f"web-{i} {token}\n"

        # --- a second run changes nothing and proves the running application
        proof = player.play("playbooks/restore.yml", app="web", **extra(lab, ns, tmp_path, app_check=OWN_FILE))
        assert proof.rc == 0, proof.failure()
        assert proof.changed_tasks() == [], proof.changed_tasks()
        result = proof.day2
        assert result["restored"] == [] and result["proof"].startswith("proved")
        assert {c["claim"]: c["action"] for c in result["claims"]} == {"www-web-0": "unchanged", "www-web-1": "unchanged"}
        after = result["checksums_after"]
        assert len(after) == 2 and all(d["same"] for d in after.values()), json.dumps(after)
        assert all(".stateful-nfs-verify" in d["excluded"] for d in after.values())

        # --- while it runs: a claim deleted under its pod (kept Terminating) comes back only with quiesce
        lab.lab.kubectl("delete", "pvc", "-n", ns, "www-web-1", "--wait=false")
        run = player.play("playbooks/restore.yml", app="web", ordinals=[1], **extra(lab, ns, tmp_path))
        assert run.rc != 0 and f"pod {ns}/web-1 exists (phase Running)" in run.failure(), run.failure()
        assert "-e quiesce=true" in run.failure() and run.changed_tasks() == []
        quiesced = player.play("playbooks/restore.yml", app="web", ordinals=[1], quiesce=True,
                               **extra(lab, ns, tmp_path, app_check=OWN_FILE))
        assert quiesced.rc == 0, quiesced.failure()
        result = quiesced.day2
        assert result["quiesced"] == ["web-1"] and result["restored"] == ["www-web-1"], result
        assert result["proof"].startswith("proved") and [d["same"] for d in result["checksums_after"].values()] == [True]
        pv1 = before["www-web-1"][0]
        assert lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-1")["spec"]["volumeName"] == f"restored-{pv1}"
        assert lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/web")["spec"]["replicas"] == 2
        out = lab.lab.kubectl("exec", "-n", ns, "web-1", "--", "cat", "/usr/share/nginx/html/owner.txt").stdout
        assert out == f"web-1 {token}\n"
    finally:
        remove_restored(lab, ns, restored_pvs)


def test_restore_a_released_volume_in_place(lab, ns, tmp_path, player):
    """-e source=retained: a Released PV (reclaim policy Retain) whose claimRef names the claim is bound
    to the claim again, in place (no second PV on its directory); its checksum list is kept; a re-run
    changes nothing."""
    sc = f"static-{ns}"
    lab.create("/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": sc},
        "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Retain", "volumeBindingMode": "Immediate"})
    directory = lab.nfs_dir(f"{ns}-kept")
    dexec(NFS_HOST, "sh", "-c", f"echo kept > {directory}/owner.txt")
    pv = f"kept-{ns}"
    try:
        lab.create("/api/v1/persistentvolumes", {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv},
                                                 "spec": {"capacity": {"storage": "1Mi"}, "accessModes": ["ReadWriteOnce"],
                                                          "storageClassName": sc, "persistentVolumeReclaimPolicy": "Retain",
                                                          "nfs": {"server": lab.nfs_server, "path": directory},
                                                          "claimRef": {"namespace": ns, "name": "www-web-0",
                                                                       "uid": str(uuid.uuid4())}}})
        wait_for("the PV to be Released (its claim is gone)",
                 lambda: (lab.get(f"/api/v1/persistentvolumes/{pv}").get("status") or {}).get("phase") == "Released",
                 timeout=60, interval=1)
        web = {"name": "web", "namespace": ns, "replicas": 1, "labels": {"app": "web"}, "image": lab.nginx,
               "volume_claim_templates": [{"name": "www", "storage_class_name": sc, "size": "1Mi",
                                           "mount_path": "/usr/share/nginx/html"}]}
        apps = {"statefulset_applications": [{"name": "web", "statefulset": web}]}
        done = player.play("playbooks/restore.yml", app="web", source="retained", **apps)
        assert done.rc == 0, done.failure()
        assert done.day2["restored"] == ["www-web-0"] and done.day2["claims"][0]["pv"] == pv
        assert done.day2["checksums_before"][directory]["files"] == 1
        claim = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-0")
        assert claim["spec"]["volumeName"] == pv and claim["status"]["phase"] == "Bound"
        bound = lab.get(f"/api/v1/persistentvolumes/{pv}")
        assert bound["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"] and bound["spec"]["nfs"]["path"] == directory
        again = player.play("playbooks/restore.yml", app="web", source="retained", **apps)
        assert again.rc == 0, again.failure()
        assert again.changed_tasks() == [] and again.day2["restored"] == []
    finally:
        lab.http("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/www-web-0")
        lab.http("DELETE", f"/api/v1/persistentvolumes/{pv}")
        lab.http("DELETE", f"/apis/storage.k8s.io/v1/storageclasses/{sc}")
