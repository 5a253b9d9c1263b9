"""The default converge (the walkthrough's names) against the lab cluster test double.

Checks the identity report the role wrote, the objects in the test double's API, and
the per-volume directories and contents ON THE NFS SERVER container.
"""
from __future__ import annotations

import re

import pytest
from conftest import load_report

EXPORT = "/srv/nfs"
PODS = ["web-0", "web-1", "web-2"]
PVCS = ["nginx-pvc-web-0", "nginx-pvc-web-1", "nginx-pvc-web-2"]


@pytest.fixture(scope="module")
def report(ephemeral):
    return load_report(ephemeral / "report", "web")


def test_identity_table_matches_the_walkthrough(report):
    rows = report["identity"]
    assert [r["name"] for r in rows] == PODS
    assert [r["ordinal"] for r in rows] == [0, 1, 2]
    assert [r["hostname"] for r in rows] == PODS
    assert {r["subdomain"] for r in rows} == {"web"}
    assert [r["dns_name"] for r in rows] == [f"{p}.web.default.svc.cluster.local" for p in PODS]
    assert [r["pvc"] for r in rows] == PVCS
    pvs = [r["pv"] for r in rows]
    assert len(set(pvs)) == 3 and all(pv.startswith("pvc-") for pv in pvs), pvs
    assert {r["storage_class"] for r in rows} == {"managed-nfs-storage"}
    ips = [r["pod_ip"] for r in rows]
    assert len(set(ips)) == 3 and all(ips), ips
    dirs = [r["nfs_path"] for r in rows]
    assert len(set(dirs)) == 3
    for row in rows:
        assert row["nfs_path"] == f"{EXPORT}/default-{row['pvc']}-{row['pv']}"


def test_report_says_test_double_and_method(report, ephemeral):
    assert report["target"]["test_double"] is True
    assert "test-double" in report["target"]["api_git_version"]
    assert report["verify_method"] == "nfs"
    assert report["content"] == {p: f"congratulations {p} for k8s" for p in PODS}
    assert report["dns"]["web.default.svc.cluster.local"] == sorted(r["pod_ip"] for r in report["identity"])
    markdown = (ephemeral / "report" / "web-identity.md").read_text()
    assert "lab cluster test double" in markdown
    assert "Verification method: **nfs**" in markdown
    for pvc in PVCS:
        assert f"| {pvc} |" in markdown


def test_ready_in_ordinal_order(report):
    timeline = report["readiness_timeline"]
    assert timeline, "the role recorded no readiness timeline"
    assert [t["pod"] for t in timeline] == PODS


def test_nfs_directories_on_the_server(report, nfs_host):
    for row in report["identity"]:
        directory = nfs_host.file(row["nfs_path"])
        assert directory.is_directory, f"{row['nfs_path']} missing on the NFS server"
        index = nfs_host.file(f"{row['nfs_path']}/index.html")
        assert index.content_string.strip() == f"congratulations {row['name']} for k8s"
    listing = nfs_host.check_output(f"ls -1 {EXPORT}").split()
    ours = [d for d in listing if re.match(r"^default-nginx-pvc-web-\d+-pvc-", d)]
    assert sorted(ours) == sorted(r["nfs_path"].rsplit("/", 1)[1] for r in report["identity"])


def test_api_objects(api):
    import kubernetes.client as k

    core, apps, storage = k.CoreV1Api(api), k.AppsV1Api(api), k.StorageV1Api(api)
    svc = core.read_namespaced_service("web", "default")
    assert svc.spec.cluster_ip == "None"
    assert svc.spec.selector == {"app": "nginx"}
    sts = apps.read_namespaced_stateful_set("web", "default")
    assert sts.spec.service_name == "web" and sts.spec.replicas == 3
    assert sts.spec.volume_claim_templates[0].metadata.name == "nginx-pvc"
    assert sts.spec.template.spec.containers[0].image == "nginx:1.27.3"
    sc = storage.read_storage_class("managed-nfs-storage")
    assert sc.provisioner == "fuseim.pri/ifs"
    assert sc.parameters.get("archiveOnDelete") == "true"
    for pvc in PVCS:
        claim = core.read_namespaced_persistent_volume_claim(pvc, "default")
        assert claim.status.phase == "Bound"
        assert claim.spec.resources.requests["storage"] == "1Gi"
        assert claim.spec.access_modes == ["ReadWriteOnce"]
    for pod in PODS:
        assert core.read_namespaced_pod(pod, "default").metadata.labels[
            "statefulset.kubernetes.io/pod-name"] == pod
