# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A node's proofs of every export, combined into role nfs_client's result fact."""
from __future__ import annotations

DOCUMENTATION = r"""
name: nfs_client_proof_result
short_description: A node's nfs_client_proof_result from its proofs of every export
version_added: 0.4.0
description:
  - Combines what a loop of M(stateful.nfs.nfs_probe) over the targets of C(stateful.nfs.nfs_client_proof_targets)
    registered on one node.
  - The result carries the probe's keys (C(ok), C(method), C(method_reason), C(reason), C(message), C(version),
    C(server), C(export), C(exports), C(details)) from the first failed proof, else the first one; C(ok) is true only
    when every export was proved. C(proofs) has one entry per export (those keys, C(target) naming it and C(classes));
    C(failed) names each export that failed. With several exports C(message) names each failure.
  - An unreachable node (the probe task with C(ignore_unreachable)) gets C(unreachable) and C(msg); a probe that
    could not run counts as failed with reason C(error).
options:
  _input:
    description: The registered result of the probe loop (C(results), one per target, each with its C(item)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Publish this node's proof of every export
  ansible.builtin.set_fact:
    nfs_client_proof_result: "{{ probes | stateful.nfs.nfs_client_proof_result }}"
"""

RETURN = r"""
_value:
  description: The node's combined result (see the description).
  type: dict
"""

from ansible_collections.stateful.nfs.plugins.module_utils.nfs_client_proof import proof_result


def nfs_client_proof_result(registered):
    """A node's nfs_client_proof_result from the role's registered probe loop."""
    return proof_result(registered)


class FilterModule:
    """stateful.nfs NFS client proof result."""

    def filters(self):
        return {"nfs_client_proof_result": nfs_client_proof_result}
