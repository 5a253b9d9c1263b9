"""Unit tests for module_utils/nfs_libnfs_session.py, the libnfs session nfs_probe runs in a child
Python: request parsing, the server:export spelling, error texts, the JSON lines, the libnfs
lookup, the session's order of steps over a stand-in library, and the program itself run the
way nfs_probe runs it (``python -c SOURCE REQUEST``). No NFS server: the one real libnfs session
goes to a loopback port where nothing listens."""

from __future__ import annotations

import ctypes
import errno
import io
import json
import socket
import subprocess
import sys

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils import nfs_libnfs_session as session

REQUEST = {'server': 'srv', 'export': '/srv/nfs', 'path': '/.nfs-probe-n1', 'version': 4, 'timeout_ms': 2000,
           'client_name': 'stateful.nfs nfs_probe n1', 'mode': 'round_trip', 'content': 'probe 1\n',
           'local_path': None}


# ---------------------------------------------------------------- pure functions
def test_a_request_is_parsed():
    assert session.parse_request([json.dumps(REQUEST)]) == REQUEST
    listing = {k: v for k, v in REQUEST.items() if k not in ('path', 'content', 'local_path')}
    assert session.parse_request([json.dumps(dict(listing, mode='list'))])['mode'] == 'list'


@pytest.mark.parametrize('argv,message', [
    ([], 'expected one argument (a JSON request), got 0'),
    (['{', 'x'], 'got 2'),
    (['{'], 'the request is not JSON'),
    (['[1]'], 'the request is not a JSON object'),
    ([json.dumps(dict(REQUEST, colour='red'))], "unknown request fields: ['colour']"),
    ([json.dumps({k: v for k, v in REQUEST.items() if k != 'server'})], 'the request lacks server'),
    ([json.dumps(dict(REQUEST, version='4'))], "version must be an integer, got '4'"),
    ([json.dumps(dict(REQUEST, timeout_ms=True))], 'timeout_ms must be an integer, got True'),
    ([json.dumps(dict(REQUEST, mode='copy'))], "mode must be one of ['round_trip', 'list', 'read', 'mkdir'], got 'copy'"),
    ([json.dumps(dict(REQUEST, content=None))], 'a round trip needs path and content'),
    ([json.dumps(dict(REQUEST, mode='read'))], 'mode read needs paths, a list of absolute paths in the export'),
    ([json.dumps(dict(REQUEST, mode='read', paths=['a']))], 'mode read needs paths'),
    ([json.dumps(dict(REQUEST, paths='/a'))], "paths must be a list, got '/a'"),
])
def test_a_bad_request_is_named(argv, message):
    with pytest.raises(session.BadRequest) as exc:
        session.parse_request(argv)
    assert message in str(exc.value)


@pytest.mark.parametrize('server,source', [
    ('srv', 'srv:/srv/nfs'), ('10.0.0.1', '10.0.0.1:/srv/nfs'),
    ('fd00::1', '[fd00::1]:/srv/nfs'), ('::1', '[::1]:/srv/nfs'),
])
def test_nfs_source_puts_ipv6_addresses_in_brackets(server, source):
    assert session.nfs_source(server, '/srv/nfs') == source


def test_a_record_is_one_json_line():
    line = session.record('read', True, data='x\n')
    assert line.endswith('\n') and line.count('\n') == 1
    assert json.loads(line) == {'step': 'read', 'ok': True, 'error': '', 'data': 'x\n'}


def test_error_text_is_libnfs_own_else_the_errno():
    assert session.error_text(-13, b'NFS4ERR_ACCESS') == 'NFS4ERR_ACCESS'
    assert session.error_text(-errno.ETIMEDOUT, b'') == 'Connection timed out'
    assert session.error_text(-errno.EACCES, None) == 'Permission denied'
    assert session.error_text(1, None) == 'Input/output error'


