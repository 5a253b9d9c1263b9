# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight gate: which nodes proved every export, and what each other node did not prove."""
from __future__ import annotations

DOCUMENTATION = r"""
name: nfs_client_gate
short_description: Which Kubernetes nodes proved every NFS export, naming each node and export that did not
version_added: 0.4.0
description:
  - Reads each node's C(nfs_client_proof_result) (role C(nfs_client)); a node passes only when its result says
    C(ok) for every export.
options:
  _input:
    description: Every host's variables, C(hostvars).
    type: dict
    required: true
  nodes:
    description: The nodes to judge, e.g. C(groups['k8s_nodes']).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Stop unless every node proved every export
  vars:
    verdict: "{{ hostvars | stateful.nfs.nfs_client_gate(groups['k8s_nodes']) }}"
  ansible.builtin.assert:
    that: verdict.unproven | length == 0
    fail_msg: "{{ verdict.problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: The verdict.
  type: dict
  contains:
    ran:
      description: Whether any node has a proof result (the client stage ran in this run).
      type: bool
    proven:
      description: The nodes that proved every export.
      type: list
      elements: str
    unproven:
      description: The other nodes, in the order given.
      type: list
      elements: str
    problems:
      description: One line per unproven node naming each export it did not prove and why.
      type: list
      elements: str
"""

from ansible_collections.stateful.nfs.plugins.module_utils.nfs_client_proof import gate


def nfs_client_gate(hostvars, nodes):
    """Every node's verdict: ``hostvars | nfs_client_gate(node names)``."""
    return gate({node: (hostvars[node].get("nfs_client_proof_result") if node in hostvars else None)
                 for node in nodes or []})


class FilterModule:
    """stateful.nfs preflight gate over the NFS client proofs."""

    def filters(self):
        return {"nfs_client_gate": nfs_client_gate}
