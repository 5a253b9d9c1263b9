"""Unit tests for stateful.nfs.nfs_probe: failure classification, node capability,
RPC NULL encoding, export listing parsing, and the probe's decisions with injected
tools. No containers; network only on loopback (a fake RPC server)."""

from __future__ import annotations

import errno
import json
import socket
import struct
import threading

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.stateful.nfs.plugins.module_utils import nfs_libnfs_session as session
from ansible_collections.stateful.nfs.plugins.module_utils import nfs_probe as np
from ansible_collections.stateful.nfs.plugins.module_utils import nfs_probe_module as runner
from ansible_collections.stateful.nfs.plugins.modules import nfs_probe as module

# ---------------------------------------------------------------- classification
# Real output of libnfs 4.0 (Debian 12), showmount and mount.nfs against NFS-Ganesha.
TOOL_OUTPUT = [
    (('Failed to mount nfs share : nfs_mount_async failed. Failed to start connection. '
     'Invalid address:nosuchhost.invalid. Can not resolv into IPv4/v6 structure.'), 'dns'),
    ('clnt_create: RPC: Unknown host', 'dns'),
    ('rpc mount failed: connect() to server failed: Connection refused', 'connection_refused'),
    ('clnt_create: RPC: Port mapper failure - Unable to receive: errno 111 (Connection refused)',
     'connection_refused'),
    ('connect: No route to host', 'unreachable'),
    ('clnt_create: RPC: Unable to receive', 'timeout'),
    ('mount.nfs: Connection timed out', 'timeout'),
    (('Failed to mount nfs share : mount_cb: RPC error: Mount failed with error '
     'MNT3ERR_ACCES(13) Permission denied(13)'), 'export_not_allowed'),
    (('Failed to mount nfs share : mount_cb: NFS4: (path /srv/nfs) failed with '
     'NFS4ERR_NOENT(-2)'), 'export_not_allowed'),
    ('mount.nfs: access denied by server while mounting srv:/srv/nfs', 'export_not_allowed'),
    ('Failed to mount nfs share : mount_cb: RPC error: Mount failed with error MNT3ERR_NOENT(2)',
     'export_not_found'),
    ('mount.nfs: mounting srv:/x failed, reason given by server: No such file or directory',
     'export_not_found'),
    (('Failed to creat file /pp: creat call failed with "NFS: CREATE of /pp failed with '
     'NFS3ERR_ROFS(-30)"'), 'permission_denied'),
    (('Failed to creat file /pp: creat call failed with "NFS4: (path /) failed with '
     'NFS4ERR_ROFS(-30)"'), 'permission_denied'),
    (('Failed to creat file /pp: creat call failed with "NFS: CREATE of /pp failed with '
     'NFS3ERR_ACCES(-13)"'), 'permission_denied'),
    # mount(8) without /sbin/mount.nfs on a kernel with NFS ...
    (('mount: /tmp/nfs-probe-x: bad option; for several filesystems (e.g. nfs, cifs) you might need a '
      '/sbin/mount.<type> helper program.\n       dmesg(1) may have more information after failed mount '
      'system call.'), 'mount_helper_missing'),
    # ... and on a kernel without (measured: Debian 12 container, util-linux 2.38)
    ("mount: /mnt/x: unknown filesystem type 'nfs'.\n       dmesg(1) may have more information after "
     "failed mount system call.", 'mount_helper_missing'),
    ('mount.nfs: No such device', 'kernel_client_missing'),
    ('mount.nfs4: No such device', 'kernel_client_missing'),
    ('mount.nfs: failed to prepare mount: No such device', 'kernel_client_missing'),   # Debian 13
    ('mount.nfs: Operation not permitted', 'mount_not_permitted'),
    ('mount: /mnt/x: permission denied.\n       dmesg(1) may have more information after failed mount '
     'system call.', 'mount_not_permitted'),
    ('something nobody has seen before', 'error'),
    ('', 'error'),
]


@pytest.mark.parametrize('text,reason', TOOL_OUTPUT)
def test_classify_tool_output(text, reason):
    assert np.classify(text) == reason


def test_every_classification_is_a_documented_reason():
    for _, reason in TOOL_OUTPUT:
        assert reason in np.REASONS
    for reason in np.REASONS:
        assert reason in module.DOCUMENTATION or reason == 'ok'


@pytest.mark.parametrize('exc,reason', [
    (socket.gaierror(-2, 'Name or service not known'), 'dns'),
    (TimeoutError('timed out'), 'timeout'),
    (ConnectionRefusedError(errno.ECONNREFUSED, 'Connection refused'), 'connection_refused'),
    (OSError(errno.EHOSTUNREACH, 'No route to host'), 'unreachable'),
    (OSError(errno.ENETUNREACH, 'Network is unreachable'), 'unreachable'),
    (OSError(errno.ETIMEDOUT, 'Connection timed out'), 'timeout'),
    (OSError(errno.EPIPE, 'Broken pipe'), 'error'),
])
def test_classify_socket_errors(exc, reason):
    assert np.classify_socket_error(exc) == reason


