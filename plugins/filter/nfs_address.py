# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The address by which nodes and pods reach an NFS server host of the inventory."""
from __future__ import annotations

DOCUMENTATION = r"""
name: nfs_address
short_description: The NFS address of an inventory host
version_added: 0.4.0
description:
  - In order - the host's C(nfs_address) variable (a storage network, an external NAS), its
    C(ansible_default_ipv4.address) fact (when facts were gathered), its C(ansible_host), its inventory name.
  - One rule for every role; it needs no fact set by a role, so it holds under C(--tags) and in day-2 runs.
options:
  _input:
    description: The host's variables, C(hostvars[host]).
    type: dict
    required: true
  inventory_name:
    description: The host's inventory name, the last fallback.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Show the NFS server's address
  ansible.builtin.debug:
    msg: "{{ hostvars[groups['nfs_server'][0]] | stateful.nfs.nfs_address(groups['nfs_server'][0]) }}"
"""

RETURN = r"""
_value:
  description: The address (a name or an IP address).
  type: str
"""

from ansible_collections.stateful.nfs.plugins.module_utils.nfs_hosts import nfs_address


class FilterModule:
    """stateful.nfs host address filter."""

    def filters(self):
        return {"nfs_address": nfs_address}
