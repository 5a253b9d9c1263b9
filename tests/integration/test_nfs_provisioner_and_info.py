"""stateful.nfs.nfs_provisioner and stateful.nfs.statefulset_info against the lab cluster.

The provisioner is the lab's (images.json "provisioner", built from the upstream library) on a
directory of the session on the lab's NFS export. Bound claims for statefulset_info come from
static NFS PVs. The failure tests make real failures: a regular file where the provisioner must
create a claim's directory (ProvisioningFailed), and a volume on an address where no NFS server
listens (FailedMount from kubelet's mount).
"""
from __future__ import annotations

from tests.support.lab import NFS_HOST, dexec
from tests.support.waiting import wait_for

from .conftest import ROLLOUT, event_seen, static_storage, sts_args, vct


def _prov_args(lab, ns, **over):
    a = {"name": f"prov-{ns}", "namespace": ns, "provisioner_name": f"example.com/{ns}",
         "storage_class_name": f"nfs-{ns}", "nfs_server": lab.nfs_server, "nfs_path": lab.nfs_dir(ns),
         "image": lab.image("provisioner"), "image_pull_policy": "IfNotPresent",
         "wait": True, "wait_timeout": ROLLOUT}
    a.update(over)
    return a


def test_provisioner_apply_content_reapply_no_write_and_absent(lab, ns, run):
    args = _prov_args(lab, ns)
    name = args["name"]
    res = run("nfs_provisioner", args, diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    kinds = [(o["kind"], o["action"]) for o in res["objects"]]
    for kind in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment",
                 "StorageClass"):
        assert (kind, "create") in kinds, kinds
    assert res["diff"], "no diff with --diff"

    dep = lab.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")
    assert dep["spec"]["strategy"]["type"] == "Recreate"
    c = dep["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env == {"PROVISIONER_NAME": f"example.com/{ns}", "NFS_SERVER": lab.nfs_server, "NFS_PATH": args["nfs_path"]}
    vol = next(v for v in dep["spec"]["template"]["spec"]["volumes"] if "nfs" in v)
    assert vol["nfs"] == {"server": lab.nfs_server, "path": args["nfs_path"]}
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
    wait_for("provisioner Deployment deleted",
             lambda: lab.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}") is None, timeout=ROLLOUT)
    assert lab.get(f"/apis/storage.k8s.io/v1/storageclasses/nfs-{ns}") is None
    assert lab.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{cr_name}") is None


def test_timeout_with_failing_provisioning_names_the_provisioning_failure(lab, ns, run):
    """The claim's directory cannot be made: a regular file sits where path_pattern puts it."""
    args = _prov_args(lab, ns, path_pattern="${.PVC.namespace}/${.PVC.name}")
    dexec(NFS_HOST, "touch", f"{args['nfs_path']}/{ns}")
    assert not run("nfs_provisioner", args, via="inproc").get("failed")
    sts = sts_args(lab, ns, replicas=1, volume_claim_templates=vct(f"nfs-{ns}"))
    assert not run("statefulset", {**sts, "wait": False}, via="inproc").get("failed")
    event_seen(lab, ns, "PersistentVolumeClaim", "data-web-0", "ProvisioningFailed")
    res = run("statefulset", {**sts, "wait": True, "wait_timeout": 12}, via="inproc")
    assert res.get("failed") is True
    msg = res["msg"]
    assert "web-0" in msg and "data-web-0" in msg, msg
    assert "ProvisioningFailed" in msg, msg
    # the provisioner's error names the directory it could not make on the export
    assert f"/persistentvolumes/{ns}" in msg and "not a directory" in msg, msg
    pvc = lab.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data-web-0")
    assert pvc["status"]["phase"] == "Pending"


def test_statefulset_info_identity_table(lab, ns, run):
    sc = static_storage(lab, ns, 2)
    assert not run("statefulset", sts_args(lab, ns, replicas=2, volume_claim_templates=vct(sc), wait=True,
                                           wait_timeout=ROLLOUT), via="inproc").get("failed")
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


def test_statefulset_info_http_get_reads_each_pods_page_through_the_pod_proxy(lab, ns, run):
    sc = static_storage(lab, ns, 2)
    assert not run("statefulset", sts_args(lab, ns, replicas=2, volume_claim_templates=vct(sc), wait=True,
                                           wait_timeout=ROLLOUT), via="inproc").get("failed")
    rows = run("statefulset_info", {"name": "web", "namespace": ns})["pods"]
    for r in rows:
        # written on the NFS server's own file system; nginx reads it through the pod's NFS volume
        dexec(NFS_HOST, "sh", "-c", 'cat > "$1/index.html"', "-", r["nfs_path"], data=f"page of {r['name']}\n".encode())
    lab.reset_stats()
    res = run("statefulset_info", {"name": "web", "namespace": ns, "http_get": {"port": 80, "path": "/index.html"}})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False and lab.write_requests() == {}, lab.stats()
    for r in res["pods"]:
        assert r["http_get"] == {"url": f"/api/v1/namespaces/{ns}/pods/{r['name']}:80/proxy/index.html",
                                 "status": 200, "body": f"page of {r['name']}\n", "error": None}
    # a named port (the container's "web") and a page that is not there: the pod's 404, in the row
    res = run("statefulset_info", {"name": "web", "namespace": ns, "http_get": {"port": "web", "path": "/none.html"}})
    assert not res.get("failed"), res.get("msg")
    for r in res["pods"]:
        assert r["http_get"]["status"] == 404 and r["http_get"]["body"] is None, r["http_get"]
        assert "/none.html" in r["http_get"]["error"], r["http_get"]


def test_timeout_with_failing_nfs_mount_names_failedmount_and_the_nfs_error(lab, ns, run):
    """A PV on 127.0.0.1, where no NFS server listens on the node: kubelet's mount fails and the
    pod stays ContainerCreating with FailedMount."""
    lab.create("/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": f"static-{ns}"},
        "provisioner": "kubernetes.io/no-provisioner"})
    lab.create("/api/v1/persistentvolumes", {"apiVersion": "v1", "kind": "PersistentVolume",
                                             "metadata": {"name": f"pv-{ns}-mount"}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": f"static-{ns}",
        "nfs": {"server": "127.0.0.1", "path": "/srv/nfs/nowhere"}}})
    sts = sts_args(lab, ns, replicas=1, volume_claim_templates=vct(f"static-{ns}"))
    assert not run("statefulset", {**sts, "wait": False}, via="inproc").get("failed")
    event_seen(lab, ns, "Pod", "web-0", "FailedMount")
    res = run("statefulset", {**sts, "wait": True, "wait_timeout": 15}, via="inproc")
    assert res.get("failed") is True
    msg = res["msg"]
    assert "web-0" in msg and "FailedMount" in msg, msg
    assert "127.0.0.1:/srv/nfs/nowhere" in msg, msg
    assert "ContainerCreating" in msg or "Pending" in msg, msg