@pytest.mark.parametrize('exc,reason', [
    (PermissionError(errno.EACCES, 'Permission denied'), 'permission_denied'),
    (OSError(errno.EROFS, 'Read-only file system'), 'permission_denied'),
    (OSError(errno.ETIMEDOUT, 'timed out'), 'timeout'),
])
def test_classify_os_errors(exc, reason):
    assert np.classify_os_error(exc) == reason


def test_telling_line_prefers_the_line_with_the_error():
    out = ('Failed to mount nfs share : mount_cb: RPC error: Mount failed with error '
           'MNT3ERR_ACCES(13) Permission denied(13)\nFailed to open nfs://s/e/f')
    assert 'MNT3ERR_ACCES' in np.telling_line(out)
    assert np.telling_line('first\nlast') == 'last'
    assert np.telling_line('') == ''


# ---------------------------------------------------------------- capability
FS_WITHOUT_NFS = 'nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n'
FS_WITH_NFS = FS_WITHOUT_NFS + 'nodev\tnfs\nnodev\tnfs4\n'
STATUS_ROOT_CONTAINER = 'Name:\tpython3\nCapEff:\t00000000a82435fb\n'   # docker + SYS_ADMIN
STATUS_DEFAULT_CONTAINER = 'Name:\tpython3\nCapEff:\t00000000a80425fb\n'  # docker default


def test_cap_sys_admin_bit():
    assert np.has_cap_sys_admin(STATUS_ROOT_CONTAINER)
    assert not np.has_cap_sys_admin(STATUS_DEFAULT_CONTAINER)
    assert not np.has_cap_sys_admin('no caps line')


def test_kernel_nfs_types():
    assert np.kernel_nfs_types(FS_WITHOUT_NFS) == []
    assert np.kernel_nfs_types(FS_WITH_NFS) == ['nfs', 'nfs4']


def test_kernel_capability_all_present():
    ok, why = np.kernel_capability(FS_WITH_NFS, STATUS_ROOT_CONTAINER, '/sbin/mount.nfs', False)
    assert ok and 'supports NFS' in why


def test_kernel_capability_module_loadable_counts():
    ok, _ = np.kernel_capability(FS_WITHOUT_NFS, STATUS_ROOT_CONTAINER, '/sbin/mount.nfs', True)
    assert ok


def test_kernel_capability_explains_every_missing_piece():
    ok, why = np.kernel_capability(FS_WITHOUT_NFS, STATUS_DEFAULT_CONTAINER, None, False)
    assert not ok
    assert 'the kernel has no NFS client' in why
    assert 'mount.nfs is not installed' in why
    assert 'CAP_SYS_ADMIN' in why


def test_kernel_capability_this_lab():
    ok, why = np.kernel_capability(FS_WITHOUT_NFS, STATUS_ROOT_CONTAINER, '/sbin/mount.nfs', False)
    assert not ok
    assert why.startswith('the kernel has no NFS client')
    assert 'CAP_SYS_ADMIN' not in why


# ---------------------------------------------------------------- RPC NULL
def _reply(xid, reply_stat=0, accept=0, verf=b''):
    body = struct.pack('>III', xid, 1, reply_stat)
    body += struct.pack('>II', 0, len(verf)) + verf + b'\0' * ((4 - len(verf) % 4) % 4)
    body += struct.pack('>I', accept)
    return struct.pack('>I', 0x80000000 | len(body)) + body


def test_rpc_null_call_encoding():
    data = np.rpc_null_call(0x1234, 100003, 4)
    marker, = struct.unpack('>I', data[:4])
    assert marker & 0x80000000 and marker & 0x7fffffff == len(data) - 4 == 40
    assert struct.unpack('>IIIIII', data[4:28]) == (0x1234, 0, 2, 100003, 4, 0)
    assert data[28:] == b'\0' * 16


@pytest.mark.parametrize('reply,ok,detail', [
    (_reply(7), True, 'ok'),
    (_reply(7, verf=b'abcde'), True, 'ok'),
    (_reply(7, accept=2), False, 'version not supported'),
    (_reply(7, accept=1), False, 'program unavailable'),
    (_reply(7, reply_stat=1), False, 'RPC call denied'),
    (_reply(8), False, 'not a reply to our call'),
    (b'\x80\x00\x00\x04abcd', False, 'short RPC reply (8 bytes)'),
])
def test_parse_rpc_reply(reply, ok, detail):
    assert np.parse_rpc_reply(reply, 7) == (ok, detail)


