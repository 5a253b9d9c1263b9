"""Hosts and helpers of the nfs_kernel_vm scenario's tests (run by molecule's testinfra verifier).

The server and client are Debian 12 VMs on real (emulated) kernels; the tests reach them
through molecule's inventory, over SSH.
"""

import os
import secrets
import shlex

import pytest
import testinfra

SERVER = 'nfs_kernel_vm-server'
CLIENT = 'nfs_kernel_vm-client'
SERVER_ADDRESS = '10.99.0.10'
CLIENT_ADDRESS = '10.99.0.20'
LAN = '10.99.0.0/24'
# What converge asks for (molecule.yml): the default client list is the k8s_nodes group.
EXPORTS = {
    '/srv/nfs': {CLIENT_ADDRESS: ['rw', 'sync', 'no_subtree_check', 'no_root_squash']},
    '/srv/squashed': {LAN: ['rw', 'sync', 'no_subtree_check', 'root_squash']},
}
# Written by hand in prepare.yml; the role must leave it alone.
MANUAL_EXPORT = ('/srv/manual', LAN, ['ro', 'sync', 'no_subtree_check'])
# Exported by prepare.yml's run of the role, dropped from the list by converge.
DROPPED_EXPORT = '/srv/dropped'
NFS_VERSIONS = {'3': True, '4.0': False, '4.1': True, '4.2': True}
NFS_THREADS = 4
ANON_UID = 65534            # exports(5): anonuid defaults to nobody's uid
# Every mount, read and write on the client is bounded (seconds).
MOUNT_TIMEOUT = 120


def inventory_file():
    path = os.environ.get('MOLECULE_INVENTORY_FILE')
    if not path:
        pytest.skip('needs the molecule scenario: run `molecule test -s nfs_kernel_vm`')
    return path


def vm_host(name):
    return testinfra.get_host('ansible://' + name, ansible_inventory=inventory_file())


@pytest.fixture(scope='session')
def server():
    return vm_host(SERVER)


@pytest.fixture(scope='session')
def client():
    return vm_host(CLIENT)


def q(value):
    return shlex.quote(value)


def exportfs_entries(text):
    """Parse `exportfs -v` output into [(path, client, [options])].

    exportfs prints "path<blanks><TAB>client(options)", or, for a path longer than 14
    characters, the path alone and "<TAB><TAB>client(options)" on the next line
    (nfs-utils utils/exportfs/exportfs.c, dump()).
    """
    entries = []
    path = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if '(' not in line:
            path = line.rstrip(' ')
            continue
        head, _, tail = line.rpartition('\t')
        if head.strip():
            path = head.rstrip(' ')
        client, _, options = tail.partition('(')
        entries.append((path, client, options.rstrip(')').split(',')))
    return entries


@pytest.fixture()
def client_mount(client):
    """Mount an export on the client with mount(8) options; unmounted after the test."""
    mounted = []

    def mount(export, options):
        target = f'/mnt/nfs_kernel_vm-{secrets.token_hex(4)}'
        client.run_expect([0], f'mkdir -p {q(target)}')
        cmd = client.run(f'timeout {MOUNT_TIMEOUT} mount -t nfs -o {q(options)} '
                         f'{SERVER_ADDRESS}:{q(export)} {q(target)}')
        if cmd.rc == 0:
            mounted.append(target)
        return cmd, target

    yield mount
    for target in mounted:
        client.run(f'timeout {MOUNT_TIMEOUT} umount {q(target)}; rmdir {q(target)}')
