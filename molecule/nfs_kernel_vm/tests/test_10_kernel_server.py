"""nfs_server with the kernel backend, checked against the server VM's running kernel:
packages from Debian's mirror, /etc/nfs.conf as nfsd runs it, /etc/exports as the kernel
exports it (loaded by the role's `exportfs -ra` handler), the service, and what a client
sees with showmount."""

import pytest
from conftest import (
    CLIENT_ADDRESS,
    EXPORTS,
    LAN,
    MANUAL_EXPORT,
    NFS_THREADS,
    NFS_VERSIONS,
    SERVER_ADDRESS,
    exportfs_entries,
)


def test_nfs_kernel_server_was_installed_from_debian_mirror_by_the_role(server):
    # The image has neither the package nor apt's package lists (tests/lab/vm/packages).
    assert server.package('nfs-kernel-server').is_installed
    history = server.file('/var/log/apt/history.log').content_string
    assert 'nfs-kernel-server:amd64' in history.split('Install:', 1)[1], history
    lists = server.run_expect([0], 'ls /var/lib/apt/lists').stdout
    assert 'deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages' in lists, lists


def test_nfs_conf_reaches_the_kernel_nfsd(server):
    conf = server.file('/etc/nfs.conf').content_string
    assert f'threads={NFS_THREADS}' in conf.replace(' ', '')
    assert server.file('/proc/fs/nfsd/threads').content_string.split() == [str(NFS_THREADS)]
    # e.g. "-2 +3 +4 -4.0 +4.1 +4.2"
    offered = {v[1:]: v[0] == '+' for v in server.file('/proc/fs/nfsd/versions').content_string.split()}
    for version, enabled in NFS_VERSIONS.items():
        assert offered.get(version) is enabled, (version, offered)


def test_kernel_nfs_server_runs(server):
    assert 'nfsd' in server.file('/proc/filesystems').content_string.split()
    service = server.service('nfs-server')
    assert service.is_running and service.is_enabled
    # The kernel's nfsd threads exist.
    assert server.run_expect([0], 'pgrep -c -x nfsd').stdout.strip() == str(NFS_THREADS)


def test_exportfs_lists_each_export_with_its_options(server):
    entries = exportfs_entries(server.check_output('exportfs -v'))
    table = {(path, client): options for path, client, options in entries}
    for path, clients in EXPORTS.items():
        for client, options in clients.items():
            assert (path, client) in table, entries
            assert set(options) <= set(table[path, client]), (path, client, table[path, client])
        # The role proves every export through this loopback client.
        assert (path, '127.0.0.1') in table, entries
    path, client, options = MANUAL_EXPORT
    assert set(options) <= set(table[path, client])


def test_exports_change_reached_the_kernel_through_exportfs_without_a_restart(server):
    # prepare.yml exported /srv/squashed with no_root_squash, converge with root_squash.
    # The server has not been restarted since prepare, so the role's `exportfs -ra`
    # handler is what loaded the change (the mount tests see the kernel apply it).
    before = {(p, c): o for p, c, o in
              exportfs_entries(server.file('/var/tmp/nfs_kernel_vm-prepared.exportfs').content_string)}
    assert 'no_root_squash' in before['/srv/squashed', LAN], before
    prepared = float(server.file('/var/tmp/nfs_kernel_vm-prepared').content_string)
    started_us = int(server.check_output('systemctl show -P ActiveEnterTimestampMonotonic nfs-server'))
    assert 0 < started_us / 1e6 < prepared
    table = {(p, c): o for p, c, o in exportfs_entries(server.check_output('exportfs -v'))}
    options = table['/srv/squashed', LAN]
    assert 'root_squash' in options and 'no_root_squash' not in options, options


@pytest.mark.parametrize('path, clients', list(EXPORTS.items()))
def test_showmount_from_the_client_lists_the_export_and_its_clients(client, path, clients):
    out = client.check_output(f'timeout 60 showmount -e {SERVER_ADDRESS}')
    listed = {line.split()[0]: line.split()[1].split(',') for line in out.splitlines()[1:] if line.strip()}
    assert path in listed, out
    assert set(clients) <= set(listed[path]), (path, listed[path])
    assert CLIENT_ADDRESS in listed['/srv/nfs']
