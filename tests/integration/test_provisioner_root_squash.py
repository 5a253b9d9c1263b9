"""A class whose export squashes root, on a root-owned 0755 directory (issue 24, item 7): the
provisioner (root in its container) could not make claims' directories, and 0.3.0 found out only
when a StatefulSet's wait timed out. The nfs_provisioner role now proves from a Kubernetes node,
before any Kubernetes change, that root can make a directory there (stateful.nfs.nfs_probe,
create_directory), and refuses with the fix named; with the directory fixed the same run deploys.

The lab's export is not squashed, so the test adds an export of its own to the lab's NFS-Ganesha
(an EXPORT block after the nfs_server role's, a directory of the session, Squash = Root_Squash for
the nodes), restarts Ganesha, and puts the configuration back byte for byte afterwards (restarted
again, serving before the test ends). A provisioner deployed there anyway fails its claim, and binds
the same claim once the directory is fixed, without a restart of its pod."""
from __future__ import annotations

import base64

from tests.support.lab import NFS_HOST, NODES, address, dexec
from tests.support.waiting import wait_for

CONF = "/etc/ganesha/ganesha.conf"
EXPORT_ID = 24007  # far above the role's ids (1, 2, ...)


def _squashed_export(path):
    clients = ", ".join(address(node) for node in NODES)
    return f"""
# test_provisioner_root_squash: removed again by the test
EXPORT {{
    Export_Id = {EXPORT_ID};
    Path = "{path}";
    Pseudo = "{path}";
    Protocols = 3, 4;
    Transports = TCP;
    SecType = sys;
    Access_Type = None;
    Squash = Root_Squash;
    FSAL {{
        Name = VFS;
    }}
    CLIENT {{
        Clients = {clients};
        Access_Type = RW;
        Squash = Root_Squash;
        Anonymous_Uid = 65534;
        Anonymous_Gid = 65534;
    }}
}}
"""


def _conf():
    return base64.b64decode(dexec(NFS_HOST, "base64", "-w0", CONF).stdout)


def _write_conf(data):
    dexec(NFS_HOST, "sh", "-c", f'base64 -d > {CONF}.new && mv {CONF}.new {CONF}',
          data=base64.b64encode(data))


def _restart_ganesha():
    dexec(NFS_HOST, "systemctl", "restart", "nfs-ganesha", timeout=120)
    wait_for("NFS-Ganesha serving on port 2049", lambda: dexec(
        NFS_HOST, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/2049", check=False).returncode == 0,
        timeout=60, interval=1)


def _classes(lab, ns, path):
    return {"nfs_provisioner_classes": [{"storage_class_name": f"{ns}-squash", "nfs_path": path}],
            "nfs_provisioner_namespace": ns, "nfs_provisioner_nfs_server": lab.nfs_server}


def test_a_root_squashed_root_owned_0755_directory_is_refused_before_any_kubernetes_change(lab, ns, player, run):
    module = run
    # as site.yml runs it first: the NFS client (libnfs, which the check uses) on every node
    prepared = player.play("site.yml", tags="nfs_client")
    assert prepared.rc == 0, prepared.failure()
    path = lab.nfs_dir("squash")
    dexec(NFS_HOST, "sh", "-c", f"chown 0:0 {path} && chmod 0755 {path}")
    saved = _conf()
    assert f"Export_Id = {EXPORT_ID};".encode() not in saved
    _write_conf(saved + _squashed_export(path).encode())
    try:
        _restart_ganesha()
        since = lab.lab.audit_mark()
        run = player.play("site.yml", tags="provisioner", **_classes(lab, ns, path))
        assert run.rc != 0
        message = run.failure()
        assert "Nothing was sent to the API" in message and f"{ns}-squash" in message, message
        assert "root_squashed" in message and f"chown 65534:65534 {path}" in message, message
        names = [t["task"]["name"] for t in run.tasks()]
        assert not [n for n in names if "nfs_provisioner : Apply" in n], names
        assert lab.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{ns}-squash-provisioner") is None
        assert lab.get(f"/apis/storage.k8s.io/v1/storageclasses/{ns}-squash") is None
        assert lab.get(f"/api/v1/namespaces/{ns}/serviceaccounts/{ns}-squash-provisioner") is None
        assert [w for w in lab.lab.api_writes(since) if ns in w] == []
        # what the check prevents, and what follows the fix: a provisioner deployed anyway (the module,
        # without the role's check) cannot make a claim's directory; once the directory is fixed it
        # binds the same claim without a restart of its pod (the lab's provisioner retries at most a
        # minute apart; before, the claim stayed Pending until the pod was deleted)
        direct = f"{ns}-direct"
        res = module("nfs_provisioner", {"name": direct, "namespace": ns, "provisioner_name": f"example.com/{direct}",
                                      "storage_class_name": direct, "nfs_server": lab.nfs_server, "nfs_path": path,
                                      "image": lab.image("provisioner"), "image_pull_policy": "IfNotPresent",
                                      "wait": True, "wait_timeout": 90}, via="inproc")
        assert not res.get("failed"), res.get("msg")
        lab.create(f"/api/v1/namespaces/{ns}/persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data-0", "namespace": ns},
            "spec": {"storageClassName": direct, "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Mi"}}}})

        def failures():
            events = lab.items(f"/api/v1/namespaces/{ns}/events?fieldSelector=involvedObject.name%3Ddata-0")
            return [e for e in events if e.get("reason") == "ProvisioningFailed"]
        wait_for("the claim's provisioning failed (root squashed)", failures, timeout=60, interval=1)
        assert lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-0")["status"]["phase"] == "Pending"
        pods = {p["metadata"]["uid"]: p for p in lab.items(f"/api/v1/namespaces/{ns}/pods")
                if p["metadata"]["name"].startswith(direct)}
        assert len(pods) == 1, pods

        # the fix the message names: the anonymous user owns the directory
        dexec(NFS_HOST, "chown", "65534:65534", path)
        wait_for("the same claim Bound without a restart of the provisioner", lambda: lab.get(
            f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-0")["status"]["phase"] == "Bound",
            timeout=120, interval=1)
        after = {p["metadata"]["uid"]: p for p in lab.items(f"/api/v1/namespaces/{ns}/pods")
                 if p["metadata"]["name"].startswith(direct)}
        assert set(after) == set(pods), "the provisioner's pod was replaced"
        assert [c["restartCount"] for p in after.values() for c in p["status"]["containerStatuses"]] == [0]

        # and the role's run now deploys and proves its class by a claim
        again = player.play("site.yml", tags="provisioner", **_classes(lab, ns, path))
        assert again.rc == 0, again.failure()
        proof = again.results("Publish the result (nfs_provisioner_result)")
        assert proof, again.tasks()
        assert lab.get(f"/apis/storage.k8s.io/v1/storageclasses/{ns}-squash")["provisioner"] == f"stateful.nfs/{ns}-squash"
    finally:
        _write_conf(saved)
        _restart_ganesha()
        assert _conf() == saved
