"""Shared helpers for the nfs_server scenario's tests."""

import json
import os
import shlex
import subprocess
import sys
import tempfile

import pytest
import testinfra

# The collection's own Python (the differential test reads module_utils/export_meaning.py),
# importable as Ansible loads it: <repo>/.collections holds a stateful/nfs link to the checkout.
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if os.path.join(REPO, ".collections") not in sys.path:
    sys.path.insert(0, os.path.join(REPO, ".collections"))

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
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        pytest.skip("needs MOLECULE_INVENTORY_FILE: run through `molecule verify`")
    project = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.dirname(os.path.dirname(SCENARIO_DIR)))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_PIPELINING="True",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(project, ".collections"))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(extra_vars, handle)
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
           "-e", "@" + handle.name, os.path.join(SCENARIO_DIR, "tests", "play_nfs_server.yml")]
    if check:
        cmd += ["--check", "--diff"]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    finally:
        os.unlink(handle.name)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    return proc.returncode, data, proc.stdout[-6000:] + proc.stderr[-3000:]
