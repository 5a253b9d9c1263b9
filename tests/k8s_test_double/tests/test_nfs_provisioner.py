"""NFS provisioner emulation against a REAL NFS-Ganesha export (docker container k8sdouble-ganesha-*).

Skipped when docker or the image is not available. Set K8SDOUBLE_GANESHA=<container> to reuse a running
Ganesha container (development only; it is then not stopped).
"""
from __future__ import annotations

import os
import subprocess

import pytest
from kubernetes import client

from .conftest import apply, headless_service, sts_manifest, wait_for
from .ganesha import DOCKER, Ganesha, available_image

pytestmark = pytest.mark.nfs


@pytest.fixture(scope="module")
def ganesha():
    reuse = os.environ.get("K8SDOUBLE_GANESHA")
    if reuse:
        g = Ganesha(None, name=reuse)
        g.ip = subprocess.run([DOCKER, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                               reuse], capture_output=True, text=True, timeout=20, check=True).stdout.strip()
        yield g
        return
    image, why = available_image()
    if not image:
        pytest.skip(f"NFS provisioner tests need a Ganesha container: {why}")
    g = Ganesha(image)
    try:
        g.start()
    except Exception as exc:  # noqa: BLE001
        g.stop()
        pytest.skip(f"could not start NFS-Ganesha in {image}: {exc}")
    yield g
    g.stop()


def _provisioner(api, apps, ns, g, cls, params, reclaim="Delete"):
    client.StorageV1Api(api).create_storage_class({
        "metadata": {"name": cls}, "provisioner": f"{ns}/ifs", "parameters": params, "reclaimPolicy": reclaim})
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "nfs-client-provisioner"}, "spec": {
        "replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": {"app": "ncp"}},
        "template": {"metadata": {"labels": {"app": "ncp"}}, "spec": {"containers": [{
            "name": "nfs-client-provisioner",
            "image": "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2",
            "env": [{"name": "PROVISIONER_NAME", "value": f"{ns}/ifs"}, {"name": "NFS_SERVER", "value": g.ip},
                    {"name": "NFS_PATH", "value": "/srv/nfs"}],
            "volumeMounts": [{"name": "nfs-client-root", "mountPath": "/persistentvolumes"}]}],
            "volumes": [{"name": "nfs-client-root", "nfs": {"server": g.ip, "path": "/srv/nfs"}}]}}}})


