"""stateful.nfs.nfs_provisioner and stateful.nfs.statefulset_info against the test double.

No NFS server is started here: the double's provisioner emulation cannot reach 127.0.0.1's
(closed) NFS port, so claims of the class stay Pending with a ProvisioningFailed event, which
is what the timeout test below needs. Bound claims come from statically created PVs.
"""
from __future__ import annotations

from .conftest import static_storage, sts_args, vct, wait_until


def _prov_args(ns, **over):
    a = {"name": "nfs-prov", "namespace": ns, "provisioner_name": f"example.com/{ns}",
         "storage_class_name": f"nfs-{ns}", "nfs_server": "127.0.0.1", "nfs_path": "/srv/nfs",
         "wait": True, "wait_timeout": 20}
    a.update(over)
    return a


def test_provisioner_apply_content_reapply_no_write_and_absent(lab, ns, run):
    args = _prov_args(ns)
    res = run("nfs_provisioner", args, diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    kinds = [(o["kind"], o["action"]) for o in res["objects"]]
    for kind in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment",
                 "StorageClass"):
        assert (kind, "create") in kinds, kinds
    assert res["diff"], "no diff with --diff"

    dep = lab.get(f"/apis/apps/v1/namespaces/{ns}/deployments/nfs-prov")
    assert dep["spec"]["strategy"]["type"] == "Recreate"
    c = dep["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env == {"PROVISIONER_NAME": f"example.com/{ns}", "NFS_SERVER": "127.0.0.1", "NFS_PATH": "/srv/nfs"}
    vol = next(v for v in dep["spec"]["template"]["spec"]["volumes"] if "nfs" in v)
    assert vol["nfs"] == {"server": "127.0.0.1", "path": "/srv/nfs"}
    assert any(m["mountPath"] == "/persistentvolumes" and m["name"] == vol["name"] for m in c["volumeMounts"])
    assert dep["status"]["availableReplicas"] >= 1  # the module waited for Available
    sc = lab.get(f"/apis/storage.k8s.io/v1/storageclasses/nfs-{ns}")
    assert sc["provisioner"] == f"example.com/{ns}"
    cr_name = next(o["name"] for o in res["objects"] if o["kind"] == "ClusterRole")
    rules = lab.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{cr_name}")["rules"]
    pv_rule = next(r for r in rules if "persistentvolumes" in r["resources"])
    assert {"get", "list", "watch", "create", "delete"} <= set(pv_rule["verbs"])

    lab.reset_stats()
    again = run("nfs_provisioner", args)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False
    assert lab.write_requests() == {}, lab.stats()

    gone = run("nfs_provisioner", {**args, "state": "absent"}, via="inproc")
    assert not gone.get("failed"), gone.get("msg")
    assert gone["changed"] is True
    wait_until(lambda: lab.get(f"/apis/apps/v1/namespaces/{ns}/deployments/nfs-prov") is None, timeout=10,
               what="provisioner Deployment deleted")
    assert lab.get(f"/apis/storage.k8s.io/v1/storageclasses/nfs-{ns}") is None
    assert lab.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{cr_name}") is None


def test_timeout_with_unreachable_nfs_names_the_provisioning_failure(lab, ns, run):
    assert not run("nfs_provisioner", _prov_args(ns), via="inproc").get("failed")
    res = run("statefulset", sts_args(ns, replicas=1, volume_claim_templates=vct(f"nfs-{ns}"), wait=True,
                                      wait_timeout=4), via="inproc")
    assert res.get("failed") is True
    msg = res["msg"]
    assert "web-0" in msg and "data-web-0" in msg, msg
    assert "ProvisioningFailed" in msg, msg
    assert "127.0.0.1" in msg, msg  # the NFS error names the server it could not reach
    pvc = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-web-0")
    assert pvc["status"]["phase"] == "Pending"


def test_statefulset_info_identity_table(lab, ns, run):
    sc = static_storage(lab, ns, 2, nfs=True)
    assert not run("statefulset", sts_args(ns, replicas=2, volume_claim_templates=vct(sc), wait=True,
                                           wait_timeout=30), via="inproc").get("failed")
    lab.reset_stats()
    res = run("statefulset_info", {"name": "web", "namespace": ns})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False
    assert lab.write_requests() == {}, lab.stats()
    assert res["exists"] is True and res["missing_ordinals"] == []
    rows = res["pods"]
    assert [r["ordinal"] for r in rows] == [0, 1]
    pods = {p["metadata"]["name"]: p for p in lab.items(f"/api/v1/namespaces/{ns}/pods", "app=web")}
    pvs = set()
    for i, r in enumerate(rows):
        pod = pods[f"web-{i}"]
        assert (r["name"], r["hostname"], r["subdomain"]) == (f"web-{i}", f"web-{i}", "web")
        assert r["dns_name"] == f"web-{i}.web.{ns}.svc.cluster.local"
        assert r["ready"] is True and r["phase"] == "Running"
        assert (r["uid"], r["pod_ip"], r["node"]) == (pod["metadata"]["uid"], pod["status"]["podIP"],
                                                      pod["spec"]["nodeName"])
        assert r["pvc"] == f"data-web-{i}" and r["storage_class"] == sc
        pvc = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-web-{i}")
        assert r["pv"] == pvc["spec"]["volumeName"]
        pv = lab.get(f"/api/v1/persistentvolumes/{r['pv']}")
        assert (r["nfs_server"], r["nfs_path"]) == (pv["spec"]["nfs"]["server"], pv["spec"]["nfs"]["path"])
        pvs.add(r["pv"])
    assert len(pvs) == 2


def test_timeout_with_failing_nfs_mount_names_failedmount_and_the_nfs_error(tmp_path, capsys, monkeypatch):
    """A second double whose fake kubelet really MOUNTs NFS volumes (check_nfs_mounts=True): a PV on
    127.0.0.1, where no NFS server listens, keeps the pod ContainerCreating with FailedMount."""
    from .conftest import ModuleRunner, _start_double
    lab2 = _start_double(tmp_path / "double2", check_nfs_mounts=True)
    try:
        ns = "it-mount"
        lab2.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        lab2.create("/apis/storage.k8s.io/v1/storageclasses", {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "static"},
            "provisioner": "kubernetes.io/no-provisioner"})
        lab2.create("/api/v1/persistentvolumes", {"apiVersion": "v1", "kind": "PersistentVolume",
                                                  "metadata": {"name": "pv-mount-0"}, "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "static",
            "nfs": {"server": "127.0.0.1", "path": "/srv/nfs/nowhere"}}})
        run2 = ModuleRunner(lab2, tmp_path, capsys, monkeypatch)
        res = run2("statefulset", sts_args(ns, replicas=1, volume_claim_templates=vct("static"), wait=True,
                                           wait_timeout=5), via="inproc")
        assert res.get("failed") is True
        msg = res["msg"]
        assert "web-0" in msg and "FailedMount" in msg, msg
        assert "127.0.0.1:/srv/nfs/nowhere" in msg, msg
        assert "ContainerCreating" in msg or "Pending" in msg, msg
    finally:
        lab2.double.stop(timeout=10)
    assert not lab2.double.thread.is_alive()
