"""After the NFS server is stopped and started again, a re-run of the
client proof (role nfs_client, site.yml --tags nfs_client) converges with no manual step.

(The failure while the server is down is covered by molecule/nfs_client/tests/
test_negative.py; this test covers the recovery: no wait, no cleanup, no restart of
anything on the node between the server's start and the re-run.)
"""
from __future__ import annotations

import subprocess

from conftest import DOCKER, dexec, ganesha

PROOF = "Publish this node's proof of every export (nfs_client_proof_result)"
GATE = "Stop unless every node in k8s_nodes proved every NFS export it must use"


def test_client_proof_converges_after_server_stop_and_start(play, nfs_name, node_name, k8s_nodes):
    server = dexec(nfs_name, "hostname", "-I").decode().split()[0]
    ganesha(nfs_name, node_name, "stop")
    try:
        down = subprocess.run([DOCKER, "exec", node_name, "timeout", "10", "nfs-ls", f"nfs://{server}/srv/nfs"],
                              capture_output=True, timeout=30, check=False)
        assert down.returncode != 0, "the export was still served after `systemctl stop nfs-ganesha`"
    finally:
        # Started again, and the role re-run at once: no wait for the server, no manual step.
        dexec(nfs_name, "timeout", "60", "systemctl", "start", "nfs-ganesha")
    assert dexec(nfs_name, "systemctl", "is-active", "nfs-ganesha").decode().strip() == "active"

    run = play("site.yml", tags="nfs_client")
    assert run.rc == 0, run.failure()
    proof = run.results(PROOF)
    assert set(proof) == k8s_nodes, proof
    assert all(result["ansible_facts"]["nfs_client_proof_result"]["ok"] is True for result in proof.values()), proof
    gate = run.results(GATE)
    assert gate and not any(r.get("failed") or r.get("skipped") for r in gate.values()), gate
    assert set(run.changed().values()) == {0}, run.changed_tasks()
