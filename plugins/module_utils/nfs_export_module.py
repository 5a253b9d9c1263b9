# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``nfs_export`` module's options and its work on one exports file: read, change, write.

The rules of exports(5) are ``exports``'; this file asks them, keeps every refusal before the
first write, and leaves every failure to ``module_entry.run_module`` (``main()`` is
``run_module(NFS_EXPORT_OPTIONS, run_export, (ExportsError,), NFS_EXPORT_RULES)``).
"""

from __future__ import annotations

import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.stateful.nfs.plugins.module_utils.exports import (
    ExportsError,
    build_export,
    client_dicts,
    export_warnings,
    parse_exports,
    render_line,
    validate_dest,
    validate_marker,
    validate_path,
)
from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import (
    ModuleError,
    failure_context,
)

_CLIENT_SPEC = {
    'host': {'type': 'str', 'required': True},
    'options': {'type': 'list', 'elements': 'str', 'default': []},
}

NFS_EXPORT_OPTIONS = {
    'path': {'type': 'str'},
    'clients': {'type': 'list', 'elements': 'dict', 'options': _CLIENT_SPEC},
    'default_options': {'type': 'list', 'elements': 'str', 'default': []},
    'exports': {'type': 'list', 'elements': 'dict', 'options': {
        'path': {'type': 'str', 'required': True},
        'clients': {'type': 'list', 'elements': 'dict', 'options': _CLIENT_SPEC},
        'default_options': {'type': 'list', 'elements': 'str', 'default': []},
    }},
    'marker': {'type': 'str'},
    'exclusive': {'type': 'bool', 'default': False},
    'state': {'type': 'str', 'choices': ['present', 'absent'], 'default': 'present'},
    'dest': {'type': 'path', 'default': '/etc/exports'},
    'create': {'type': 'bool', 'default': True},
    'backup': {'type': 'bool', 'default': False},
}
NFS_EXPORT_RULES = {
    'required_one_of': [('path', 'exports')],
    'mutually_exclusive': [('path', 'exports'), ('exports', 'clients')],
}


def _read(dest):
    with open(dest, 'rb') as f:
        return f.read().decode('utf-8', 'surrogateescape')


def _write(module, dest, text):
    """Write ``text`` to ``dest`` atomically, keeping the existing file's attributes."""
    directory = os.path.dirname(dest)
    fd, tmp = tempfile.mkstemp(prefix=f'.{os.path.basename(dest)}.', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(text.encode('utf-8', 'surrogateescape'))
        module.atomic_move(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _requested(params):
    """The managed exports as [(path, clients, default_options)], from path or exports."""
    if params['path'] is not None:
        return [(params['path'], params['clients'], params['default_options'])]
    return [(item['path'], item['clients'], item['default_options']) for item in params['exports']]


def _validate(params):
    """Every check that can refuse the run; returns (dest, marker, [Export or path])."""
    state = params['state']
    dest = validate_dest(params['dest'])
    marker = validate_marker(params['marker']) if params['marker'] is not None else None
    if params['exclusive'] and marker is None:
        raise ExportsError('exclusive=true needs a marker: only lines marked by this task are ever removed')
    if params['exports'] is not None and params['default_options']:
        raise ExportsError('default_options belongs in each item of exports when exports is used')
    if params['exclusive'] and state != 'present':
        raise ExportsError('exclusive=true needs state=present')
    wanted = []
    for number, (path, clients, default_options) in enumerate(_requested(params), 1):
        if state == 'absent':
            wanted.append(validate_path(path))
            continue
        if clients is None:
            if params['path'] is not None:
                raise ExportsError('state is present but all of the following are missing: clients')
            raise ExportsError(f'exports[{number - 1}] ({path}): state is present but clients is missing')
        wanted.append(build_export(path, clients, default_options))
    return dest, marker, wanted


def _check_dest(dest, params):
    """Whether ``dest`` exists; refuses a non-file, or a missing file that may not be created."""
    exists = os.path.exists(dest)
    if exists and not os.path.isfile(dest):
        raise ModuleError(f'dest {dest} exists but is not a regular file')
    if not exists and params['state'] == 'present' and not params['create']:
        raise ModuleError(f'dest {dest} does not exist; set create=true to create it')
    return exists


def _describe(exports, path):
    spans = exports.find(path)
    lines = [render_line(s.export) for s in spans]
    clients = []
    for span in spans:
        clients.extend(client_dicts(span.export))
    return {'path': path, 'lines': lines, 'clients': clients}


def _present(module, exports, wanted, marker, result):
    """Give each wanted export its lines; warn about what they hold. Returns each path's description."""
    result['changes'] = exports.apply(wanted, marker=marker, exclusive=module.params['exclusive'])
    described = []
    for export in wanted:
        spans = exports.find(export.path)
        for span in spans:
            for warning in export_warnings(span.export, span.lineno if len(spans) > 1 else None):
                module.warn(warning)
        described.append(_describe(exports, export.path))
    return described


def _absent(exports, paths, result):
    """Remove every line of ``paths``. Returns each path's description (its removed lines)."""
    described = []
    for path in paths:
        removed = exports.remove_export(path)
        result['changes'].extend(f'{path} line {s.lineno}: removed' for s in removed)
        described.append({'path': path, 'lines': [render_line(s.export) for s in removed], 'clients': []})
    return described


def _report(result, single, described):
    """The described exports into the result: ``line``/``lines``/``clients`` for path, else ``exports``."""
    if single:
        result['lines'] = described[0]['lines']
        result['line'] = result['lines'][0] if result['lines'] else None
        result['clients'] = described[0]['clients']
    else:
        result['exports'] = described


def _diff(dest, exists, before, after, changes):
    diff = {'before': before, 'after': after,
            'before_header': dest if exists else f'{dest} (absent)', 'after_header': dest}
    if changes:
        diff['prepared'] = ''.join(f'# {change}\n' for change in changes)
    return diff


def _save(module, dest, exists, after, result):
    """Write ``after`` to ``dest``: its directory made first, or the old file backed up if asked."""
    if not exists:
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory):
            with failure_context(f'cannot create {directory}', OSError):
                os.makedirs(directory, 0o755)
    elif module.params['backup']:
        result['backup_file'] = module.backup_local(dest)
    with failure_context(f'cannot write {dest}', OSError):
        _write(module, dest, after)
    if not exists:
        os.chmod(to_bytes(dest), 0o644)


def run_export(module, result):
    """The ``nfs_export`` module's run; ``result`` (its progress) is what a failure returns."""
    params = module.params
    single = params['path'] is not None
    result.update(changed=False, reload_needed=False, changes=[], dest=params['dest'])
    if single:
        result.update(line=None, lines=[], clients=[])
        result['path'] = validate_path(params['path'])
    dest, marker, wanted = _validate(params)
    exists = _check_dest(dest, params)
    with failure_context(f'cannot read {dest}', OSError):
        before = _read(dest) if exists else ''
    with failure_context(dest, ExportsError):
        exports = parse_exports(before)
        if params['state'] == 'present':
            described = _present(module, exports, wanted, marker, result)
        else:
            described = _absent(exports, wanted, result)
    _report(result, single, described)
    after = exports.render()
    changed = after != before or (params['state'] == 'present' and not exists)
    result['changed'] = result['reload_needed'] = changed
    if module._diff:
        result['diff'] = _diff(dest, exists, before, after, result['changes'])
    if changed and not module.check_mode:
        _save(module, dest, exists, after, result)
    return result
