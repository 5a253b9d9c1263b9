# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan role nfs_provisioner asks for its list of StorageClasses."""
from __future__ import annotations

DOCUMENTATION = r"""
name: provisioner_class_plan
short_description: The nfs_provisioner parameters of each StorageClass of a list, and every problem of the list
version_added: 0.4.0
description:
  - Each entry is the parameters of M(stateful.nfs.nfs_provisioner), named as the module names them.
    Keys an entry leaves out come from O(defaults); C(name) (the provisioner Deployment) defaults to
    C(<storage_class_name>-provisioner) (dots made dashes, at most 63 characters) and C(provisioner_name)
    to C(stateful.nfs/<storage_class_name>), so each class has a provisioner of its own.
  - Every entry is checked with the module's own rules, and the list as a whole - two classes may not
    share a class name, a C(provisioner_name) or a Deployment (namespace and name). The messages name
    the entry, e.g. C(nfs_provisioner_classes[1]) followed by the module's message.
  - Checks that need the cluster are the module's, before its first write.
options:
  _input:
    description: The list of classes (role variable C(nfs_provisioner_classes)).
    type: list
    elements: dict
    required: true
  defaults:
    description: Parameters for keys an entry leaves out (C(null) values are ignored).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Plan the classes and stop on any problem
  vars:
    plan: >-
      {{ [{'storage_class_name': 'nfs-data'}, {'storage_class_name': 'nfs-scratch', 'on_delete': 'delete'}]
         | stateful.nfs.provisioner_class_plan({'nfs_server': '10.0.0.5', 'nfs_path': '/srv/nfs'}) }}
  ansible.builtin.assert:
    that: plan.problems | length == 0
    fail_msg: "{{ plan.problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    classes:
      description: The nfs_provisioner parameters of each valid entry, in list order.
      type: list
      elements: dict
    problems:
      description: Every problem of the list; empty when all of it would be accepted.
      type: list
      elements: str
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.lists import provisioner_class_plan


class FilterModule:
    """stateful.nfs StorageClass list plan."""

    def filters(self):
        return {"provisioner_class_plan": provisioner_class_plan}
