# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``nfs_volume_check`` module's options and its run: each volume's directory on the NFS
server, optionally a file written into it and read back through NFS in one libnfs session
(``nfs_probe.read_through_nfs``, the probe's own session).

``main()`` is ``run_module(NFS_VOLUME_CHECK_OPTIONS, run_volume_check)`` (``module_entry``).
"""

from __future__ import annotations

import os
import posixpath
import socket
import sys
import tempfile

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import ModuleError
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_probe import ProbeFailure, read_through_nfs

NFS_VOLUME_CHECK_OPTIONS = {
    'volumes': {'type': 'list', 'elements': 'dict', 'required': True, 'options': {
        'name': {'type': 'str', 'required': True},
        'directory': {'type': 'path'},
        'path': {'type': 'str', 'required': True},
        'content': {'type': 'str'},
    }},
    'file': {'type': 'str', 'required': True},
    'write': {'type': 'bool', 'default': False},
    'read': {'type': 'bool', 'default': False},
    'server': {'type': 'str', 'default': '127.0.0.1'},
    'export': {'type': 'str', 'required': True},
    'timeout': {'type': 'int', 'default': 10},
}


def check_volume_params(params):
    """What the argument spec cannot say; raises ModuleError naming the option."""
    name = params['file']
    if not name or '/' in name or name in ('.', '..'):
        raise ModuleError(f"file must be a file name (no '/'), got {name!r}")
    export = '/' + params['export'].strip('/')
    if not params['export'].startswith('/'):
        raise ModuleError(f"export must be an absolute path, got {params['export']!r}")
    if params['timeout'] < 1:
        raise ModuleError(f"timeout must be at least 1 second, got {params['timeout']}")
    for index, volume in enumerate(params['volumes']):
        path = posixpath.normpath(volume['path'])
        if not (path + '/').startswith(export.rstrip('/') + '/'):
            raise ModuleError(f"volumes[{index}].path {volume['path']!r} is not the export {export!r} or a directory under it")
        if params['write'] and (volume['content'] is None or volume['directory'] is None):
            raise ModuleError(f'volumes[{index}]: content and directory are required with write=true')


def _read(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _write(path, text):
    """Replace ``path`` with ``text`` at once (a temporary file renamed over it), mode 0644."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.nfs_volume_check.')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _place(volume, file_name, check_mode, diff):
    """The volume's row; writes its content into the file when it differs (not in check mode)."""
    row = {'name': volume['name'], 'directory': volume['directory'],
           'directory_exists': os.path.isdir(volume['directory']) if volume['directory'] else None,
           'written': False, 'nfs_content': None, 'nfs_error': None}
    if volume['content'] is None or not row['directory_exists']:
        return row
    target = os.path.join(volume['directory'], file_name)
    wanted = volume['content'] + '\n'
    before = _read(target)
    if before != wanted:
        row['written'] = True
        diff.append({'before_header': target, 'after_header': target, 'before': before or '', 'after': wanted})
        if not check_mode:
            _write(target, wanted)
    return row


def run_volume_check(module, result):
    """The module's run: check each directory, write (``write``), read through NFS (``write`` or ``read``)."""
    params = module.params
    check_volume_params(params)
    export = '/' + params['export'].strip('/')
    diff = []
    rows = [_place(v if params['write'] else dict(v, content=None), params['file'], module.check_mode, diff)
            for v in params['volumes']]
    result.update(changed=any(r['written'] for r in rows), volumes=rows, diff=diff)
    # Read back what is on the disk: in check mode only files that would not change.
    to_read = {}
    for volume, row in zip(params['volumes'], rows):
        wanted = (params['write'] and row['directory_exists']) or (params['read'] and row['directory_exists'] is not False)
        if wanted and not (module.check_mode and row['written']):
            relative = posixpath.normpath(volume['path'])[len(export.rstrip('/')):]
            to_read[posixpath.join('/', relative.lstrip('/'), params['file'])] = row
    if to_read:
        try:
            read = read_through_nfs(params['server'], export, list(to_read), socket.gethostname(),
                                    params['timeout'], sys.executable)
        except ProbeFailure as exc:
            raise ModuleError(f'reading the volumes through NFS: {exc.message}', reason=exc.reason) from exc
        for path, row in to_read.items():
            content, error = read[path]
            row['nfs_content'] = None if content is None else content.strip()
            row['nfs_error'] = error
    return result
