# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role k8s_statefulset_nginx's variables as one StorageClass and one application."""
from __future__ import annotations

DOCUMENTATION = r"""
name: k8s_statefulset_nginx_mapping
short_description: The deprecated walkthrough role's variables as role nfs_provisioner's class and role statefulset's application
version_added: 0.4.0
description:
  - Role C(stateful.nfs.k8s_statefulset_nginx) (deprecated, removal planned for 1.0) keeps its variables and hands
    them to roles C(stateful.nfs.nfs_provisioner) and C(stateful.nfs.statefulset) through this filter.
  - The class entry gives M(stateful.nfs.nfs_provisioner) the parameters the role gave it; the application entry
    gives M(stateful.nfs.statefulset) the parameters the role gave it, so an existing deployment's StatefulSet and
    Service are built again field for field and never recreated.
  - The application's C(verify) proves what the role proved - identity, DNS, claims, each pod's line
    (C(verify_content)) in the index file of its own volume (the storage marker) served back by that pod over HTTP
    through the pod proxy (the application check). C(verify_method=nfs) maps to M(stateful.nfs.statefulset_verify)'s
    C(method=api).
options:
  _input:
    description: The role's variables, with or without the C(k8s_statefulset_nginx_) prefix.
    type: dict
    required: true
  nfs_server:
    description: The NFS server's address the role worked out (its variable, else the server host's address).
    type: str
    default: ""
  nfs_path:
    description: The exported path the role worked out.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Map the role's variables
  vars:
    names: "{{ query('ansible.builtin.varnames', '^k8s_statefulset_nginx_') }}"
    mapping: >-
      {{ dict(names | zip(query('ansible.builtin.vars', *names)))
         | stateful.nfs.k8s_statefulset_nginx_mapping(nfs_server='192.0.2.20', nfs_path='/srv/nfs') }}
  ansible.builtin.debug:
    var: mapping.applications
"""

RETURN = r"""
_value:
  description: The mapping.
  type: dict
  contains:
    classes:
      description: One C(nfs_provisioner_classes) entry; none when C(provisioner_enabled) is false.
      type: list
      elements: dict
    applications:
      description: One C(statefulset_applications) entry, named as the StatefulSet (C(web) by default).
      type: list
      elements: dict
    k8s_auth:
      description: The connection options the role's variables set (C(nfs_provisioner_k8s_auth), C(statefulset_k8s_auth)).
      type: dict
    report:
      description: Whether the identity report is written.
      type: bool
    report_dir:
      description: Where (C(statefulset_report_dir)).
      type: str
    problems:
      description: Values the mapping cannot take, each naming the role's variable; the entries' own rules are the modules'.
      type: list
      elements: str
"""

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.walkthrough import walkthrough_mapping


class FilterModule:
    """stateful.nfs walkthrough role mapping."""

    def filters(self):
        return {"k8s_statefulset_nginx_mapping": walkthrough_mapping}
