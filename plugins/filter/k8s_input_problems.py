# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Kubernetes module of this collection would refuse in its parameters, asked without running it.

A role that calls several modules (the provisioner, then the StatefulSet) asks each one's rules
up front, so a bad value for the second stops the role before the first has changed the cluster.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: k8s_input_problems
short_description: The refusals of a stateful.nfs Kubernetes module for given parameters, without running it
version_added: 0.3.0
description:
  - Checks module parameters exactly as the module does at its entry, without any request to the
    API server - first the module's argument spec (types, choices, required options, defaults), then
    its own rules (DNS-1123 and DNS-1035 names, quantities, labels, ports, mount options, combinations).
  - Returns the problems as messages (empty when the module would accept the parameters); the module's
    message is kept word for word, prefixed with the module's name.
  - Checks that need the cluster (a StorageClass that does not exist, an immutable field) are not
    made here; the module makes them before its first write.
options:
  _input:
    description:
      - The module's parameters, as a task would give them (connection options left out).
      - A key whose value is C(null) counts as not given, as C(omit) does in a task (C(omit) itself
        cannot be used in the input of a filter).
    type: dict
    required: true
  module:
    description: Which module's rules.
    type: str
    choices: [statefulset, nfs_provisioner, statefulset_info]
    required: true
"""

EXAMPLES = r"""
- name: Stop before anything is applied if the StatefulSet would be refused
  vars:
    problems: >-
      {{ {'name': 'web', 'namespace': 'default', 'image': 'nginx:1.27.3', 'replicas': 3}
         | stateful.nfs.k8s_input_problems('statefulset') }}
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: The module's refusals, one message each; empty when the module would accept the parameters.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import (
    MODULE_RULES,
    input_problems,
)


def k8s_input_problems(params, module):
    """The messages ``module`` would fail with for ``params`` (see DOCUMENTATION)."""
    if module not in MODULE_RULES:
        raise AnsibleFilterError(f"k8s_input_problems: unknown module {module!r}, expected one of {', '.join(MODULE_RULES)}")
    return input_problems(params, module)


class FilterModule:
    """stateful.nfs Kubernetes input filters."""

    def filters(self):
        return {"k8s_input_problems": k8s_input_problems}
