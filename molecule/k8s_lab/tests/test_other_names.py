"""A second converge with other names, namespace, replica count and claim template.

Proves that nothing in role k8s_statefulset_nginx is specific to web/nginx: runs
ansible-playbook (converge.yml with extra vars) against the same test double and NFS
server, then checks the matching identity table and the directories on the server.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import load_report

VARIANT = {
    "k8s_statefulset_nginx_name": "db",
    "k8s_statefulset_nginx_service_name": "db-hl",
    "k8s_statefulset_nginx_namespace": "stateful-test",
    "k8s_statefulset_nginx_replicas": 2,
    "k8s_statefulset_nginx_labels": {"app.kubernetes.io/name": "db", "tier": "data"},
    "k8s_statefulset_nginx_container_name": "server",
    "k8s_statefulset_nginx_volume_claim_template": "data",
    "k8s_statefulset_nginx_storage_size": "2Gi",
    "k8s_statefulset_nginx_mount_path": "/var/lib/data",
    "k8s_statefulset_nginx_storage_class": "nfs-db",
    "k8s_statefulset_nginx_provisioner_name": "example.com/nfs-db",
    "k8s_statefulset_nginx_provisioner_deployment_name": "nfs-db-provisioner",
    "k8s_statefulset_nginx_verify_content": "hello from {pod}",
}


@pytest.fixture(scope="module")
def variant_run(ephemeral, scenario, inventory):
    report_dir = ephemeral / "report-variant"
    extra = dict(VARIANT, k8s_statefulset_nginx_report_dir=str(report_dir))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory,
         str(scenario / "converge.yml"),
         "-e", json.dumps(extra)],
        capture_output=True, text=True, timeout=600, check=False,
        env=dict(os.environ, ANSIBLE_FORCE_COLOR="0"),
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return load_report(report_dir, "db"), result.stdout


def test_variant_identity_table(variant_run):
    report, _ = variant_run
    rows = report["identity"]
    assert [r["name"] for r in rows] == ["db-0", "db-1"]
    assert [r["hostname"] for r in rows] == ["db-0", "db-1"]
    assert [r["dns_name"] for r in rows] == [
        "db-0.db-hl.stateful-test.svc.cluster.local", "db-1.db-hl.stateful-test.svc.cluster.local"]
    assert [r["pvc"] for r in rows] == ["data-db-0", "data-db-1"]
    assert len({r["pv"] for r in rows}) == 2
    assert {r["storage_class"] for r in rows} == {"nfs-db"}
    for row in rows:
        assert row["nfs_path"] == f"/srv/nfs/stateful-test-{row['pvc']}-{row['pv']}"
    assert report["content"] == {"db-0": "hello from db-0", "db-1": "hello from db-1"}
    assert "web" not in json.dumps(rows) and "nginx" not in json.dumps(rows)


def test_variant_directories_on_the_server(variant_run, nfs_host):
    report, _ = variant_run
    for row in report["identity"]:
        assert nfs_host.file(row["nfs_path"]).is_directory
        assert nfs_host.file(f"{row['nfs_path']}/index.html").content_string.strip() == f"hello from {row['name']}"


def test_variant_left_the_default_run_alone(variant_run, api):
    import kubernetes.client as k

    core = k.CoreV1Api(api)
    names = sorted(p.metadata.name for p in core.list_namespaced_pod("default").items)
    assert {"web-0", "web-1", "web-2"} <= set(names)
    sts = k.AppsV1Api(api).read_namespaced_stateful_set("db", "stateful-test")
    assert sts.spec.service_name == "db-hl" and sts.spec.replicas == 2
    assert sts.spec.selector.match_labels == {"app.kubernetes.io/name": "db", "tier": "data"}
