"""The converge (the walkthrough's StatefulSet in a namespace of its own, nfs verify method: role
statefulset's proof without exec, storage proved on the NFS side) on a real cluster: the identity
report the role wrote, the objects in the cluster, and each volume's directory and content ON THE
NFS SERVER."""
from __future__ import annotations

import itertools

import pytest
from conftest import load_report

EXPORT = "/srv/nfs"
PODS = ["web-0", "web-1", "web-2"]
PVCS = ["nginx-pvc-web-0", "nginx-pvc-web-1", "nginx-pvc-web-2"]


@pytest.fixture(scope="module")
def report(ephemeral):
    return load_report(ephemeral / "report", "web")


def verdicts(report, check):
    return {c["pod"]: c["status"] for c in report["checks"] if c["check"] == check}


def test_identity_table_matches_the_walkthrough(report, scenario_vars):
    ns = scenario_vars["k8s_statefulset_nginx_namespace"]
    rows = report["pods"]
    assert [r["name"] for r in rows] == PODS
    assert [r["ordinal"] for r in rows] == [0, 1, 2]
    assert [r["hostname"] for r in rows] == PODS
    assert {r["subdomain"] for r in rows} == {"web"}
    assert [r["dns_name"] for r in rows] == [f"{p}.web.{ns}.svc.cluster.local" for p in PODS]
    assert [r["pvc"] for r in rows] == PVCS
    pvs = [r["pv"] for r in rows]
    assert len(set(pvs)) == 3 and all(pv.startswith("pvc-") for pv in pvs), pvs
    assert {r["storage_class"] for r in rows} == {scenario_vars["k8s_statefulset_nginx_storage_class"]}
    ips = [r["pod_ip"] for r in rows]
    assert len(set(ips)) == 3 and all(ips), ips
    assert len({r["node"] for r in rows}) >= 2, "the pods all ran on one node"
    for row in rows:
        assert row["nfs_path"] == f"{EXPORT}/{ns}-{row['pvc']}-{row['pv']}"


def test_report_says_what_the_nfs_method_proved_and_how(report, ephemeral, scenario_vars, nfs_host_name):
    ns = scenario_vars["k8s_statefulset_nginx_namespace"]
    assert report["container"] == "nginx"
    # storage proved on the NFS side, per pod: each PV's directory exists on the NFS server and is no
    # other's, the pod's line written there reads back through NFS (libnfs), and the pod serves it
    # through the pod proxy (app), which ties the pod to that directory
    for check in ("identity", "ready_order", "dns", "claims", "storage", "app"):
        assert verdicts(report, check) == dict.fromkeys(PODS, "pass"), (check, report["checks"])
    assert f"storage (without exec, through NFS on {nfs_host_name}): web-0, web-1, web-2" in report["proved"]
    # without exec the hostname the container sees is not proved; nothing else is left unsaid
    assert verdicts(report, "hostname") == dict.fromkeys(PODS, "not_proved")
    assert [line.split(":")[0] for line in report["not_proved"]] == [f"{p} hostname" for p in PODS]
    assert report["exec_hostnames"] == dict.fromkeys(PODS)
    ips = {r["name"]: r["pod_ip"] for r in report["pods"]}
    assert report["dns_answers"][f"web.{ns}.svc.cluster.local"] == sorted(ips.values())
    for pod, ip in ips.items():
        assert report["dns_answers"][f"{pod}.web.{ns}.svc.cluster.local"] == [ip]
    markdown = (ephemeral / "report" / "web-identity.md").read_text()
    assert f"- storage (without exec, through NFS on {nfs_host_name}): web-0, web-1, web-2" in markdown
    for pvc in PVCS:
        assert f"{pvc} -> pvc-" in markdown


def test_ready_in_ordinal_order(report, api, scenario_vars):
    import kubernetes.client as k

    assert verdicts(report, "ready_order") == dict.fromkeys(PODS, "pass")
    # the same order read here from the API: each pod created once the one before it was Ready
    ns = scenario_vars["k8s_statefulset_nginx_namespace"]
    pods = {p: k.CoreV1Api(api).read_namespaced_pod(p, ns) for p in PODS}
    ready = {p: next(c.last_transition_time for c in pod.status.conditions if c.type == "Ready")
             for p, pod in pods.items()}
    for before, after in itertools.pairwise(PODS):
        assert ready[before] <= pods[after].metadata.creation_timestamp, (before, after)


def test_directories_and_content_on_the_server(report, nfs_host):
    for row in report["pods"]:
        assert nfs_host.file(row["nfs_path"]).is_directory
        assert nfs_host.file(f"{row['nfs_path']}/index.html").content_string.strip() == \
            f"congratulations {row['name']} for k8s"


def test_objects_in_the_cluster(api, report, scenario_vars):
    import kubernetes.client as k

    ns = scenario_vars["k8s_statefulset_nginx_namespace"]
    sts = k.AppsV1Api(api).read_namespaced_stateful_set("web", ns)
    assert sts.spec.service_name == "web" and sts.spec.replicas == 3
    assert sts.status.ready_replicas == 3
    svc = k.CoreV1Api(api).read_namespaced_service("web", ns)
    assert svc.spec.cluster_ip == "None"
    sc = k.StorageV1Api(api).read_storage_class(scenario_vars["k8s_statefulset_nginx_storage_class"])
    assert sc.provisioner == scenario_vars["k8s_statefulset_nginx_provisioner_name"]
    claims = {c.metadata.name: c for c in k.CoreV1Api(api).list_namespaced_persistent_volume_claim(ns).items}
    assert sorted(claims) == PVCS and {c.status.phase for c in claims.values()} == {"Bound"}
