"""A second run with other names, namespace, replica count, labels, claim template, content and
the exec method (vars/variant.yml): nothing in role k8s_statefulset_nginx is specific to web/nginx,
and the first run is left alone."""
from __future__ import annotations

import json

import pytest
from conftest import load_report


@pytest.fixture(scope="module")
def variant_run(player, ephemeral, variant_vars):
    run = player.play("molecule/k8s_real/converge.yml", **variant_vars)
    assert run.rc == 0, run.failure()
    again = player.play("molecule/k8s_real/converge.yml", **variant_vars)
    assert again.rc == 0, again.failure()
    assert set(again.changed().values()) == {0}, again.changed_tasks()
    return load_report(ephemeral / "report-variant", "db")


def test_variant_identity_table(variant_run, variant_vars):
    ns = variant_vars["k8s_statefulset_nginx_namespace"]
    rows = variant_run["pods"]
    assert [r["name"] for r in rows] == ["db-0", "db-1"]
    assert [r["hostname"] for r in rows] == ["db-0", "db-1"]
    assert [r["dns_name"] for r in rows] == [f"db-0.db-hl.{ns}.svc.cluster.local", f"db-1.db-hl.{ns}.svc.cluster.local"]
    assert [r["pvc"] for r in rows] == ["data-db-0", "data-db-1"]
    assert len({r["pv"] for r in rows}) == 2
    assert {r["storage_class"] for r in rows} == {"nfs-db"}
    for row in rows:
        assert row["nfs_path"] == f"/srv/nfs/{ns}-{row['pvc']}-{row['pv']}"
    assert variant_run["container"] == "server"
    # the exec method: every check proved in the pods, nothing left unproved
    assert variant_run["exec_hostnames"] == {"db-0": "db-0", "db-1": "db-1"}
    assert {(c["check"], c["status"]) for c in variant_run["checks"]} == {
        (check, "pass") for check in ("identity", "ready_order", "hostname", "dns", "claims", "storage", "app")}
    assert variant_run["not_proved"] == []
    assert "web" not in json.dumps(rows) and "nginx-pvc" not in json.dumps(rows)


def test_variant_directories_on_the_server(variant_run, nfs_host):
    for row in variant_run["pods"]:
        assert nfs_host.file(row["nfs_path"]).is_directory
        assert nfs_host.file(f"{row['nfs_path']}/index.html").content_string.strip() == f"hello from {row['name']}"


def test_variant_left_the_first_run_alone(variant_run, api, scenario_vars, variant_vars):
    import kubernetes.client as k

    core = k.CoreV1Api(api)
    first = sorted(p.metadata.name for p in core.list_namespaced_pod(scenario_vars["k8s_statefulset_nginx_namespace"]).items)
    assert {"web-0", "web-1", "web-2"} <= set(first)
    sts = k.AppsV1Api(api).read_namespaced_stateful_set("db", variant_vars["k8s_statefulset_nginx_namespace"])
    assert sts.spec.service_name == "db-hl" and sts.spec.replicas == 2
    assert sts.spec.selector.match_labels == {"app.kubernetes.io/name": "db", "tier": "data"}
