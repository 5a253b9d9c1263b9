"""Fixtures of the k8s_real scenario's verify suite (run by verify.yml): the report the role
wrote, the cluster (the official client, with the inventory's kubeconfig), the NFS server
(testinfra over docker exec in the lab; another cluster's inventory names its own host)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import testinfra
import yaml

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from tests.support.scenario import player_fixture, scenario_env

SCENARIO = Path(__file__).resolve().parents[1]


def _env(name: str) -> str:
    return scenario_env(name, "k8s_real")


@pytest.fixture(scope="session")
def ephemeral() -> Path:
    return Path(_env("K8S_REAL_EPHEMERAL"))


@pytest.fixture(scope="session")
def scenario_vars() -> dict:
    return yaml.safe_load((SCENARIO / "vars" / "converge.yml").read_text())


@pytest.fixture(scope="session")
def variant_vars() -> dict:
    return yaml.safe_load((SCENARIO / "vars" / "variant.yml").read_text())


player = player_fixture("K8S_REAL_INVENTORY_DIR", "k8s_real")


@pytest.fixture(scope="session")
def nfs_host_name() -> str:
    """The NFS server's inventory name (where the nfs method's proof reads through NFS)."""
    return _env("K8S_REAL_NFS_HOST")


@pytest.fixture(scope="session")
def nfs_host():
    """The NFS server the inventory names (a lab container, reached with docker exec)."""
    return testinfra.get_host(f"docker://{_env('K8S_REAL_NFS_HOST')}")


@pytest.fixture(scope="session")
def api():
    import kubernetes.config

    client = kubernetes.config.new_client_from_config(config_file=os.environ.get("K8S_REAL_KUBECONFIG") or None)
    yield client
    client.close()


def load_report(report_dir: Path, statefulset: str) -> dict:
    path = report_dir / f"{statefulset}-identity.json"
    assert path.is_file(), f"role did not write {path}"
    return json.loads(path.read_text())