@pytest.fixture
def fake_rpc_server():
    """A loopback TCP server answering one RPC NULL per connection, NFSv4 only."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(4)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        for _ in range(100):  # bounded: at most 20 s
            if stop.is_set():
                return
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            with conn:
                data = conn.recv(4096)
                xid, _, _, _, version = struct.unpack('>IIIII', data[4:24])
                conn.sendall(_reply(xid, accept=0 if version == 4 else 2))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    srv.close()
    thread.join(5)


def test_rpc_null_against_a_fake_server(fake_rpc_server):
    assert np.rpc_null('127.0.0.1', 4, 5, port=fake_rpc_server) == (True, 'ok')
    assert np.rpc_null('127.0.0.1', 3, 5, port=fake_rpc_server) == (False, 'version not supported')


def test_probe_versions_connection_refused(monkeypatch):
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setattr(np, 'NFS_PORT', port)
    with pytest.raises(np.ProbeFailure) as info:
        np.probe_versions('127.0.0.1', 2)
    assert info.value.reason == 'connection_refused'
    assert info.value.step == 'connect'


def test_resolve_failure_is_dns(monkeypatch):
    def fail(*_args, **_kwargs):
        raise socket.gaierror(-2, 'Name or service not known')
    monkeypatch.setattr(np.socket, 'getaddrinfo', fail)
    with pytest.raises(np.ProbeFailure) as info:
        np.resolve('no-such.invalid')
    assert info.value.reason == 'dns'
    assert "'no-such.invalid' does not resolve" in info.value.message


# ---------------------------------------------------------------- showmount, URLs
def test_parse_showmount():
    out = '/srv/nfs/share 172.20.0.3/32,172.20.0.4/32\n/srv/other *\n'
    assert np.parse_showmount(out) == [
        {'path': '/srv/nfs/share', 'clients': ['172.20.0.3/32', '172.20.0.4/32']},
        {'path': '/srv/other', 'clients': ['*']},
    ]
    assert np.parse_showmount('Export list for x:\n') == []


def test_nfs_source_and_probe_file_name():
    assert np.nfs_source('srv', '/srv/nfs') == 'srv:/srv/nfs'
    assert np.nfs_source('fd00::1', '/e') == '[fd00::1]:/e'
    assert np.probe_file_name('node 1/x') == '.nfs-probe-node_1_x'


# ---------------------------------------------------------------- the probe
class FakeTools:
    """Stands in for showmount and the libnfs session (``python3 -c SESSION_SOURCE request``).

    The session answers as the program does, one JSON line per step: ``nfs_mount``, ``write``,
    ``remove`` are None (the step passes) or libnfs' error text; ``read`` and ``disk`` (with
    ``local_path`` in the request) are the text read back (default: what was written) or
    ``('error', text)``; ``rc``/``err`` override the session's exit status and stderr
    (None: it timed out; 3: no libnfs).
    """

    def __init__(self, listing='/srv/nfs 10.0.0.0/24\n', nfs_mount=None, write=None, read=None, remove=None,
                 rc=0, err='', disk=None):
        self.listing, self.nfs_mount, self.write, self.read, self.remove = listing, nfs_mount, write, read, remove
        self.rc, self.err, self.disk = rc, err, disk
        self.calls, self.requests = [], []

    def __call__(self, cmd, timeout, data=None):
        self.calls.append(cmd)
        tool = cmd[0].rsplit('/', 1)[-1]
        if tool == 'showmount':
            return (0, self.listing, '') if self.listing is not None else (1, '', 'clnt_create: RPC: Program not registered')
        if cmd[1:3] == ['-c', session.program_source()]:
            request = json.loads(cmd[3])
            self.requests.append(request)
            return self.rc, ''.join(json.dumps(line) + '\n' for line in self._session(request)), self.err
        raise AssertionError(f'unexpected command {cmd}')

    def _session(self, request):
        def step(name, error=None, data=None):
            return {'step': name, 'ok': error is None, 'error': error or '', 'data': data}
        if self.rc is None or self.rc == 3:
            return []
        lines = [step('mount', self.nfs_mount)]
        if self.nfs_mount is not None:
            return lines
        if request['mode'] == 'list':
            return lines + [step('list')]
        if request['mode'] == 'mkdir':  # the directory's steps answer as the file's: write -> mkdir
            lines.append(step('mkdir', self.write))
            return lines + [step('rmdir', self.remove)] if self.write is None else lines
        lines.append(step('write', self.write))
        if self.write is None:
            lines.append(self._read_step('read', self.read, request))
            if lines[-1]['ok'] and request.get('local_path'):
                lines.append(self._read_step('disk', self.disk, request))
        return lines + [step('remove', self.remove)]

    @staticmethod
    def _read_step(name, answer, request):
        if isinstance(answer, tuple):
            return {'step': name, 'ok': False, 'error': answer[1], 'data': None}
        return {'step': name, 'ok': True, 'error': '', 'data': request['content'] if answer is None else answer}


@pytest.fixture
def network_ok(monkeypatch):
    monkeypatch.setattr(np, 'resolve', lambda server: '10.0.0.1')
    monkeypatch.setattr(np, 'probe_versions', lambda address, timeout: {3: True, 4: True})
    monkeypatch.setattr(np, '_which', lambda name: '/usr/bin/' + name)


NO_KERNEL = (False, 'the kernel has no NFS client (...)')


def _probe(tools, **kwargs):
    """The user-space round trip unless the test asks for another method."""
    args = {'server': 'srv', 'export': '/srv/nfs', 'node': 'node1', 'capability': NO_KERNEL, 'runner': tools,
            'method': 'userspace'}
    args.update(kwargs)
    return np.probe(**args)


def test_userspace_round_trip_ok(network_ok):
    tools = FakeTools()
    result = _probe(tools)
    assert result['ok'] and result['reason'] == 'ok'
    assert result['method'] == 'userspace'
    assert result['method_reason'].startswith('requested (method=userspace): proves the server, the network '
                                              'and the export from this node, not that the node can mount NFS')
    assert result['version'] == 4
    assert [s['step'].split()[0] for s in result['details']['steps']] == ['mount', 'write', 'read', 'remove']
    request = tools.requests[0]
    assert (request['server'], request['export'], request['path'], request['version'], request['mode']) == \
        ('srv', '/srv/nfs', '/.nfs-probe-node1', 4, 'round_trip')
    assert request['timeout_ms'] == 10000 and tools.calls[1][0] == 'python3'
    assert result['exports'] == [{'path': '/srv/nfs', 'clients': ['10.0.0.0/24']}]


def test_every_session_has_a_client_owner_of_its_own(network_ok):
    """libnfs' default NFSv4 owner (pid and second) was the same on nodes probing at once from
    containers: the server took them for one client and expired one's open (NFS4ERR_EXPIRED)."""
    tools = FakeTools()
    for node in ('node1', 'node2', 'node1'):
        assert _probe(tools, node=node)['ok']
    owners = [request['client_name'] for request in tools.requests]
    assert len(set(owners)) == 3
    assert owners[0].startswith('stateful.nfs nfs_probe node1 ') and owners[1].startswith('stateful.nfs nfs_probe node2 ')


