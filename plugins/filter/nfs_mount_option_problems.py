# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NFS mount options judged by the collection's one table of nfs(5) and mount(8) options."""
from __future__ import annotations

DOCUMENTATION = r"""
name: nfs_mount_option_problems
short_description: What is wrong with NFS mount options, by nfs(5) and mount(8)
version_added: 0.3.0
description:
  - Checks NFS mount options against the collection's table of what nfs(5) and mount(8) accept,
    the table M(stateful.nfs.nfs_provisioner) checks its O(stateful.nfs.nfs_provisioner#module:mount_options)
    with. It finds unknown names, a value given to a flag, a missing value, a value nfs(5) does not
    allow (C(nfsvers=5), C(proto=sctp)). Names starting with C(x-) (userspace options such as
    C(x-systemd.automount)) pass as they are.
  - Returns the problems (empty when the options are valid); never fails.
options:
  _input:
    description: The options, a comma-separated string as in C(/etc/fstab) or a list of single options.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Stop before /etc/fstab is written if an option is wrong
  ansible.builtin.assert:
    that: "'rw,hard,nfsvers=4.2' | stateful.nfs.nfs_mount_option_problems | length == 0"
"""

RETURN = r"""
_value:
  description: The problems, one message per wrong option; empty when the options are valid.
  type: list
  elements: str
"""

from ansible_collections.stateful.nfs.plugins.module_utils.mount_options import (
    mount_option_problems,
)


def nfs_mount_option_problems(options):
    """[] when nfs(5)/mount(8) accept ``options``, else one message per wrong option."""
    return mount_option_problems(options)


class FilterModule:
    """stateful.nfs mount option filters."""

    def filters(self):
        return {"nfs_mount_option_problems": nfs_mount_option_problems}
