"""playbooks/verify.yml: the walkthrough's application (web, role k8s_statefulset_nginx's mapping) proved by
role statefulset, and identity across a pod deletion."""
from __future__ import annotations

from conftest import nfs_cat, pods_by_name, pvc_uids

PODS = ["web-0", "web-1", "web-2"]


def test_verify_read_only_checks(play):
    run = play("playbooks/verify.yml")
    assert run.rc == 0, run.failure()
    result = run.day2
    assert result["application"] == "web" and list(result["applications"]) == ["web"]
    assert [r["name"] for r in result["identity"]] == PODS
    assert [r["dns_name"] for r in result["identity"]] == [f"{p}.web.default.svc.cluster.local" for p in PODS]
    assert result["pod_restart"].startswith("not run")
    # every check passed for every pod; storage also on the NFS side (each volume's directory under the class's
    # export, on the server, the line written there found by the pod at its mount)
    pods = ", ".join(PODS)
    for check in ("identity", "ready_order", "hostname", "dns", "claims", "app"):
        assert f"{check}: {pods}" in result["proved"], result["proved"]
    assert any(p.startswith("storage (in the pods and through NFS on ") and p.endswith(pods) for p in result["proved"])
    assert result["applications"]["web"]["not_proved"] == [], result["applications"]["web"]["not_proved"]


def test_verify_pod_restart_keeps_identity_and_storage(play, api, nfs_host):
    uids_before = {n: p.metadata.uid for n, p in pods_by_name(api).items()}
    claims_before = pvc_uids(api)
    run = play("playbooks/verify.yml", verify_pod_restart=True, verify_pod_restart_ordinal=1)
    assert run.rc == 0, run.failure()
    restart = run.day2["pod_restart"]
    assert restart["pod"] == "web-1"
    assert restart["uid_before"] == uids_before["web-1"] != restart["uid_after"]
    # A new pod, a new IP (the walkthrough: "pod IPs change, names do not").
    assert restart["pod_ip_after"] and restart["pod_ip_after"] != restart["pod_ip_before"], restart
    assert restart["hostname"] == "web-1"
    assert restart["dns_name"] == "web-1.web.default.svc.cluster.local"
    assert restart["pvc"] == "nginx-pvc-web-1" and restart["pvc_uid"] == claims_before["nginx-pvc-web-1"]
    assert restart["content"].strip() == "congratulations web-1 for k8s"
    # In the API: only web-1 was recreated; same claims.
    uids_after = {n: p.metadata.uid for n, p in pods_by_name(api).items()}
    assert uids_after["web-1"] == restart["uid_after"]
    assert {n: u for n, u in uids_after.items() if n != "web-1"} == {
        n: u for n, u in uids_before.items() if n != "web-1"}
    assert pvc_uids(api) == claims_before
    # On the server: the same directory still holds the line, read through NFS.
    assert nfs_cat(nfs_host, f"{restart['nfs_path']}/index.html").strip() == "congratulations web-1 for k8s"