def test_check_mode_only_lists(network_ok):
    tools = FakeTools()
    result = _probe(tools, write=False)
    assert result['ok'] and 'read-only check' in result['message']
    assert [c[0].rsplit('/', 1)[-1] for c in tools.calls] == ['showmount', 'python3']
    assert tools.requests[0]['mode'] == 'list'
    assert [s['step'].split()[0] for s in result['details']['steps']] == ['mount', 'list']


def test_refused_mount_with_export_listed_is_not_allowed(network_ok):
    tools = FakeTools(nfs_mount=('mount_cb: RPC error: Mount failed with error MNT3ERR_ACCES(13) '
                             'Permission denied(13)'))
    result = _probe(tools, version='3')
    assert not result['ok'] and result['reason'] == 'export_not_allowed'
    assert 'the server exports it, but not to this client' in result['message']
    assert result['message'].startswith('export_not_allowed: mounting srv:/srv/nfs failed: mount_cb: ')
    assert result['details']['failed_step'] == 'mount'
    # Nothing was written, so nothing is read or removed.
    assert [s['step'].split()[0] for s in result['details']['steps']] == ['mount']


def test_refused_mount_hidden_export_known_from_configuration(network_ok):
    tools = FakeTools(listing='', nfs_mount='mount_cb: NFS4: (path /srv/nfs) failed with NFS4ERR_NOENT(-2)')
    result = _probe(tools, known_exports=['/srv/nfs'])
    assert result['reason'] == 'export_not_allowed'
    assert 'configured on the server but not offered to this client' in result['message']


def test_refused_mount_hidden_export_unknown_says_both(network_ok):
    tools = FakeTools(listing='/srv/other *\n',
                      nfs_mount='mount_cb: NFS4: (path /srv/nfs) failed with NFS4ERR_NOENT(-2)')
    result = _probe(tools)
    assert not result['ok']
    assert 'either not exported or not exported to this client' in result['message']


def test_export_not_in_configuration_fails_before_any_traffic(monkeypatch):
    def no_network(*_args):
        raise AssertionError('no network expected')
    monkeypatch.setattr(np, 'resolve', no_network)
    tools = FakeTools()
    result = _probe(tools, export='/srv/nope', known_exports=['/srv/nfs'])
    assert result['reason'] == 'export_not_found'
    assert "export '/srv/nope' is not among the server's configured exports ['/srv/nfs']" in result['message']
    assert tools.calls == []


def test_write_denied(network_ok):
    tools = FakeTools(write='open call failed with "NFS4: (path /) failed with NFS4ERR_ROFS(-30)"')
    result = _probe(tools)
    assert result['reason'] == 'permission_denied'
    assert 'writing .nfs-probe-node1 failed: open call failed with "NFS4: (path /) failed with NFS4ERR_ROFS' \
        in result['message']
    assert result['details']['failed_step'] == 'write'


def test_an_expired_open_is_the_read_that_failed(network_ok):
    tools = FakeTools(read=('error', 'open call failed with "NFS4: (path /) failed with NFS4ERR_EXPIRED(-11)"'))
    result = _probe(tools)
    assert result['reason'] == 'error' and result['details']['failed_step'] == 'read'
    assert 'reading .nfs-probe-node1 back failed: open call failed' in result['message']
    assert [(s['step'].split()[0], s['ok']) for s in result['details']['steps']] == \
        [('mount', True), ('write', True), ('read', False), ('remove', True)]


