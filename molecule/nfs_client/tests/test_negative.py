"""Negative cases and bad input for role nfs_client, against the scenario's instances.

Each test runs the role (tests/play_nfs_client.yml) with other variables and checks
that the play fails with one clear message naming the node(s) and the reason, while
the other nodes are still reported, and that nothing was mounted or written.
"""

import os
import subprocess

import pytest
import testinfra
from conftest import NODES, SERVER, failures, task_results

# These tests drive ansible-playbook themselves; run them once, not per host.
testinfra_hosts = [SERVER]

SUMMARY = 'Summarise the proof of every node'
FAIL_ONCE = 'Fail once, naming every node whose proof failed'
QUICK = {'nfs_client_install': False}


def _summary_lines(data):
    results = task_results(data, SUMMARY)
    assert len(results) == 1, f'the summary must be printed once, got {list(results)}'
    return next(iter(results.values()))['msg']


def _line(lines, node):
    matching = [line for line in lines if line.startswith(node + ':')]
    assert len(matching) == 1, f'one summary line for {node} expected in {lines}'
    return matching[0]


def _share_entries(host, path):
    return host.check_output(f'find {path} -mindepth 1 -printf "%f\\n"').split()


def test_node_not_in_client_list_fails_once_naming_it(host, run_role):
    """Export offered to node1 and node2 only: node3 fails, node1/node2 reported ok."""
    rc, data, text = run_role({'nfs_client_export': '/srv/nfs/restricted'})
    assert rc != 0, text[-3000:]
    assert data is not None, text[-3000:]

    lines = _summary_lines(data)
    assert len(lines) == 3, lines
    for node in NODES[:2]:
        line = _line(lines, node)
        assert line.startswith(node + ': ok, method userspace'), line
    bad = _line(lines, NODES[2])
    assert bad.startswith(NODES[2] + ': FAILED'), bad
    assert 'export_not_allowed' in bad, bad

    failed = failures(data)
    assert len(failed) == 1, f'the play must fail once, not per task: {failed}'
    task, _, msg = failed[0]
    assert FAIL_ONCE in task
    assert 'failed on 1 of 3 node(s)' in msg, msg
    assert NODES[2] + ' (export_not_allowed' in msg, msg
    for node in NODES[:2]:
        assert node not in msg, msg
    assert _share_entries(host, '/srv/nfs/restricted') == []


def test_auto_fails_every_node_that_kubelet_could_not_mount_on(host, run_role):
    """At role level, with the default proof (auto) these nodes, which cannot
    mount NFS (kernel without an NFS client), fail once, each named with the reason, instead of
    passing through the user-space path."""
    if 'nfs' in host.file('/proc/filesystems').content_string.split():
        pytest.skip('this kernel has an NFS client: the nodes can mount, nothing to refuse')
    rc, data, text = run_role(dict(QUICK, nfs_client_proof_method='auto'))
    assert rc != 0, text[-3000:]
    lines = _summary_lines(data)
    for node in NODES:
        line = _line(lines, node)
        assert line.startswith(node + ': FAILED, method kernel: kernel_client_missing: '), line
        assert 'The server side is fine' in line, line
    failed = failures(data)
    assert len(failed) == 1, failed
    assert 'failed on 3 of 3 node(s)' in failed[0][2]
    for node in NODES:
        assert node + ' (kernel_client_missing: mounting ' in failed[0][2], failed[0][2]
    assert _share_entries(host, '/srv/nfs/share') == []


def test_stopped_server_names_every_node_with_connection_refused(host, run_role):
    """NFS-Ganesha stopped: every node fails with connection_refused, reported once."""
    host.run_expect([0], 'systemctl stop nfs-ganesha')
    try:
        rc, data, text = run_role(dict(QUICK))
    finally:
        host.run_expect([0], 'systemctl start nfs-ganesha')
    assert rc != 0, text[-3000:]
    failed = failures(data)
    assert len(failed) == 1, failed
    msg = failed[0][2]
    assert 'failed on 3 of 3 node(s)' in msg, msg
    for node in NODES:
        assert node + ' (connection_refused' in msg, msg


def test_node_down_is_named(run_role):
    """A node that cannot be reached (container stopped) is named in the one failure."""
    docker = '/usr/bin/docker'
    subprocess.run([docker, 'stop', '-t', '5', NODES[2]], check=True, timeout=60,
                   stdout=subprocess.DEVNULL)
    try:
        rc, data, text = run_role(dict(QUICK))
    finally:
        subprocess.run([docker, 'start', NODES[2]], check=True, timeout=60, stdout=subprocess.DEVNULL)
    assert rc != 0, text[-3000:]
    lines = _summary_lines(data)
    for node in NODES[:2]:
        assert _line(lines, node).startswith(node + ': ok'), lines
    assert 'no proof: the node failed or became unreachable' in _line(lines, NODES[2])
    fail_once = [f for f in failures(data) if FAIL_ONCE in f[0]]
    assert len(fail_once) == 1, failures(data)
    assert 'failed on 1 of 3 node(s)' in fail_once[0][2]
    assert NODES[2] + ' (no proof' in fail_once[0][2]


