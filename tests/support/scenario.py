"""What the molecule scenarios' verify suites share (molecule/*/tests/conftest.py import it):
the scenario's environment variables, the lab, the API client and the playbook player.

A conftest imports the fixtures it uses (``from tests.support.scenario import api, lab, play``) and
makes its own player and NFS host with :func:`player_fixture` and :func:`nfs_host_fixture`; :func:`scenario_env` fails the suite with the
command to run when molecule did not set a variable.
"""
from __future__ import annotations

import os
import sys

import pytest

from tests.support.lab import Lab, LabNotUp, restore_lost_images
from tests.support.playbook import PLAYBOOK_TIMEOUT, Player


def scenario_env(name: str, scenario: str) -> str:
    """The value of environment variable ``name``, which molecule's verify.yml of ``scenario`` sets."""
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this suite through `molecule verify -s {scenario}`")
    return value


@pytest.fixture(scope="session")
def lab() -> Lab:
    """The lab the scenario runs on; the suite fails (not skips) when it is not up."""
    try:
        lab = Lab.require()
    except LabNotUp as exc:
        pytest.fail(str(exc))
    for line in restore_lost_images():
        sys.__stderr__.write(f"\nLAB WARNING: {line}\n")
    return lab


@pytest.fixture(scope="session")
def api(lab: Lab):
    """A kubernetes ApiClient as the lab's admin (closed at the end of the session)."""
    client = lab.api_client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def play(player):
    """``play(playbook, tags=None, check=False, **extra_vars)`` -> Run (JSON output, bounded): the
    conftest's ``player`` (:func:`player_fixture`) running one playbook."""
    return player.play


def nfs_host_fixture(host_env: str, scenario: str):
    """A session fixture ``nfs_host``: the NFS server container that ``host_env`` names, as a
    testinfra host (over docker exec)."""
    @pytest.fixture(scope="session")
    def nfs_host():
        import testinfra  # only the scenarios' suites have it

        return testinfra.get_host(f"docker://{scenario_env(host_env, scenario)}")
    return nfs_host


def player_fixture(inventory_env: str, scenario: str, timeout: float = PLAYBOOK_TIMEOUT):
    """A session fixture ``player``: a :class:`Player` on the inventory named by ``inventory_env``."""
    @pytest.fixture(scope="session")
    def player():
        runner = Player(scenario_env(inventory_env, scenario), timeout=timeout)
        yield runner
        runner.close()
    return player
