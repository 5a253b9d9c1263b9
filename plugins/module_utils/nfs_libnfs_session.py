# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One libnfs session, the user-space round trip of ``nfs_probe``: a program for a child Python.

``nfs_probe.userspace_round_trip`` runs this file's source (``program_source()``) as
``python -c SOURCE REQUEST_JSON`` in a child interpreter, so that a hung server cannot hang
the module and the session can carry an NFSv4 client owner of its own (the libnfs tools
cannot set one). The child's ``python`` may be another interpreter than the module's and has
neither Ansible nor this collection on its path: this file imports the standard library only.

The session mounts the export with the libnfs shared library (through ctypes), then either
lists it (``mode: list``, check mode), reads the files ``paths`` names (``mode: read``, at most
``READ_LIMIT`` bytes each: the volume check of ``nfs_volume_check``) or writes the probe file,
reads it back, optionally reads it from this host's disk too (``local_path``: the probe runs on
the NFS server itself) and removes it; ``mode: mkdir`` creates the directory ``path`` as uid 0 and
gid 0 (AUTH_SYS, whoever runs the session) and removes it: what the NFS provisioner does for
each claim, so a server that squashes root answers it as it will answer the provisioner. It
prints one JSON line per step (``record()``); exit status ``NO_LIBNFS`` when the library is
missing, ``BAD_REQUEST`` when the request is not one.

libnfs 4 and 5 (sonames 13, 14) take (count, buf) in nfs_read/nfs_write; libnfs 6 and 7
(16, 17: "API v2") take (buf, count). Both are a uint64 and a pointer: only the order differs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import glob
import inspect
import json
import os
import re
import sys

NO_LIBNFS = 3
BAD_REQUEST = 2

# Fields of a request: name -> (type, required). ``version`` 0 lets libnfs choose.
REQUEST_FIELDS = {
    'server': (str, True), 'export': (str, True), 'path': (str, False), 'version': (int, True),
    'timeout_ms': (int, True), 'client_name': (str, True), 'mode': (str, True),
    'content': (str, False), 'local_path': (str, False), 'paths': (list, False),
}
MODES = ('round_trip', 'list', 'read', 'mkdir')
_KINDS = {str: 'a string', int: 'an integer', list: 'a list'}
#: Bytes read of each file in ``mode: read``.
READ_LIMIT = 1 << 20


class BadRequest(Exception):
    """The command line is not a request of this program."""


def program_source():
    """This file's source text, as the child runs it.

    Read through the module's loader, so it works from a checkout, an installed collection
    and the zip of an AnsiballZ payload alike.
    """
    return inspect.getsource(sys.modules[__name__])


def nfs_source(server, export):
    """``server:export`` as mount(8) takes it (nfs(5)), an IPv6 address in brackets."""
    host = f'[{server}]' if ':' in server else server
    return f'{host}:{export}'


def parse_request(argv):
    """The request of the command line (one JSON object). Raises BadRequest naming what is wrong."""
    if len(argv) != 1:
        raise BadRequest(f'expected one argument (a JSON request), got {len(argv)}')
    try:
        request = json.loads(argv[0])
    except ValueError as exc:
        raise BadRequest(f'the request is not JSON: {exc}') from exc
    if not isinstance(request, dict):
        raise BadRequest('the request is not a JSON object')
    unknown = sorted(set(request) - set(REQUEST_FIELDS))
    if unknown:
        raise BadRequest(f'unknown request fields: {unknown}')
    for field, (kind, required) in REQUEST_FIELDS.items():
        value = request.get(field)
        if value is None:
            if required:
                raise BadRequest(f'the request lacks {field}')
            continue
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BadRequest(f'{field} must be {_KINDS[kind]}, got {value!r}')
    if request['mode'] not in MODES:
        raise BadRequest(f"mode must be one of {list(MODES)}, got {request['mode']!r}")
    if request['mode'] == 'round_trip' and (request.get('path') is None or request.get('content') is None):
        raise BadRequest('a round trip needs path and content')
    if request['mode'] == 'mkdir' and not (request.get('path') or '').startswith('/'):
        raise BadRequest('mode mkdir needs path, an absolute path in the export')
    if request['mode'] == 'read' and not all(isinstance(p, str) and p.startswith('/') for p in request.get('paths') or [None]):
        raise BadRequest('mode read needs paths, a list of absolute paths in the export')
    return request


def record(step, ok, error='', data=None):
    """One step's result, the JSON line the parent reads."""
    return json.dumps({'step': step, 'ok': ok, 'error': error, 'data': data}) + '\n'