def test_io_failure():
    def libnfs_error(rc):
        return f'libnfs {rc}'
    assert session.io_failure(8, 0, 8, libnfs_error) == ''
    assert session.io_failure(-5, 0, 8, libnfs_error) == 'libnfs -5'
    assert session.io_failure(8, -70, 8, libnfs_error) == 'libnfs -70'
    assert session.io_failure(3, 0, 8, libnfs_error) == 'short write: 3 of 8 bytes'


def test_find_library_asks_ctypes_then_the_library_directories():
    assert session.find_library(lambda name: 'libnfs.so.13', lambda pattern: []) == 'libnfs.so.13'
    found = {'/usr/lib*/*/libnfs.so.*': ['/usr/lib/x86_64-linux-gnu/libnfs.so.16.0.0']}
    assert session.find_library(lambda name: None, lambda pattern: found.get(pattern, [])) == \
        '/usr/lib/x86_64-linux-gnu/libnfs.so.16.0.0'
    assert session.find_library(lambda name: None, lambda pattern: []) is None


@pytest.mark.parametrize('name,first', [
    ('libnfs.so.13', False), ('libnfs.so.14', False), ('/usr/lib64/libnfs.so.16.0.0', True),
    ('libnfs.so.17', True), ('libnfs.dylib', False),
])
def test_buf_first_from_the_soname(name, first):
    assert session.buf_first(name) is first


def test_local_file(tmp_path):
    (tmp_path / '.nfs-probe-n1').write_text('probe 1\n')
    assert session.local_file(str(tmp_path), '/.nfs-probe-n1') == (True, '', 'probe 1\n')
    ok, error, data = session.local_file(str(tmp_path), '/.nfs-probe-n2')
    assert not ok and data is None
    assert error.startswith(f'the file written through NFS cannot be read on the disk at {tmp_path}/.nfs-probe-n2: ')
    assert 'No such file or directory' in error


# ---------------------------------------------------------------- the session over a stand-in libnfs
class FakeLibnfs:
    """The libnfs calls the session makes, over a dict of files (libnfs 4/5 order: count, buf).

    ``fail``: call name -> negative return code; ``leftover``: the probe file exists already.
    """

    def __init__(self, fail=None, leftover=False, disk=None):
        self.fail, self.files, self.calls, self.disk = fail or {}, {}, [], disk
        if leftover:
            self.files[REQUEST['path'].encode()] = b'old'
        self.open_path = None

    def _call(self, name, rc=0):
        self.calls.append(name)
        return self.fail.get(name, rc)

    def nfs_get_error(self, ctx):
        return b'libnfs says no' if self.calls else b''

    def nfs_set_timeout(self, ctx, ms):
        self._call('nfs_set_timeout')

    def nfs_set_version(self, ctx, version):
        return self._call('nfs_set_version')

    def nfs4_set_client_name(self, ctx, name):
        self._call('nfs4_set_client_name')

    def nfs_mount(self, ctx, server, export):
        return self._call('nfs_mount')

    def nfs_opendir(self, ctx, path, handle):
        return self._call('nfs_opendir')

    def nfs_closedir(self, ctx, handle):
        self._call('nfs_closedir')

    def nfs_open2(self, ctx, path, flags, mode, fh):
        if path in self.files:
            self.calls.append('nfs_open2')
            return -errno.EEXIST
        rc = self._call('nfs_open2')
        if rc == 0:
            self.files[path], self.open_path = b'', path
        return rc

    def nfs_open(self, ctx, path, flags, fh):
        self.open_path = path
        return self._call('nfs_open')

    def nfs_write(self, ctx, fh, size, buf):
        self.files[self.open_path] = buf.value[:size]
        return self._call('nfs_write', size)

    def nfs_read(self, ctx, fh, size, buf):
        data = self.files[self.open_path]
        ctypes.memmove(buf, data, len(data))
        return self._call('nfs_read', len(data))

    def nfs_close(self, ctx, fh):
        return self._call('nfs_close')

    def nfs_set_uid(self, ctx, uid):
        self.calls.append(f'nfs_set_uid {uid}')

    def nfs_set_gid(self, ctx, gid):
        self.calls.append(f'nfs_set_gid {gid}')

    def nfs_mkdir(self, ctx, path):
        if path in self.files:
            self.calls.append('nfs_mkdir')
            return -errno.EEXIST
        rc = self._call('nfs_mkdir')
        if rc == 0:
            self.files[path] = None
        return rc

    def nfs_rmdir(self, ctx, path):
        rc = self._call('nfs_rmdir')
        if rc == 0:
            self.files.pop(path, None)
        return rc

    def nfs_unlink(self, ctx, path):
        rc = self._call('nfs_unlink')
        if rc == 0:
            self.files.pop(path, None)
        return rc


