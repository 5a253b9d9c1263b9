# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The address by which Kubernetes nodes and pods reach an NFS server host of the inventory."""
from __future__ import annotations


def nfs_address(hostvars, inventory_name):
    """The NFS address of inventory host ``inventory_name`` whose variables are ``hostvars``.

    In order: its ``nfs_address`` host variable (for a storage network or an external NAS), its
    ``ansible_default_ipv4.address`` fact (present when facts were gathered), its ``ansible_host``,
    its inventory name. Returns a str; never fails (an empty or missing value falls through).
    """
    hostvars = hostvars or {}
    default_ipv4 = hostvars.get("ansible_default_ipv4") or {}
    for candidate in (hostvars.get("nfs_address"), default_ipv4.get("address"), hostvars.get("ansible_host")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return inventory_name