def error_text(rc, library_error):
    """libnfs' own error text (``nfs_get_error``), else the errno a negative ``rc`` names."""
    text = (library_error or b'').decode('utf-8', 'replace')
    return text or os.strerror(-rc if rc < 0 else errno.EIO)


def io_failure(rc, closed, size, error):
    """Why a write of ``size`` bytes (``rc``) and its close (``closed``) failed; '' when both worked.

    ``error(rc)`` is libnfs' text for a negative return code.
    """
    if rc == size and closed == 0:
        return ''
    if min(rc, closed) < 0:
        return error(rc if rc < 0 else closed)
    return f'short write: {rc} of {size} bytes'


def find_library(find=ctypes.util.find_library, paths=glob.glob):
    """The libnfs shared library's name or path, or None."""
    name = find('nfs')
    if name:
        return name
    candidates = sorted(paths('/usr/lib*/libnfs.so.*') + paths('/usr/lib*/*/libnfs.so.*'))
    return candidates[0] if candidates else None


def buf_first(name):
    """True for libnfs 6 and later (soname 16+), whose nfs_read/nfs_write take (buf, count)."""
    soname = re.search(r'\.so\.(\d+)', name)
    return bool(soname) and int(soname.group(1)) >= 16


def local_file(directory, path):
    """Read the probe file from this host's disk. Returns (ok, error, data)."""
    where = os.path.join(directory, path.lstrip('/'))
    try:
        with open(where, encoding='utf-8', errors='replace') as handle:
            return True, '', handle.read()
    except OSError as exc:
        return False, f'the file written through NFS cannot be read on the disk at {where}: {exc}', None


def _bind(lib, first):
    """Declare the C signatures of the libnfs calls the session makes."""
    v, p, s, i, u64 = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_int, ctypes.c_uint64
    io_args = [v, v, v, u64] if first else [v, v, u64, v]
    for fn, argtypes, restype in [
            ('nfs_init_context', [], v), ('nfs_destroy_context', [v], None), ('nfs_get_error', [v], s),
            ('nfs_set_timeout', [v, i], None), ('nfs_set_version', [v, i], i),
            ('nfs4_set_client_name', [v, s], None), ('nfs_mount', [v, s, s], i),
            ('nfs_opendir', [v, s, p], i), ('nfs_closedir', [v, v], None),
            ('nfs_open2', [v, s, i, i, p], i), ('nfs_open', [v, s, i, p], i), ('nfs_close', [v, v], i),
            ('nfs_write', io_args, i), ('nfs_read', io_args, i), ('nfs_unlink', [v, s], i),
            ('nfs_mkdir', [v, s], i), ('nfs_rmdir', [v, s], i), ('nfs_set_uid', [v, i], None),
            ('nfs_set_gid', [v, i], None)]:
        function = getattr(lib, fn, None)
        if function is not None:
            function.argtypes, function.restype = argtypes, restype


