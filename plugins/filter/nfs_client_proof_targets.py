# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exports role nfs_client proves on every node."""
from __future__ import annotations

DOCUMENTATION = r"""
name: nfs_client_proof_targets
short_description: The exports every node must prove - each distinct export of the StorageClasses, or the default one
version_added: 0.4.0
description:
  - Reads the classes as role C(nfs_provisioner) does (the filter C(stateful.nfs.provisioner_class_plan)), with
    O(server) and O(export) as the default C(nfs_server) and C(nfs_path) of an entry that leaves them out.
  - One target per distinct server, export path and the mount options that decide whether a mount can be made
    (NFS version, transport and ports, security flavour, locking); options such as C(hard) or C(noatime) make no
    target of their own. A class's C(nfsvers)/C(vers) is the target's NFS version, else O(version).
  - Classes with C(state=absent) are not proved. Without classes (or none left), the one target is O(server):O(export).
  - See also C(stateful.nfs.nfs_client_proof_result) (a node's proofs combined) and C(stateful.nfs.nfs_client_gate).
options:
  _input:
    description: The StorageClass entries (role C(nfs_provisioner)'s C(nfs_provisioner_classes), or its published plan's classes); C([]) for none.
    type: list
    elements: dict
    required: true
  server:
    description: The role's NFS server, the default C(nfs_server).
    type: str
    required: true
  export:
    description: The role's export path, the default C(nfs_path).
    type: str
    required: true
  version:
    description: The NFS version (C(auto), C(3), C(4)) of a target whose class names none.
    type: str
    default: auto
  known_exports:
    description: The export paths O(server) is configured with, when known; given to the probe of each target on it.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: The exports to prove
  ansible.builtin.set_fact:
    targets: >-
      {{ [{'storage_class_name': 'nfs-data'}, {'storage_class_name': 'nfs-b', 'nfs_path': '/srv/b'}]
         | stateful.nfs.nfs_client_proof_targets('10.0.0.5', '/srv/nfs') }}
"""

RETURN = r"""
_value:
  description: The targets and the problems of the list.
  type: dict
  contains:
    targets:
      description: One per export to prove - server, export, source (C(server:/path)), version, mount_options, classes, known_exports.
      type: list
      elements: dict
    problems:
      description: Every problem of the class list (the nfs_provisioner plan's messages); empty when it is valid.
      type: list
      elements: str
"""

from ansible_collections.stateful.nfs.plugins.module_utils.nfs_client_proof import proof_targets


def nfs_client_proof_targets(classes, server, export, version="auto", known_exports=None):
    """See DOCUMENTATION."""
    return proof_targets(classes, server, export, version=version, known_exports=known_exports)


class FilterModule:
    """stateful.nfs NFS client proof targets."""

    def filters(self):
        return {"nfs_client_proof_targets": nfs_client_proof_targets}