def test_read_mismatch_still_removes_the_file(network_ok):
    tools = FakeTools(read='something else')
    result = _probe(tools)
    assert result['reason'] == 'read_mismatch' and "read back 'something else'" in result['message']
    assert [(s['step'].split()[0], s['ok']) for s in result['details']['steps']] == \
        [('mount', True), ('write', True), ('read', False), ('remove', True)]


def test_remove_failure_is_reported(network_ok):
    tools = FakeTools(remove='unlink call failed with "NFS3ERR_ACCES"')
    result = _probe(tools)
    assert not result['ok'] and result['details']['failed_step'] == 'remove'
    assert result['reason'] == 'permission_denied'


def test_timeout_of_the_session(network_ok):
    tools = FakeTools(rc=None, err='timed out after 45s')
    result = _probe(tools)
    assert result['reason'] == 'timeout'
    assert 'the libnfs session with srv:/srv/nfs failed: timed out after 45s' in result['message']
    assert tools.calls[1] and result['details']['failed_step'] == 'session'


def test_missing_libnfs(network_ok):
    result = _probe(FakeTools(rc=3, err='the libnfs shared library is not installed\n'))
    assert result['reason'] == 'tool_missing'
    assert 'the libnfs shared library (libnfs-utils depends on it) is not installed' in result['message']


def test_a_session_that_dies_without_a_failed_step_still_fails(network_ok):
    result = _probe(FakeTools(rc=1, err='Traceback (most recent call last):\nOSError: boom\n'))
    assert not result['ok'] and 'OSError: boom' in result['message']


def test_local_path_reads_the_probe_file_on_the_disk_too(network_ok):
    tools = FakeTools()
    result = _probe(tools, local_path='/srv/nfs')
    assert result['ok'], result['message']
    assert tools.requests[0]['local_path'] == '/srv/nfs'
    assert [s['step'] for s in result['details']['steps']] == [
        'mount srv:/srv/nfs', 'write .nfs-probe-node1', 'read .nfs-probe-node1',
        'read /srv/nfs/.nfs-probe-node1 on the disk', 'remove .nfs-probe-node1']


def test_without_local_path_the_disk_is_not_read(network_ok):
    tools = FakeTools()
    result = _probe(tools)
    assert tools.requests[0]['local_path'] is None
    assert 'disk' not in ' '.join(s['step'] for s in result['details']['steps'])


@pytest.mark.parametrize('disk,wanted', [
    ('not what was written', "read back 'not what was written' on the disk at /srv/nfs/.nfs-probe-node1, wrote "),
    (('error', 'the file written through NFS cannot be read on the disk at /srv/nfs/.nfs-probe-node1: '
               '[Errno 2] No such file or directory'), 'cannot be read on the disk at /srv/nfs/.nfs-probe-node1'),
])
def test_a_disk_that_disagrees_is_a_read_mismatch_and_the_file_is_removed(network_ok, disk, wanted):
    result = _probe(FakeTools(disk=disk), local_path='/srv/nfs')
    assert result['reason'] == 'read_mismatch' and wanted in result['message'], result['message']
    assert result['details']['failed_step'] == 'disk'
    assert [(s['step'].split()[0], s['ok']) for s in result['details']['steps']] == \
        [('mount', True), ('write', True), ('read', True), ('read', False), ('remove', True)]


def test_local_path_is_refused_by_the_kernel_method(network_ok):
    tools = FakeTools()
    result = _probe(tools, method='kernel', local_path='/srv/nfs')
    assert result['reason'] == 'error' and result['details']['failed_step'] == 'configuration'
    assert 'local_path is read by the userspace method only' in result['message']
    assert tools.calls == []


def test_version_not_served(monkeypatch, network_ok):
    monkeypatch.setattr(np, 'probe_versions', lambda address, timeout: {3: False, 4: True})
    result = _probe(FakeTools(), version='3')
    assert not result['ok'] and 'not as NFSv3' in result['message']


def test_dns_failure(monkeypatch, network_ok):
    def fail(server):
        raise np.ProbeFailure('dns', f"server name '{server}' does not resolve: nope", 'resolve')
    monkeypatch.setattr(np, 'resolve', fail)
    result = _probe(FakeTools(), server='bad.invalid')
    assert result['reason'] == 'dns' and result['message'].startswith('dns: ')


def test_kernel_method_when_capable(network_ok, monkeypatch):
    seen = []

    def kernel(*args):
        seen.append(args)
    monkeypatch.setattr(np, 'kernel_round_trip', kernel)
    result = _probe(FakeTools(), method='auto', capability=(True, 'the kernel supports NFS'), facts=FACTS_CAPABLE)
    assert result['ok'] and result['method'] == 'kernel' and seen


# ------------------------------------------- a node that cannot mount
FACTS_CAPABLE = {'kernel_nfs': True, 'mount_helper': '/sbin/mount.nfs', 'cap_sys_admin': True,
                 'capability': (True, 'the kernel supports NFS')}
