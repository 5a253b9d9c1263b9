"""Shared helpers for the nfs_server scenario's tests."""

import json
import os
import shlex
import subprocess

import pytest
import testinfra

SERVERS = ["nfs_server-bookworm", "nfs_server-trixie"]
CLIENT = "nfs_server-client"
EXPORTS = ["/srv/nfs", "/srv/nfs/squashed"]


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