class Session:
    """One libnfs context; each method writes its step's record to ``out``."""

    def __init__(self, lib, first, ctx, out):
        self.lib, self.first, self.ctx, self.out = lib, first, ctx, out

    def emit(self, step, ok, error='', data=None):
        self.out.write(record(step, ok, error, data))
        self.out.flush()
        return ok

    def error(self, rc):
        return error_text(rc, self.lib.nfs_get_error(self.ctx))

    def io(self, fh, function, size, buf):
        return function(self.ctx, fh, buf, size) if self.first else function(self.ctx, fh, size, buf)

    def mount(self, req):
        lib = self.lib
        lib.nfs_set_timeout(self.ctx, req['timeout_ms'])
        if req['mode'] == 'mkdir':
            # the provisioner's credentials: root, as its container runs (not this process's uid)
            lib.nfs_set_uid(self.ctx, 0)
            lib.nfs_set_gid(self.ctx, 0)
        if req['version'] in (3, 4):
            lib.nfs_set_version(self.ctx, req['version'])
        if hasattr(lib, 'nfs4_set_client_name'):
            lib.nfs4_set_client_name(self.ctx, req['client_name'].encode())
        rc = lib.nfs_mount(self.ctx, req['server'].encode(), req['export'].encode())
        return self.emit('mount', rc == 0, '' if rc == 0 else self.error(rc))

    def list_root(self):
        handle = ctypes.c_void_p()
        rc = self.lib.nfs_opendir(self.ctx, b'/', ctypes.byref(handle))
        if rc != 0:
            return self.emit('list', False, self.error(rc))
        self.lib.nfs_closedir(self.ctx, handle)
        return self.emit('list', True)

    def create(self, path):
        """Open the probe file for writing; its handle, or None (the ``write`` step failed)."""
        lib, fh = self.lib, ctypes.c_void_p()
        # nfs_creat would open NFSv4 files read-only (WRITE: NFS4ERR_OPENMODE). libnfs creates
        # guarded (EEXIST on a file left by an interrupted run): the name is ours, replace it once.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        rc = lib.nfs_open2(self.ctx, path, flags, 0o644, ctypes.byref(fh))
        if rc == -errno.EEXIST and lib.nfs_unlink(self.ctx, path) == 0:
            rc = lib.nfs_open2(self.ctx, path, flags, 0o644, ctypes.byref(fh))
        if rc != 0:
            self.emit('write', False, self.error(rc))
            return None
        return fh

    def write(self, fh, data):
        rc = self.io(fh, self.lib.nfs_write, len(data), ctypes.c_char_p(data))
        closed = self.lib.nfs_close(self.ctx, fh)
        failure = io_failure(rc, closed, len(data), self.error)
        return self.emit('write', not failure, failure)

    def read_text(self, path, size):
        """Up to ``size`` bytes of the file at ``path`` (bytes) as text: (ok, error, text)."""
        lib, fh = self.lib, ctypes.c_void_p()
        rc = lib.nfs_open(self.ctx, path, os.O_RDONLY, ctypes.byref(fh))
        if rc != 0:
            return False, self.error(rc), None
        buf = ctypes.create_string_buffer(size)
        rc = self.io(fh, lib.nfs_read, len(buf), buf)
        lib.nfs_close(self.ctx, fh)
        if rc < 0:
            return False, self.error(rc), None
        return True, '', buf.raw[:rc].decode('utf-8', 'replace')

    def read(self, path, size):
        ok, error, text = self.read_text(path, size + 4096)
        return self.emit('read', ok, error, text)

    def read_files(self, paths):
        """Mode ``read``: one ``read`` record per path, its data ``{path, content}``."""
        for path in paths:
            ok, error, text = self.read_text(path.encode(), READ_LIMIT)
            self.emit('read', ok, error, {'path': path, 'content': text})

    def remove(self, path):
        rc = self.lib.nfs_unlink(self.ctx, path)
        return self.emit('remove', rc == 0, '' if rc == 0 else self.error(rc))

    def make_directory(self, path):
        """Mode ``mkdir``: create ``path`` (bytes) and remove it again (``mkdir``, ``rmdir`` records).

        A directory left by an interrupted run (EEXIST) is removed and made once more."""
        rc = self.lib.nfs_mkdir(self.ctx, path)
        if rc == -errno.EEXIST and self.lib.nfs_rmdir(self.ctx, path) == 0:
            rc = self.lib.nfs_mkdir(self.ctx, path)
        if not self.emit('mkdir', rc == 0, '' if rc == 0 else self.error(rc)):
            return
        rc = self.lib.nfs_rmdir(self.ctx, path)
        self.emit('rmdir', rc == 0, '' if rc == 0 else self.error(rc))

    def round_trip(self, req):
        """Write, read back, (read from the disk), remove: a file once created is removed."""
        path, data = req['path'].encode(), req['content'].encode()
        fh = self.create(path)
        if fh is None:
            return
        try:
            if self.write(fh, data) and self.read(path, len(data)) and req.get('local_path'):
                self.emit('disk', *local_file(req['local_path'], req['path']))
        finally:
            self.remove(path)


def main(argv=None, out=sys.stdout, err=sys.stderr):
    """Run the session the request on the command line asks for. Returns the exit status."""
    try:
        req = parse_request(sys.argv[1:] if argv is None else argv)
    except BadRequest as exc:
        err.write(f'bad request: {exc}\n')
        return BAD_REQUEST
    name = find_library()
    if not name:
        err.write('the libnfs shared library is not installed\n')
        return NO_LIBNFS
    lib = ctypes.CDLL(name)
    first = buf_first(name)
    _bind(lib, first)
    ctx = lib.nfs_init_context()
    if not ctx:
        err.write('nfs_init_context failed\n')
        return NO_LIBNFS
    session = Session(lib, first, ctx, out)
    try:
        if session.mount(req):
            if req['mode'] == 'list':
                session.list_root()
            elif req['mode'] == 'read':
                session.read_files(req['paths'])
            elif req['mode'] == 'mkdir':
                session.make_directory(req['path'].encode())
            else:
                session.round_trip(req)
    finally:
        lib.nfs_destroy_context(ctx)
    return 0


if __name__ == '__main__':
    # The child's exit status (raise, not sys.exit: the program lives among module_utils).
    raise SystemExit(main())
