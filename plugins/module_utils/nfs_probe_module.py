# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``nfs_probe`` module's options and its run: the checks of the options, then ``nfs_probe.probe``.

``main()`` is ``run_module(NFS_PROBE_OPTIONS, run_probe)`` (``module_entry``), which turns every
refusal and, with ``fail_on_error``, a failed probe into ``fail_json`` in its one place.
"""

from __future__ import annotations

import socket
import sys

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import ModuleError
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_probe import probe

NFS_PROBE_OPTIONS = {
    'server': {'type': 'str', 'required': True},
    'export': {'type': 'str', 'required': True},
    'node': {'type': 'str'},
    'method': {'type': 'str', 'default': 'auto', 'choices': ['auto', 'kernel', 'userspace']},
    'version': {'type': 'str', 'default': 'auto', 'choices': ['auto', '3', '4']},
    'timeout': {'type': 'int', 'default': 10},
    'known_exports': {'type': 'list', 'elements': 'str'},
    'mount_options': {'type': 'str', 'default': ''},
    'fail_on_error': {'type': 'bool', 'default': True},
    'local_path': {'type': 'path'},
    'create_directory': {'type': 'bool', 'default': False},
}


def check_probe_params(params):
    """What the argument spec cannot say about the options; raises ModuleError naming the option."""
    if not params['server'].strip():
        raise ModuleError('server must not be empty')
    if not params['export'].startswith('/'):
        raise ModuleError(f"export must be an absolute path, got '{params['export']}'")
    if params['timeout'] < 1:
        raise ModuleError(f"timeout must be at least 1 second, got {params['timeout']}")


def run_probe(module, result):
    """The ``nfs_probe`` module's run: never a change; a failed probe fails it when ``fail_on_error``."""
    params = module.params
    check_probe_params(params)
    result.update(probe(
        server=params['server'].strip(),
        export=params['export'],
        node=params['node'] or socket.gethostname(),
        method=params['method'],
        version=params['version'],
        timeout=params['timeout'],
        write=not module.check_mode,
        known_exports=params['known_exports'],
        mount_options=params['mount_options'],
        python=sys.executable,
        local_path=params['local_path'],
        create_directory=params['create_directory'],
    ))
    result['changed'] = False
    if not result['ok'] and params['fail_on_error']:
        raise ModuleError(result['message'])
    return result