def _run(lib, request=None, tmp_path=None):
    out = io.StringIO()
    runner = session.Session(lib, False, 1, out)
    request = dict(REQUEST, **(request or {}))
    if runner.mount(request):
        if request['mode'] == 'list':
            runner.list_root()
        elif request['mode'] == 'mkdir':
            runner.make_directory(request['path'].encode())
        else:
            runner.round_trip(request)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_round_trip_writes_reads_and_removes():
    lib = FakeLibnfs()
    records = _run(lib)
    assert [(r['step'], r['ok']) for r in records] == [('mount', True), ('write', True), ('read', True),
                                                      ('remove', True)]
    assert records[2]['data'] == REQUEST['content'] and lib.files == {}


def test_round_trip_reads_the_disk_before_it_removes(tmp_path):
    lib = FakeLibnfs()
    (tmp_path / '.nfs-probe-n1').write_text('what the disk holds\n')
    records = _run(lib, {'local_path': str(tmp_path)})
    assert [r['step'] for r in records] == ['mount', 'write', 'read', 'disk', 'remove']
    assert records[3] == {'step': 'disk', 'ok': True, 'error': '', 'data': 'what the disk holds\n'}


def test_list_mode_writes_nothing():
    lib = FakeLibnfs()
    records = _run(lib, {'mode': 'list'})
    assert [(r['step'], r['ok']) for r in records] == [('mount', True), ('list', True)]
    assert 'nfs_open2' not in lib.calls


def test_a_refused_mount_stops_the_session():
    records = _run(FakeLibnfs(fail={'nfs_mount': -errno.EACCES}))
    assert records == [{'step': 'mount', 'ok': False, 'error': 'libnfs says no', 'data': None}]


def test_a_file_left_by_an_interrupted_run_is_replaced_once():
    lib = FakeLibnfs(leftover=True)
    records = _run(lib)
    assert [(r['step'], r['ok']) for r in records][1:3] == [('write', True), ('read', True)]
    assert lib.calls.count('nfs_unlink') == 2 and lib.files == {}


def test_a_failed_write_still_removes_the_created_file():
    lib = FakeLibnfs(fail={'nfs_write': -errno.EIO})
    records = _run(lib)
    assert [(r['step'], r['ok']) for r in records] == [('mount', True), ('write', False), ('remove', True)]
    assert lib.files == {}


def test_a_file_that_could_not_be_created_is_not_removed():
    lib = FakeLibnfs(fail={'nfs_open2': -errno.EROFS})
    records = _run(lib)
    assert [(r['step'], r['ok']) for r in records] == [('mount', True), ('write', False)]
    assert 'nfs_unlink' not in lib.calls


def test_a_failed_read_still_removes_and_skips_the_disk(tmp_path):
    lib = FakeLibnfs(fail={'nfs_open': -errno.ESTALE})
    records = _run(lib, {'local_path': str(tmp_path)})
    assert [(r['step'], r['ok']) for r in records] == [('mount', True), ('write', True), ('read', False),
                                                      ('remove', True)]


# ---------------------------------------------------------------- the program in a child Python
def test_program_source_is_this_file():
    source = session.program_source()
    with open(session.__file__, encoding='utf-8') as handle:
        assert source == handle.read()
    compile(source, 'nfs_libnfs_session', 'exec')