FACTS_NO_HELPER = dict(FACTS_CAPABLE, mount_helper=None, capability=(False, 'mount.nfs is not installed'))
FACTS_LAB = dict(FACTS_CAPABLE, kernel_nfs=False, capability=NO_KERNEL)   # nfs-common, kernel without NFS
HELPER_MISSING = ('mount: /tmp/nfs-probe-q: bad option; for several filesystems (e.g. nfs, cifs) you might '
                  'need a /sbin/mount.<type> helper program.\n'
                  '       dmesg(1) may have more information after failed mount system call.\n')


class MountingTools(FakeTools):
    """FakeTools plus mount(8) answering with ``mount`` = (rc, out, err), and umount."""

    def __init__(self, mount=(0, '', ''), **kwargs):
        super().__init__(**kwargs)
        self.mount = mount

    def __call__(self, cmd, timeout, data=None):
        tool = cmd[0].rsplit('/', 1)[-1]
        if tool == 'mount':
            self.calls.append(cmd)
            return self.mount
        if tool == 'umount':
            self.calls.append(cmd)
            return 0, '', ''
        return super().__call__(cmd, timeout, data)


def _tools_run(tools):
    return [c[0].rsplit('/', 1)[-1] for c in tools.calls]


def test_kernel_method_without_mount_helper_says_so(network_ok):
    """mount's "bad option ... helper program" used to be a generic error whose message kept
    only the dmesg line."""
    tools = MountingTools(mount=(32, '', HELPER_MISSING))
    result = _probe(tools, method='kernel', capability=FACTS_NO_HELPER['capability'], facts=FACTS_NO_HELPER)
    assert not result['ok']
    assert result['reason'] == 'mount_helper_missing'
    assert 'you might need a /sbin/mount.<type> helper program' in result['message']
    assert 'dmesg' not in result['message']
    assert 'no mount.nfs helper is installed' in result['message']
    assert 'kubelet mounts NFS volumes the same way (mount -t nfs)' in result['message']
    assert 'nfs-common' in result['message']
    assert result['details']['failed_step'] == 'mount'
    # method kernel does not look further
    assert _tools_run(tools) == ['showmount', 'mount'] and 'userspace' not in result['details']


def test_auto_does_not_pass_a_node_without_mount_helper(network_ok):
    """It used to report the node fine through the user-space path."""
    tools = MountingTools(mount=(32, '', HELPER_MISSING))
    result = _probe(tools, method='auto', capability=FACTS_NO_HELPER['capability'], facts=FACTS_NO_HELPER)
    assert not result['ok']
    assert result['method'] == 'kernel' and result['reason'] == 'mount_helper_missing'
    assert result['method_reason'].startswith('auto: a kernel mount (mount -t nfs), the way kubelet mounts')
    # The server side was checked from the node in user space, and the message says it is fine.
    assert _tools_run(tools) == ['showmount', 'mount', 'python3']
    assert result['details']['userspace']['ok'] is True
    assert "The server side is fine: the user-space round trip (libnfs) from this node passed, so only this " \
           "node's NFS client is missing." in result['message']


def test_auto_names_both_problems_when_the_server_side_fails_too(network_ok):
    tools = MountingTools(mount=(32, '', HELPER_MISSING), nfs_mount=(
        'mount_cb: RPC error: Mount failed with error MNT3ERR_ACCES(13) Permission denied(13)'))
    result = _probe(tools, method='auto', version='3', capability=FACTS_NO_HELPER['capability'], facts=FACTS_NO_HELPER)
    assert result['reason'] == 'mount_helper_missing'
    assert result['details']['userspace']['reason'] == 'export_not_allowed'
    assert 'The user-space round trip (libnfs) from this node failed too: export_not_allowed' in result['message']


@pytest.mark.parametrize('mount, facts, reason, says', [
    # kernel without NFS, no helper either: mount(8) tries mount(2) itself
    ((32, '', "mount: /tmp/x: unknown filesystem type 'nfs'.\n       dmesg(1) may have more information "
      "after failed mount system call.\n"), dict(FACTS_NO_HELPER, kernel_nfs=False), 'mount_helper_missing',
     ["unknown filesystem type 'nfs'", 'no mount.nfs helper is installed', 'the kernel lists no NFS file system']),
    # nfs-common installed, kernel without NFS: this lab's nodes
    ((32, '', 'mount.nfs: No such device\n'), FACTS_LAB, 'kernel_client_missing',
     ['mount.nfs: No such device', 'use a kernel with NFS client support']),
    # no CAP_SYS_ADMIN (or not root)
    ((32, '', 'mount.nfs: Operation not permitted\n'), dict(FACTS_CAPABLE, cap_sys_admin=False),
     'mount_not_permitted', ['Operation not permitted', 'this process lacks CAP_SYS_ADMIN', 'become: true']),
    ((32, '', 'mount.nfs: failed to apply fstab options\n'), dict(FACTS_CAPABLE, cap_sys_admin=False),
     'mount_not_permitted', ['failed to apply fstab options']),
    # a server-side failure stays the server's, with or without what the node lacks
    ((32, '', 'mount.nfs: access denied by server while mounting srv:/srv/nfs\n'), FACTS_LAB,
     'export_not_allowed', ['access denied by server']),
])
def test_node_side_mount_failures_are_reasons_of_their_own(network_ok, mount, facts, reason, says):
    tools = MountingTools(mount=mount)
    result = _probe(tools, method='kernel', capability=facts['capability'], facts=facts)
    assert result['reason'] == reason, result['message']
    for text in says:
        assert text in result['message']
    assert 'dmesg' not in result['message']