def test_server_name_that_does_not_resolve(run_role):
    rc, data, text = run_role(dict(QUICK, nfs_client_server='no-such-nfs-server.invalid'))
    assert rc != 0, text[-3000:]
    failed = failures(data)
    assert len(failed) == 1, failed
    msg = failed[0][2]
    for node in NODES:
        assert node + " (dns: server name 'no-such-nfs-server.invalid' does not resolve" in msg, msg


def test_export_the_server_does_not_export(run_role):
    rc, data, text = run_role(dict(QUICK, nfs_client_export='/srv/nfs/not-exported'))
    assert rc != 0, text[-3000:]
    failed = failures(data)
    assert len(failed) == 1, failed
    msg = failed[0][2]
    for node in NODES:
        assert node + " (export_not_found: export '/srv/nfs/not-exported' is not among" in msg, msg


def _fstab_untouched(path):
    for node in NODES:
        node_host = testinfra.get_host('ansible://' + node, ansible_inventory=_inventory_file())
        assert path not in node_host.file('/etc/fstab').content_string
        assert not node_host.mount_point(path).exists


def _inventory_file():
    return os.environ['MOLECULE_INVENTORY_FILE']


def test_invalid_mount_options(run_role):
    mounts = [{'path': '/mnt/nfs-bad-opts', 'opts': 'rw,vers=5,bogus_option,timeo=soon', 'state': 'present'}]
    rc, data, text = run_role(dict(QUICK, nfs_client_mounts=mounts))
    assert rc != 0, text[-3000:]
    failed = failures(data)
    assert {host for _, host, _ in failed} == set(NODES), failed
    for task, _, msg in failed:
        assert 'mount options' in task
        assert "option 'vers=5' has an invalid value" in msg, msg
        assert "option 'bogus_option' is unknown" in msg, msg
        assert "option 'timeo=soon' has an invalid value" in msg, msg
    # Stopped before the proof: no summary, nothing written.
    assert task_results(data, SUMMARY) == {}
    _fstab_untouched('/mnt/nfs-bad-opts')


def test_mount_entry_without_path(run_role):
    rc, data, text = run_role(dict(QUICK, nfs_client_mounts=[{'opts': 'rw'}]))
    assert rc != 0, text[-3000:]
    failed = failures(data)
    assert {host for _, host, _ in failed} == set(NODES), failed
    for _, _, msg in failed:
        assert 'nfs_client_mounts' in msg and 'path' in msg, msg


def test_mounted_state_on_a_kernel_without_nfs(run_role):
    """This host's kernel has no NFS client: state mounted must be refused clearly."""
    mounts = [{'path': '/mnt/nfs-kernel'}]
    rc, data, text = run_role(dict(QUICK, nfs_client_mounts=mounts))
    assert rc != 0, text[-3000:]
    failed = failures(data)
    assert {host for _, host, _ in failed} >= set(NODES), failed
    msgs = [msg for _, _, msg in failed]
    for node in NODES:
        assert any(f'Cannot mount /mnt/nfs-kernel on {node}' in m and 'kernel has no NFS client' in m
                   for m in msgs), msgs
    _fstab_untouched('/mnt/nfs-kernel')


def test_fstab_entry_present_then_absent(run_role):
    """state present writes /etc/fstab only (works without a kernel NFS client)."""
    mounts = [{'path': '/mnt/nfs-fstab', 'state': 'present'}]
    rc, _, text = run_role(dict(QUICK, nfs_client_mounts=mounts))
    assert rc == 0, text[-3000:]
    for node in NODES:
        node_host = testinfra.get_host('ansible://' + node, ansible_inventory=_inventory_file())
        fstab = node_host.file('/etc/fstab').content_string
        entry = [line for line in fstab.splitlines() if ' /mnt/nfs-fstab ' in line]
        assert len(entry) == 1, fstab
        assert entry[0].split()[0].endswith(':/srv/nfs/share'), entry
        assert entry[0].split()[2:4] == ['nfs', 'rw,hard,noatime,_netdev'], entry
    mounts[0]['state'] = 'absent'
    rc, _data, text = run_role(dict(QUICK, nfs_client_mounts=mounts))
    assert rc == 0, text[-3000:]
    _fstab_untouched('/mnt/nfs-fstab')
