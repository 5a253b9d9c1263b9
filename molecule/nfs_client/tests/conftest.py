"""Helpers for the nfs_client scenario's tests (run by molecule's testinfra verifier)."""

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.support.playbook import molecule_play

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = 'nfs_client-server'
NODES = ['nfs_client-node1', 'nfs_client-node2', 'nfs_client-node3']
PLAYBOOK_TIMEOUT = 420


def _inventory():
    inventory_file = os.environ.get('MOLECULE_INVENTORY_FILE')
    if not inventory_file:
        pytest.skip('needs the molecule scenario: run `molecule verify -s nfs_client`')
    # The directory: molecule writes host_vars next to the inventory file.
    return os.path.dirname(inventory_file)


@pytest.fixture(scope='session')
def run_role():
    """Run the role on the scenario's nodes with extra vars; return (rc, json, text)."""
    inventory = _inventory()

    def run(extra_vars):
        return molecule_play(os.path.join(HERE, 'play_nfs_client.yml'), extra_vars, inventory=inventory,
                             timeout=PLAYBOOK_TIMEOUT)
    return run


def task_results(data, name_part):
    """{host: result} of the (last) task whose name contains name_part."""
    found = {}
    for play in data['plays']:
        for task in play['tasks']:
            if name_part in task['task']['name']:
                found = task['hosts']
    return found


def failures(data):
    """[(task name, host, msg)] of every failed or unreachable result."""
    out = []
    for play in data['plays']:
        for task in play['tasks']:
            for host, result in task['hosts'].items():
                if result.get('failed') or result.get('unreachable'):
                    out.append((task['task']['name'], host, result.get('msg', '')))
    return out
