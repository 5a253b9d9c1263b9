"""Fixtures of the default scenario's verify suite (run by verify.yml).

Every test drives a real ansible-playbook run (the day-2 playbooks, site.yml) against the stack
converged on the lab's Kubernetes cluster and asserts on its JSON output (each day-2 playbook ends
with a `Summary` task whose msg is `day2_result`), on the cluster (the official client; the API
server's audit log for what was written) and on the files in the NFS-Ganesha server container.
The tests run in file order and build on each other (one StatefulSet, one story).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from tests.support.lab import Lab
from tests.support import scenario
from tests.support.scenario import nfs_host_fixture, player_fixture

NAMESPACE = "default"
lab, api, play = scenario.lab, scenario.api, scenario.play  # the shared fixtures
player = player_fixture("DEFAULT_SCENARIO_INVENTORY", "default")
nfs_host = nfs_host_fixture("DEFAULT_SCENARIO_NFS_HOST", "default")


@pytest.fixture(scope="session")
def images(lab: Lab) -> dict:
    """The pods' images the lab built (the inventory points the role at them)."""
    return lab.images


def nfs_cat(nfs_host, path: str) -> str:
    """Read a file THROUGH NFS (libnfs nfs-cat against the server's own export)."""
    return nfs_host.check_output(f"timeout 30 nfs-cat nfs://127.0.0.1{path}")


def pods_by_name(api, namespace=NAMESPACE, selector="app=nginx") -> dict:
    import kubernetes.client as k

    return {p.metadata.name: p for p in k.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=selector).items}


def pvc_uids(api, namespace=NAMESPACE, prefix="nginx-pvc-web-") -> dict:
    import kubernetes.client as k

    return {c.metadata.name: c.metadata.uid
            for c in k.CoreV1Api(api).list_namespaced_persistent_volume_claim(namespace).items
            if c.metadata.name.startswith(prefix)}
