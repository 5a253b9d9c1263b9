"""Fixtures and helpers of the faults scenario's verify suite (run by verify.yml).

Every test drives real ansible-playbook runs (site.yml with stage tags, or one module) against
the lab (NFS-Ganesha container, kubelet nodes, the real API server), injects one fault through
the real mechanism, and asserts on the run's JSON output (callback ansible.posix.json), the
cluster and bytes read THROUGH NFS (libnfs nfs-cat in a node container). Each test removes the
StatefulSet it created (own name each).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from tests.support.lab import CONTROL_PLANE, DOCKER, LAB_DIR, Lab, dexec as _dexec
from tests.support import scenario
from tests.support.scenario import player_fixture, scenario_env
from tests.support.waiting import wait_for  # the tests import it from here

NAMESPACE = "default"
TEMPLATE = "data"
REPORT_DIR = LAB_DIR / "report"  # k8s_statefulset_nginx_report_dir of the lab's inventory


def _env(name: str) -> str:
    return scenario_env(name, "faults")


def names(sts: str, **more) -> dict:
    """Role variables for a StatefulSet of its own (Service, labels, claim template)."""
    return {"k8s_statefulset_nginx_name": sts, "k8s_statefulset_nginx_service_name": sts,
            "k8s_statefulset_nginx_labels": {"app": sts},
            "k8s_statefulset_nginx_volume_claim_template": TEMPLATE, **more}


lab, api, play = scenario.lab, scenario.api, scenario.play  # the shared fixtures
player = player_fixture("FAULTS_INVENTORY", "faults", timeout=600)


@pytest.fixture(scope="session")
def start_play(player):
    """start_play(...) -> Popen in its own process group (for SIGKILL of the whole run)."""
    return player.start


@pytest.fixture(scope="session")
def nfs_name() -> str:
    return _env("FAULTS_NFS_HOST")


@pytest.fixture(scope="session")
def node_name() -> str:
    return _env("FAULTS_NODE_HOST")


@pytest.fixture(scope="session")
def k8s_nodes() -> set:
    """Every host of the inventory's k8s_nodes group (each runs its own client proof)."""
    return set(_env("FAULTS_K8S_NODES").split(","))


@pytest.fixture(scope="session")
def stopped_node() -> str:
    """The node whose kubelet test_70 stops."""
    return _env("FAULTS_STOPPED_NODE")


@pytest.fixture(scope="session")
def images(lab: Lab) -> dict:
    return lab.images


def dexec(container: str, *cmd: str, data: bytes | None = None, timeout: int = 60, check: bool = True) -> bytes:
    """docker exec (stdin = data); stdout as bytes; raises with stderr on failure."""
    argv = [DOCKER, "exec"] + (["-i"] if data is not None else []) + [container, *cmd]
    proc = subprocess.run(argv, input=data, capture_output=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} in {container} exited {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace')[-1000:]}")
    return proc.stdout


def nfs_write(node: str, url: str, data: bytes) -> None:
    """Write bytes to nfs://server/path/file THROUGH NFS from the node (libnfs nfs-cp)."""
    dexec(node, "sh", "-c", 'f=$(mktemp) && cat > "$f" && timeout 30 nfs-cp "$f" "$1"; rc=$?; rm -f "$f"; exit $rc',
          "sh", url, data=data)


def nfs_read(node: str, url: str) -> bytes:
    """Read a file THROUGH NFS from the node (libnfs nfs-cat)."""
    return dexec(node, "timeout", "30", "nfs-cat", url)


def core(api):
    import kubernetes.client as k

    return k.CoreV1Api(api)


def apps(api):
    import kubernetes.client as k

    return k.AppsV1Api(api)


def pods(api, sts: str) -> dict:
    return {p.metadata.name: p for p in core(api).list_namespaced_pod(NAMESPACE, label_selector=f"app={sts}").items}


def ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def claims(api, sts: str) -> dict:
    """{pvc name: pvc} of the claims made from the template for this StatefulSet."""
    prefix = f"{TEMPLATE}-{sts}-"
    return {c.metadata.name: c for c in core(api).list_namespaced_persistent_volume_claim(NAMESPACE).items
            if c.metadata.name.startswith(prefix)}


def volumes(api, sts: str) -> dict:
    """{pvc: {uid, pv, url, dir}}: where each claim's data lives on the NFS export."""
    out = {}
    for name, pvc in claims(api, sts).items():
        pv = core(api).read_persistent_volume(pvc.spec.volume_name)
        out[name] = {"uid": pvc.metadata.uid, "pv": pv.metadata.name, "dir": pv.spec.nfs.path,
                     "url": f"nfs://{pv.spec.nfs.server}{pv.spec.nfs.path}"}
    return out


def statefulset(api, sts: str):
    from kubernetes.client.exceptions import ApiException

    try:
        return apps(api).read_namespaced_stateful_set(sts, NAMESPACE)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def remove(api, sts: str) -> None:
    """Self-cleaning: delete the StatefulSet (background), its Service and its claims, and wait
    until the provisioner has released their volumes."""
    from kubernetes.client.exceptions import ApiException

    for call in (lambda: apps(api).delete_namespaced_stateful_set(sts, NAMESPACE, propagation_policy="Background"),
                 lambda: core(api).delete_namespaced_service(sts, NAMESPACE)):
        try:
            call()
        except ApiException as exc:
            if exc.status != 404:
                raise
    wait_for(f"the pods of {sts} to be gone", lambda: not pods(api, sts), timeout=120)
    for name in claims(api, sts):
        try:
            core(api).delete_namespaced_persistent_volume_claim(name, NAMESPACE)
        except ApiException as exc:
            if exc.status != 404:
                raise
    wait_for(f"the claims of {sts} to be gone", lambda: not claims(api, sts), timeout=120)
    wait_for(f"the volumes of {sts} to be released", lambda: not [
        pv for pv in core(api).list_persistent_volume().items
        if pv.spec.claim_ref and pv.spec.claim_ref.name.startswith(f"{TEMPLATE}-{sts}-")], timeout=120)


def ganesha(nfs: str, node: str, action: str) -> None:
    """systemctl <action> nfs-ganesha in the server; after a start, wait (bounded) until the
    node can list the export through NFS again."""
    dexec(nfs, "timeout", "60", "systemctl", action, "nfs-ganesha")
    if action in ("start", "restart"):
        server = dexec(nfs, "hostname", "-I").decode().split()[0]
        wait_for("NFS-Ganesha to serve the export again",
                 lambda: subprocess.run([DOCKER, "exec", node, "timeout", "10", "nfs-ls", f"nfs://{server}/srv/nfs"],
                                        capture_output=True, timeout=30, check=False).returncode == 0,
                 timeout=60, interval=1)


def control_plane(*cmd: str, timeout: int = 120) -> str:
    """A command in the lab's control-plane container."""
    return _dexec(CONTROL_PLANE, *cmd, timeout=timeout).stdout
