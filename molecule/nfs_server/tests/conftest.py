"""Shared helpers for the nfs_server scenario's tests."""

import json
import os
import shlex
import subprocess
import sys

import pytest
import testinfra

# The collection's own Python (the differential test reads module_utils/export_meaning.py),
# importable as Ansible loads it: <repo>/.collections holds a stateful/nfs link to the checkout.
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
for _entry in (os.path.join(REPO, ".collections"), REPO):
    if _entry not in sys.path:
        sys.path.insert(0, _entry)

from tests.support.playbook import molecule_play

SERVERS = ["nfs_server-bookworm", "nfs_server-trixie"]
CLIENT = "nfs_server-client"
EXPORTS = ["/srv/nfs", "/srv/nfs/squashed"]
SCENARIO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOK_TIMEOUT = 600


def docker_host(name):
    return testinfra.get_host("docker://" + name)


def container_ip(name):
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", name],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    networks = json.loads(out)
    return next(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))


@pytest.fixture(scope="session")
def client():
    return docker_host(CLIENT)


def quote(value):
    return shlex.quote(value)


def molecule_inventory():
    return os.environ.get("MOLECULE_INVENTORY_FILE", "")


def run_role(extra_vars, check=False):
    """ansible-playbook play_nfs_server.yml with extra vars; returns (rc, json result, text)."""
    return molecule_play(os.path.join(SCENARIO_DIR, "tests", "play_nfs_server.yml"), extra_vars, check=check, timeout=PLAYBOOK_TIMEOUT)