def _child(*argv, timeout=30):
    # -I: no site-packages, no current directory: the child has the standard library only.
    return subprocess.run([sys.executable, '-I', '-c', session.program_source(), *argv],
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_the_child_refuses_a_bad_request():
    done = _child('{')
    assert done.returncode == session.BAD_REQUEST and done.stdout == ''
    assert done.stderr.startswith('bad request: the request is not JSON')


def test_the_child_runs_a_real_libnfs_session_to_a_closed_port():
    """The program as nfs_probe runs it, with the real library: the mount step fails and says why."""
    if session.find_library() is None:
        pytest.skip('the libnfs shared library is not installed on this host (Debian: libnfs-utils)')
    with socket.socket() as sock:
        if sock.connect_ex(('127.0.0.1', 2049)) == 0:
            pytest.skip('an NFS server listens on 127.0.0.1:2049 here: this test needs the port closed')
    done = _child(json.dumps(dict(REQUEST, server='127.0.0.1', timeout_ms=3000)))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r['step'], r['ok']) for r in records] == [('mount', False)], records
    # libnfs 4.0 (Debian 12) says 'nfs_service failed' for NFSv4; the probe's RPC NULL call
    # classifies a closed port (connection_refused) before any session starts.
    assert records[0]['error'] and records[0]['data'] is None, records


class ReadingLibnfs(FakeLibnfs):
    """FakeLibnfs whose nfs_open fails (ENOENT) for a file it does not hold."""

    def nfs_open(self, ctx, path, flags, fh):
        if path not in self.files:
            self.calls.append('nfs_open')
            return -errno.ENOENT
        return super().nfs_open(ctx, path, flags, fh)


def test_read_mode_reads_each_file_and_names_the_ones_it_cannot():
    lib = ReadingLibnfs()
    lib.files[b'/ns-www-web-0/index.html'] = b'web-0 page\n'
    out = io.StringIO()
    runner = session.Session(lib, False, 1, out)
    runner.read_files(['/ns-www-web-0/index.html', '/ns-www-web-1/index.html'])
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[0] == {'step': 'read', 'ok': True, 'error': '',
                          'data': {'path': '/ns-www-web-0/index.html', 'content': 'web-0 page\n'}}
    assert records[1]['ok'] is False and records[1]['data'] == {'path': '/ns-www-web-1/index.html', 'content': None}
    assert 'nfs_open2' not in lib.calls and 'nfs_unlink' not in lib.calls


def test_mkdir_mode_makes_and_removes_the_directory_as_root():
    lib = FakeLibnfs()
    records = _run(lib, {'mode': 'mkdir', 'path': '/.nfs-probe-dir-n1'})
    assert [(r['step'], r['ok']) for r in records] == [('mount', True), ('mkdir', True), ('rmdir', True)]
    assert lib.files == {}
    # uid and gid 0 are set before the mount, whoever runs the session
    assert lib.calls.index('nfs_set_uid 0') < lib.calls.index('nfs_mount') and 'nfs_set_gid 0' in lib.calls


def test_mkdir_mode_replaces_a_leftover_once_and_stops_on_a_refusal():
    lib = FakeLibnfs()
    lib.files[b'/.nfs-probe-dir-n1'] = None
    records = _run(lib, {'mode': 'mkdir', 'path': '/.nfs-probe-dir-n1'})
    assert [r['step'] for r in records] == ['mount', 'mkdir', 'rmdir'] and lib.files == {}
    denied = FakeLibnfs(fail={'nfs_mkdir': -errno.EACCES})
    records = _run(denied, {'mode': 'mkdir', 'path': '/.nfs-probe-dir-n1'})
    assert [(r['step'], r['ok']) for r in records] == [('mount', True), ('mkdir', False)]
    assert 'nfs_rmdir' not in denied.calls


def test_mkdir_mode_needs_a_path():
    with pytest.raises(session.BadRequest, match='mode mkdir needs path'):
        session.parse_request([json.dumps(dict(REQUEST, mode='mkdir', path=None))])
