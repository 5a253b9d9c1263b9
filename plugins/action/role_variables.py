# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of stateful.nfs.role_variables: warns about variables with the calling role's
prefix that the role does not know (module_utils/role_variables.py has the rule)."""
from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.stateful.nfs.plugins.module_utils.role_variables import (
    unknown_variables,
    warning_text,
)


def role_known_names(role_path):
    """The variable names a role knows from its own files (argument specs, defaults, vars)."""
    known = set()
    specs = _load(os.path.join(role_path, 'meta', 'argument_specs.yml')) or {}
    for entry in (specs.get('argument_specs') or {}).values():
        known.update((entry or {}).get('options') or {})
    for name in ('defaults', 'vars'):
        known.update(_load(os.path.join(role_path, name, 'main.yml')) or {})
    return known


def _load(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('prefix', 'results', 'deprecated'))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        role = self._task._role
        if role is None:
            raise AnsibleError('stateful.nfs.role_variables runs in a role (it reads the role\'s argument specs)')
        prefix = self._task.args.get('prefix') or role.get_name().rpartition('.')[2] + '_'
        if not isinstance(prefix, str) or not prefix:
            raise AnsibleError(f'prefix must be a non-empty string, got {prefix!r}')
        results = self._task.args.get('results') or []
        if not isinstance(results, list):
            raise AnsibleError(f'results must be a list of variable names, got {results!r}')
        known = role_known_names(role._role_path) | set(results)
        found = unknown_variables(task_vars or {}, known, prefix)
        result.update(changed=False, unknown=[name for name, _closest in found],
                      suggestions={name: closest for name, closest in found if closest})
        if found:
            result['warnings'] = [warning_text(role.get_name(), name, closest) for name, closest in found]
        deprecated = self._task.args.get('deprecated')
        if deprecated:
            if not isinstance(deprecated, dict) or not deprecated.get('msg') or not deprecated.get('version'):
                raise AnsibleError(f'deprecated must be a dict with msg and version, got {deprecated!r}')
            result['deprecations'] = [{'msg': str(deprecated['msg']), 'version': str(deprecated['version']),
                                       'collection_name': 'stateful.nfs'}]
        return result