def test_auto_on_a_capable_node_proves_the_kernel_mount(network_ok, tmp_path, monkeypatch):
    """A node with a working mount passes through the kernel path; nothing in user space runs."""
    monkeypatch.setattr(np.tempfile, 'mkdtemp', lambda prefix: str(tmp_path))
    tools = MountingTools()
    result = _probe(tools, method='auto', capability=FACTS_CAPABLE['capability'], facts=FACTS_CAPABLE)
    assert result['ok'], result['message']
    assert result['method'] == 'kernel' and result['message'] == 'NFSv4 round trip (write, read back, remove) via kernel'
    assert _tools_run(tools) == ['showmount', 'mount', 'umount']
    assert [s['step'].split()[0] for s in result['details']['steps']] == ['mount', 'write', 'read', 'remove', 'umount']
    assert not tmp_path.exists()  # the temporary mount point is removed


def test_a_mount_helper_with_its_own_client_passes_and_says_so(network_ok, tmp_path, monkeypatch):
    """A node whose /sbin/mount.nfs needs no kernel client (a FUSE helper) can be used by
    kubelet: auto passes it through the mount, and the reason says how."""
    monkeypatch.setattr(np.tempfile, 'mkdtemp', lambda prefix: str(tmp_path))
    facts = dict(FACTS_LAB, mount_helper='/sbin/mount.nfs')
    result = _probe(MountingTools(), method='auto', capability=facts['capability'], facts=facts)
    assert result['ok'] and result['method'] == 'kernel', result['message']
    assert result['method_reason'].endswith(
        "; mounted through the node's mount helper (/sbin/mount.nfs), which does not need it")


def test_kernel_path_file_errors_are_classified_not_raised(network_ok, tmp_path, monkeypatch):
    """The kernel paths fail with a message, never a traceback (here: the mount point is read-only)."""
    monkeypatch.setattr(np.tempfile, 'mkdtemp', lambda prefix: str(tmp_path))

    def read_only(path, content):
        raise OSError(errno.EROFS, 'Read-only file system', path)
    monkeypatch.setattr(np, '_write_text', read_only)
    result = _probe(MountingTools(), method='kernel', capability=FACTS_CAPABLE['capability'], facts=FACTS_CAPABLE)
    assert result['reason'] == 'permission_denied' and 'Read-only file system' in result['message']
    assert result['details']['failed_step'] == 'write'

    def no_tmp(prefix):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(np.tempfile, 'mkdtemp', no_tmp)
    result = _probe(MountingTools(), method='kernel', capability=FACTS_CAPABLE['capability'], facts=FACTS_CAPABLE)
    assert not result['ok'] and 'cannot create a temporary mount point' in result['message']


# ---------------------------------------------------------------- the module
@pytest.fixture
def run_module(capsys):
    def _run(check_mode=False, **args):
        args = dict(args, _ansible_check_mode=check_mode)
        with patch_module_args(args), pytest.raises(SystemExit) as exc:
            module.main()
        return exc.value.code, json.loads(capsys.readouterr().out)
    return _run


def test_module_never_changes_and_fails_only_when_asked(run_module, monkeypatch):
    failing = {'ok': False, 'message': 'dns: nope', 'reason': 'dns'}
    monkeypatch.setattr(runner, 'probe', lambda **kwargs: dict(failing))
    rc, result = run_module(server='s', export='/e')
    assert rc == 1 and result['failed'] and result['msg'] == 'dns: nope' and result['changed'] is False
    rc, result = run_module(server='s', export='/e', fail_on_error=False)
    assert rc == 0 and not result.get('failed') and result['reason'] == 'dns'


def test_module_check_mode_probes_read_only(run_module, monkeypatch):
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        return {'ok': True, 'message': 'fine'}
    monkeypatch.setattr(runner, 'probe', fake)
    rc, result = run_module(check_mode=True, server='s', export='/e', node='n1')
    assert rc == 0 and result['changed'] is False
    assert seen['write'] is False and seen['node'] == 'n1'


@pytest.mark.parametrize('args,message', [
    ({'server': 's', 'export': 'relative'}, "export must be an absolute path, got 'relative'"),
    ({'server': ' ', 'export': '/e'}, 'server must not be empty'),
    ({'server': 's', 'export': '/e', 'timeout': 0}, 'timeout must be at least 1 second'),
])
def test_module_rejects_bad_parameters(run_module, args, message):
    rc, result = run_module(**args)
    assert rc == 1 and message in result['msg']


