"""Fixtures of the k8s_lab scenario's verify suite (run by verify.yml)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import testinfra


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this suite through `molecule verify -s k8s_lab`")
    return value


@pytest.fixture(scope="session")
def ephemeral() -> Path:
    return Path(_env("K8S_LAB_EPHEMERAL"))


@pytest.fixture(scope="session")
def scenario() -> Path:
    return Path(_env("K8S_LAB_SCENARIO"))


@pytest.fixture(scope="session")
def inventory() -> str:
    return _env("K8S_LAB_INVENTORY")


@pytest.fixture(scope="session")
def nfs_host():
    """The NFS-Ganesha server container, reached with `docker exec` (testinfra)."""
    return testinfra.get_host(f"docker://{_env('K8S_LAB_NFS_HOST')}")


@pytest.fixture(scope="session")
def double(ephemeral: Path) -> dict:
    """What test_double.py recorded: pid, kubeconfig, api_port, dns_port."""
    return json.loads((ephemeral / "test-double" / "launcher.json").read_text())


@pytest.fixture(scope="session")
def api(double: dict):
    import kubernetes.client
    import kubernetes.config

    client = kubernetes.config.new_client_from_config(config_file=double["kubeconfig"])
    yield client
    client.close()


def load_report(report_dir: Path, statefulset: str) -> dict:
    path = report_dir / f"{statefulset}-identity.json"
    assert path.is_file(), f"role did not write {path}"
    return json.loads(path.read_text())