def _pvc(v1, ns, name, cls):
    return v1.create_namespaced_persistent_volume_claim(ns, {"metadata": {"name": name}, "spec": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": cls, "resources": {"requests": {"storage": "1Gi"}}}})


def _bound(v1, ns, name):
    p = v1.read_namespaced_persistent_volume_claim(name, ns)
    return p.status.phase == "Bound" and p


def test_statefulset_claims_provisioned_on_real_nfs_and_archived(ganesha, api, apps, v1, ns):
    """PVC → PV pvc-<uid> with spec.nfs server/path, directory ${namespace}-${pvcName}-${pvName} created on the
    export through NFS, claim Bound, events; deleting the claim archives the directory (archiveOnDelete=true).
    https://kubernetes.io/docs/concepts/storage/dynamic-provisioning/ and
    https://github.com/kubernetes-sigs/nfs-subdir-external-provisioner#deploying-your_own-storageclass"""
    cls = f"{ns}-managed-nfs-storage"
    _provisioner(api, apps, ns, ganesha, cls, {"archiveOnDelete": "true"})
    v1.create_namespaced_service(ns, headless_service("web"))
    vct = [{"metadata": {"name": "nginx-pvc"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": cls,
                                                        "resources": {"requests": {"storage": "1Gi"}}}}]
    body = sts_manifest("web", replicas=3, volumeClaimTemplates=vct)
    body["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "nginx-pvc", "mountPath": "/usr/share/nginx/html"}]
    apply(apps.patch_namespaced_stateful_set, "web", ns, body)
    wait_for(lambda: (apps.read_namespaced_stateful_set("web", ns).status.ready_replicas or 0) == 3, 30,
             what="3 ready replicas with provisioned storage")
    pvs = {}
    for i in range(3):
        pvc = _bound(v1, ns, f"nginx-pvc-web-{i}")
        assert pvc and pvc.spec.volume_name == f"pvc-{pvc.metadata.uid}"
        pv = v1.read_persistent_volume(pvc.spec.volume_name)
        d = f"{ns}-nginx-pvc-web-{i}-{pv.metadata.name}"
        assert pv.spec.nfs.server == ganesha.ip and pv.spec.nfs.path == f"/srv/nfs/{d}"
        assert pv.spec.storage_class_name == cls and pv.spec.capacity["storage"] == "1Gi"
        assert pv.spec.access_modes == ["ReadWriteOnce"] and pv.spec.persistent_volume_reclaim_policy == "Delete"
        assert pv.spec.claim_ref.name == f"nginx-pvc-web-{i}" and pv.status.phase == "Bound"
        assert pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == f"{ns}/ifs"
        pvs[i] = (pvc, pv, d)
    listing = ganesha.ls()
    assert all(d in listing for _, _, d in pvs.values())
    reasons = {e.reason for e in v1.list_namespaced_event(ns, field_selector="involvedObject.name=nginx-pvc-web-0").items}
    assert {"Provisioning", "ProvisioningSucceeded"} <= reasons
    # delete the StatefulSet (PVCs stay), then one claim: its directory is archived, the PV deleted
    apps.delete_namespaced_stateful_set("web", ns)
    wait_for(lambda: not v1.list_namespaced_pod(ns, label_selector="app=web").items, 10)
    assert len(v1.list_namespaced_persistent_volume_claim(ns).items) == 3
    v1.delete_namespaced_persistent_volume_claim("nginx-pvc-web-2", ns)
    _, pv2, d2 = pvs[2]
    wait_for(lambda: f"archived-{d2}" in ganesha.ls(), 15, what="archived directory")
    assert d2 not in ganesha.ls()

    def pv_gone():
        try:
            v1.read_persistent_volume(pv2.metadata.name)
            return False
        except client.ApiException as e:
            return e.status == 404
    wait_for(pv_gone, 10, what="PV deletion")


def test_archive_off_removes_directory_and_retain_keeps_it(ganesha, api, apps, v1, ns):
    """archiveOnDelete=false removes the directory (with its content); reclaimPolicy Retain leaves PV Released
    and the directory untouched.
    https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reclaiming"""
    cls = f"{ns}-del"
    _provisioner(api, apps, ns, ganesha, cls, {"archiveOnDelete": "false"})
    _pvc(v1, ns, "gone", cls)
    pvc = wait_for(lambda: _bound(v1, ns, "gone"), 20, what="claim bound")
    d = f"{ns}-gone-{pvc.spec.volume_name}"
    ganesha.exec(f"mkdir -p /srv/nfs/{d}/sub && echo hi > /srv/nfs/{d}/sub/index.html && echo x > /srv/nfs/{d}/f")
    v1.delete_namespaced_persistent_volume_claim("gone", ns)
    wait_for(lambda: d not in ganesha.ls() and not any(x.endswith(d) for x in ganesha.ls()), 15,
             what="directory removed")
    client.StorageV1Api(api).create_storage_class({
        "metadata": {"name": f"{ns}-keep"}, "provisioner": f"{ns}/ifs", "reclaimPolicy": "Retain"})
    _pvc(v1, ns, "kept", f"{ns}-keep")
    pvc = wait_for(lambda: _bound(v1, ns, "kept"), 20, what="claim bound")
    v1.delete_namespaced_persistent_volume_claim("kept", ns)
    wait_for(lambda: v1.read_persistent_volume(pvc.spec.volume_name).status.phase == "Released", 10)
    assert f"{ns}-kept-{pvc.spec.volume_name}" in ganesha.ls()
    v1.delete_persistent_volume(pvc.spec.volume_name)
