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


def kernel_has_nfs_client(host):
    filesystems = host.file('/proc/filesystems').content_string.split()
    return 'nfs' in filesystems or 'nfs4' in filesystems


def _probe(host, check, method):
    return host.ansible('stateful.nfs.nfs_probe',
                        f'server={SERVER} export={SHARE} node={host.backend.get_hostname()} '
                        f'method={method} fail_on_error=false',
                        check=check)


def test_userspace_proof_succeeds_and_says_what_it_proves(host):
    result = _probe(host, check=False, method='userspace')
    assert result['ok'], result.get('message')
    assert result['reason'] == 'ok'
    assert result['changed'] is False
    assert result['method'] == 'userspace', result['method_reason']
    assert 'not that the node can mount NFS' in result['method_reason']
    steps = [step['step'].split()[0] for step in result['details']['steps']]
    assert steps == ['mount', 'write', 'read', 'remove'], steps
    assert all(step['ok'] for step in result['details']['steps']), result['details']['steps']
    assert result['version'] in (3, 4)


def test_proof_in_check_mode_writes_nothing(host):
    result = _probe(host, check=True, method='userspace')
    assert result['ok'], result.get('message')
    assert 'read-only check' in result['message']
    assert not any(step['step'].startswith('write') for step in result['details']['steps'])


def test_auto_proves_what_kubelet_needs(host):
    """`auto` used to pass these nodes through the user-space path although
    no NFS mount (kubelet's) can work on them. It must fail them, saying why, and say that the
    server side is fine from there."""
    result = _probe(host, check=False, method='auto')
    assert result['method'] == 'kernel'
    assert result['method_reason'].startswith('auto: a kernel mount (mount -t nfs), the way kubelet mounts')
    if kernel_has_nfs_client(host):
        assert result['ok'], result['message']
        return
    assert not result['ok']
    # nfs-common is installed (mount.nfs), the kernel has no NFS client
    assert result['reason'] == 'kernel_client_missing', result['message']
    # Debian 12 "mount.nfs: No such device", Debian 13 "mount.nfs: failed to prepare mount: No such device"
    assert 'mount.nfs: ' in result['message'] and 'No such device' in result['message']
    assert 'kubelet mounts NFS volumes with the kernel client too' in result['message']
    assert 'dmesg' not in result['message'] and 'Traceback' not in result['message']
    assert result['details']['userspace']['ok'] is True, result['details']['userspace']
    assert 'The server side is fine' in result['message']


def test_kernel_method_without_the_mount_helper(host):
    """no /sbin/mount.nfs is a reason of its own, and the message keeps
    mount's line that explains it (not the "dmesg(1) may have more information" line)."""
    helper = host.check_output('command -v mount.nfs || ls /sbin/mount.nfs')
    host.run_expect([0], f'mv {helper} {helper}.moved-by-test')
    try:
        kernel = _probe(host, check=False, method='kernel')
        auto = _probe(host, check=False, method='auto')
    finally:
        host.run_expect([0], f'mv {helper}.moved-by-test {helper}')
    for result in (kernel, auto):
        assert not result['ok']
        assert result['reason'] == 'mount_helper_missing', result['message']
        # With an NFS client in the kernel mount says "bad option; ... you might need a
        # /sbin/mount.<type> helper program"; without one (here) "unknown filesystem type".
        assert ('/sbin/mount.<type> helper program' in result['message']
                or "unknown filesystem type 'nfs'" in result['message']), result['message']
        assert 'no mount.nfs helper is installed' in result['message']
        assert 'install the NFS client (nfs-common on Debian' in result['message']
        assert 'dmesg' not in result['message'] and 'Traceback' not in result['message']
    assert 'userspace' not in kernel['details']
    assert auto['details']['userspace']['ok'] is True


def _server():
    return testinfra.get_host('ansible://' + SERVER, ansible_inventory=os.environ['MOLECULE_INVENTORY_FILE'])


@pytest.mark.parametrize('version', ['3', '4'])
def test_a_probe_file_left_by_an_interrupted_run_is_replaced(host, version):
    """A killed probe leaves .nfs-probe-<node> behind; libnfs creates guarded (NFS4ERR_EXIST /
    NFS3ERR_EXIST), which used to fail every later user-space proof from that node."""
    node = host.backend.get_hostname()
    stale = f'{SHARE}/.nfs-probe-{node}'
    server = _server()
    server.run_expect([0], f'echo left-by-an-interrupted-run > {stale}')
    try:
        result = host.ansible('stateful.nfs.nfs_probe', f'server={SERVER} export={SHARE} node={node} '
                              f'method=userspace version={version} fail_on_error=false', check=False)
    finally:
        present = server.file(stale).exists
        server.run_expect([0], f'rm -f {stale}')
    assert result['ok'], result['message']
    assert result['version'] == int(version)
    assert not present, 'the probe must remove the file it replaced'


def test_nothing_left_on_the_share():
    server = _server()
    for path in (SHARE, '/srv/nfs/restricted'):
        leftovers = server.check_output(f'find {path} -mindepth 1 -printf "%f\\n"')
        assert leftovers == '', f'{path}: {leftovers}'


def test_no_probe_mount_left_on_the_node(host):
    assert 'nfs-probe-' not in host.check_output('cat /proc/mounts')
    assert host.check_output('ls -d /tmp/nfs-probe-* 2>/dev/null || true') == ''
