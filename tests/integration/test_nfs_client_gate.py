"""site.yml's NFS client stage and preflight gate with StorageClasses on two exports, on the lab.

The preflight plans the classes (role nfs_provisioner, fact nfs_provisioner_plan on the k8s_api
host); role nfs_client proves every export they use on every node the way kubelet mounts (the
lab's mount helper, nfs_client_proof_method kernel); the gate play judges every node. Nothing is
applied to the cluster (--tags nfs_client), and nothing is left on the export: the probe removes
its file and the session's directory goes with the session.
"""
from __future__ import annotations

from tests.support.lab import NODES

PUBLISH = "Publish this node's proof of every export (nfs_client_proof_result)"
GATE = "Stop unless every node in k8s_nodes proved every NFS export it must use"


def _proofs(run):
    return {host: result["ansible_facts"]["nfs_client_proof_result"] for host, result in run.results(PUBLISH).items()}


def test_two_exports_are_proved_on_every_node_and_the_gate_opens(lab, player):
    sub = lab.nfs_dir("gate")   # a directory of the export, as a class's nfs_path may name one
    classes = [{"storage_class_name": "gate-data"}, {"storage_class_name": "gate-sub", "nfs_path": sub}]
    # the first run may install the client on a fresh lab; the second must change nothing
    first = player.play("site.yml", tags="nfs_client", nfs_provisioner_classes=classes)
    assert first.rc == 0, first.failure()
    run = player.play("site.yml", tags="nfs_client", nfs_provisioner_classes=classes)
    assert run.rc == 0, run.failure()
    proofs = _proofs(run)
    assert sorted(proofs) == sorted(NODES), proofs
    for node, result in proofs.items():
        assert result["ok"] is True and result["method"] == "kernel", (node, result["message"])
        assert [(p["export"], p["classes"], p["ok"]) for p in result["proofs"]] == [
            ("/srv/nfs", ["gate-data"], True), (sub, ["gate-sub"], True)], result["proofs"]
    gate = run.results(GATE)
    assert "Preflight gate open: all 3 Kubernetes nodes proved every NFS export" in gate["localhost"]["msg"], gate
    assert set(run.changed().values()) == {0}, run.changed_tasks()


def test_a_class_on_an_export_that_does_not_exist_closes_the_gate_naming_node_and_export(lab, player):
    missing = f"/srv/{lab.session}-missing"
    classes = [{"storage_class_name": "gate-data"}, {"storage_class_name": "gate-missing", "nfs_path": missing}]
    # The role reports without failing; the gate play is what stops the run.
    run = player.play("site.yml", tags="nfs_client", nfs_provisioner_classes=classes, nfs_client_proof_fail=False)
    assert run.rc != 0 and run.failed_tasks() == [GATE], run.failure()
    msg = run.results(GATE)["localhost"]["msg"]
    assert msg.startswith("Preflight gate closed: 3 of 3 Kubernetes node(s) did not prove"), msg
    for node in NODES:
        assert f"{node}: " in msg, msg
    assert msg.count(f":{missing} (class gate-missing): export_not_found: export '{missing}' is not among the "
                     "server's configured exports") == 3, msg
    assert "(class gate-data)" not in msg, msg
    for result in _proofs(run).values():
        assert [(p["classes"], p["ok"]) for p in result["proofs"]] == [(["gate-data"], True), (["gate-missing"], False)]