# ------------------------------------------------------------ issue 24: one provisioner per name
def _claim(lab, namespace, sc, name="data"):
    lab.create(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
        "spec": {"storageClassName": sc, "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}})
    return f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"


def _bound_then_deleted(lab, path):
    """The claim at ``path`` is Bound (its PV's name), then deleted with its PV (bounded waits)."""
    claim = wait_for(f"{path} Bound", lambda: (c := lab.get(path)) and c["status"].get("phase") == "Bound" and c,
                     timeout=ROLLOUT, interval=1)
    volume = claim["spec"]["volumeName"]
    lab.http("DELETE", path)
    wait_for(f"PV {volume} deleted", lambda: lab.get(f"/api/v1/persistentvolumes/{volume}") is None,
             timeout=ROLLOUT, interval=1)
    return volume


def test_two_namespaces_with_one_deployment_name_both_keep_provisioning(lab, ns, run):
    """0.3.0 named the ClusterRoleBinding after the Deployment only: the second namespace's run took it
    over and the first provisioner lost its rights (``persistentvolumes is forbidden``)."""
    other = lab.new_namespace()
    try:
        name = f"prov-{ns}"  # one Deployment name in both namespaces, two provisioner names, two classes
        first = _prov_args(lab, ns, name=name, mount_options=["nfsvers=3"])
        second = _prov_args(lab, other, name=name, mount_options=["nfsvers=3"], nfs_path=lab.nfs_dir(other))
        for a in (first, second):
            res = run("nfs_provisioner", a, via="inproc")
            assert not res.get("failed"), res.get("msg")
        # both provision (0.3.0: the first one lost its binding to the second and its claims stayed Pending)
        for a in (first, second):
            volume = _bound_then_deleted(lab, _claim(lab, a["namespace"], a["storage_class_name"]))
            assert volume.startswith("pvc-")
        for a in (first, second):
            crb = lab.get(f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{a['namespace']}:run-{name}")
            assert crb["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": a["namespace"]}], crb
        again = {a["namespace"]: run("nfs_provisioner", a, via="inproc") for a in (first, second)}
        # alternating runs converge: nothing left to change for either
        assert [r["changed"] for r in again.values()] == [False, False], again
        assert again[ns]["names"]["root_volume"] != again[other]["names"]["root_volume"]
    finally:
        lab.drop_namespace(other)


def test_the_same_provisioner_name_in_a_second_namespace_is_refused_with_nothing_changed(lab, ns, run):
    first = _prov_args(lab, ns)
    assert not run("nfs_provisioner", first, via="inproc").get("failed")
    other = lab.new_namespace()
    try:
        lab.reset_stats()
        res = run("nfs_provisioner", {**first, "namespace": other, "nfs_path": lab.nfs_dir(other)})
        assert res.get("failed") is True, res
        assert res["msg"].startswith("provisioner_name: "), res["msg"]
        assert f"already served by Deployment {ns}/{first['name']}" in res["msg"], res["msg"]
        assert lab.write_requests() == {}, lab.stats()
        assert lab.get(f"/apis/apps/v1/namespaces/{other}/deployments/{first['name']}") is None
        # the first provisioner still serves its class
        _bound_then_deleted(lab, _claim(lab, ns, first["storage_class_name"]))
    finally:
        lab.drop_namespace(other)