# ---------------------------------------------------------------- read_through_nfs
def _reader(lines, rc=0, err=''):
    seen = {}

    def runner(cmd, timeout):
        seen['request'] = json.loads(cmd[-1])
        return rc, '\n'.join(json.dumps(line) for line in lines), err
    return runner, seen


def test_read_through_nfs_mounts_the_export_once_and_maps_each_path():
    runner, seen = _reader([{'step': 'mount', 'ok': True, 'error': '', 'data': None},
                            {'step': 'read', 'ok': True, 'error': '', 'data': {'path': '/a/f', 'content': 'A\n'}},
                            {'step': 'read', 'ok': False, 'error': 'ENOENT', 'data': {'path': '/b/f', 'content': None}}])
    got = np.read_through_nfs('10.0.0.5', '/srv/nfs/', ['/a/f', '/b/f'], 'nfs1', 5, 'python3', runner)
    assert got == {'/a/f': ('A\n', None), '/b/f': (None, 'ENOENT')}
    assert seen['request']['mode'] == 'read' and seen['request']['export'] == '/srv/nfs'
    assert seen['request']['paths'] == ['/a/f', '/b/f'] and 'nfs1' in seen['request']['client_name']


def test_read_through_nfs_a_failed_mount_is_every_paths_error():
    runner, _seen = _reader([{'step': 'mount', 'ok': False, 'error': 'NFS4ERR_ACCESS', 'data': None}])
    got = np.read_through_nfs('fd00::5', '/srv/nfs', ['/a/f'], 'nfs1', 5, 'python3', runner)
    assert got == {'/a/f': (None, 'mounting [fd00::5]:/srv/nfs failed: NFS4ERR_ACCESS')}


def test_read_through_nfs_without_libnfs_is_a_probe_failure():
    runner, _seen = _reader([], rc=3, err='the libnfs shared library is not installed')
    with pytest.raises(np.ProbeFailure) as exc:
        np.read_through_nfs('h', '/srv/nfs', ['/a/f'], 'nfs1', 5, 'python3', runner)
    assert exc.value.reason == 'tool_missing'


@pytest.mark.parametrize(('options', 'versions'), [
    ('', ['vers=4']),                                   # the probe's version
    ('nfsvers=4.1,proto=tcp', ['nfsvers=4.1']),         # a class's own version, not a second vers=
    ('hard', ['vers=4']),
])
def test_the_kernel_mount_names_the_nfs_version_once(tmp_path, monkeypatch, options, versions):
    monkeypatch.setattr(np.tempfile, 'mkdtemp', lambda prefix: str(tmp_path))
    calls = []

    def refuse(cmd, timeout):
        calls.append(cmd)
        return 32, '', 'mount.nfs: access denied by server while mounting srv:/srv/nfs\n'
    with pytest.raises(np.ProbeFailure):
        np.kernel_round_trip('srv', '/srv/nfs', 'node1', 4, 5, True, options, [], refuse, FACTS_CAPABLE)
    opts = calls[0][calls[0].index('-o') + 1].split(',')
    assert [o for o in opts if o.partition('=')[0] in ('vers', 'nfsvers')] == versions


# ----------------------------------------------------------- create_directory (issue 24, root_squash)
def test_create_directory_makes_and_removes_a_directory_as_root(network_ok):
    tools = FakeTools()
    result = _probe(tools, create_directory=True)
    assert result['ok'], result
    assert result['message'] == 'NFSv4 directory made and removed as uid 0 via userspace'
    request = tools.requests[0]
    assert (request['mode'], request['path'], request['version']) == ('mkdir', '/.nfs-probe-dir-node1', 4)
    assert [s['step'] for s in result['details']['steps']] == [
        'mount srv:/srv/nfs', 'mkdir .nfs-probe-dir-node1 as uid 0', 'rmdir .nfs-probe-dir-node1']


def test_a_directory_refused_to_root_is_root_squashed_with_the_fix(network_ok):
    tools = FakeTools(write='mkdir call failed with "NFS3ERR_ACCES(-13)"')
    result = _probe(tools, create_directory=True, export='/srv/nfs/apps')
    assert not result['ok'] and result['reason'] == 'root_squashed', result
    assert 'NFS3ERR_ACCES' in result['message'] and 'chown 65534:65534 /srv/nfs/apps' in result['message']
    assert 'no_root_squash' in result['message'] and result['details']['failed_step'] == 'mkdir'


def test_a_directory_that_fails_otherwise_is_not_called_root_squashed(network_ok):
    result = _probe(FakeTools(write='mkdir call failed with "NFS4ERR_NOSPC(-28)"'), create_directory=True)
    assert result['reason'] == 'error' and 'mkdir .nfs-probe-dir-node1 as uid 0' in result['message'], result


def test_create_directory_in_check_mode_only_lists(network_ok):
    tools = FakeTools()
    assert _probe(tools, create_directory=True, write=False)['ok']
    assert tools.requests[0]['mode'] == 'list'


def test_create_directory_is_refused_by_the_kernel_method(network_ok):
    result = _probe(FakeTools(), create_directory=True, method='kernel')
    assert result['details']['failed_step'] == 'configuration' and 'create_directory' in result['message']
