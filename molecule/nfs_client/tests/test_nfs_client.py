"""Role nfs_client after converge: packages, the proof on every node, a clean share."""

import os

import pytest
import testinfra
from conftest import NODES, SERVER

testinfra_hosts = NODES

SHARE = '/srv/nfs/share'
PACKAGES = ['nfs-common', 'netbase', 'libnfs-utils', 'rpcbind']


@pytest.mark.parametrize('name', PACKAGES)
def test_client_package_installed(host, name):
    assert host.package(name).is_installed


def _expected_method(host):
    """What the node's kernel allows: kernel when it lists nfs/nfs4, else userspace."""
    filesystems = host.file('/proc/filesystems').content_string.split()
    return 'kernel' if ('nfs' in filesystems or 'nfs4' in filesystems) else 'userspace'


def _probe(host, check):
    return host.ansible('stateful.nfs.nfs_probe',
                        f'server={SERVER} export={SHARE} node={host.backend.get_hostname()} fail_on_error=false',
                        check=check)


def test_proof_succeeds_by_the_method_the_kernel_allows(host):
    result = _probe(host, check=False)
    assert result['ok'], result.get('message')
    assert result['reason'] == 'ok'
    assert result['changed'] is False
    method = _expected_method(host)
    assert result['method'] == method, result['method_reason']
    if method == 'userspace':
        assert 'kernel mount not possible' in result['method_reason']
        assert 'the kernel has no NFS client' in result['method_reason']
    steps = [step['step'].split()[0] for step in result['details']['steps']]
    assert steps[:3] == ['write', 'read', 'remove'] or steps[:4] == ['mount', 'write', 'read', 'remove'], steps
    assert all(step['ok'] for step in result['details']['steps']), result['details']['steps']
    assert result['version'] in (3, 4)


def test_proof_in_check_mode_writes_nothing(host):
    result = _probe(host, check=True)
    assert result['ok'], result.get('message')
    assert 'read-only check' in result['message']
    assert not any(step['step'].startswith('write') for step in result['details']['steps'])


def test_nothing_left_on_the_share():
    server = testinfra.get_host('ansible://' + SERVER,
                                ansible_inventory=os.environ['MOLECULE_INVENTORY_FILE'])
    for path in (SHARE, '/srv/nfs/restricted'):
        leftovers = server.check_output(f'find {path} -mindepth 1 -printf "%f\\n"')
        assert leftovers == '', f'{path}: {leftovers}'


def test_no_probe_mount_left_on_the_node(host):
    assert 'nfs-probe-' not in host.check_output('cat /proc/mounts')
    assert host.check_output('ls -d /tmp/nfs-probe-* 2>/dev/null || true') == ''
