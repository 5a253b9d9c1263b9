"""One rule for the NFS address of an inventory host (module_utils/nfs_hosts.py), the one every
role asks through the filter stateful.nfs.nfs_address."""
from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_hosts import nfs_address

ROLES = Path(__file__).resolve().parents[3] / "roles"


@pytest.mark.parametrize(("hostvars", "expected"), [
    ({"nfs_address": "10.1.0.5", "ansible_default_ipv4": {"address": "192.0.2.5"}, "ansible_host": "nas"}, "10.1.0.5"),
    ({"nfs_address": "", "ansible_default_ipv4": {"address": "192.0.2.5"}, "ansible_host": "nas"}, "192.0.2.5"),
    ({"ansible_default_ipv4": {}, "ansible_host": "nas.example.com"}, "nas.example.com"),
    ({"ansible_default_ipv4": None}, "storage-1"),
    (None, "storage-1"),
])
def test_the_address_falls_through_in_order(hostvars, expected):
    assert nfs_address(hostvars, "storage-1") == expected


def test_no_role_derives_an_address_in_jinja():
    """The address is the filter's business: no role reads ansible_default_ipv4 beside nfs_address."""
    found = [str(p.relative_to(ROLES)) for p in ROLES.rglob("*.yml")
             if "nfs_address" in p.read_text() and "ansible_default_ipv4.address" in p.read_text()
             and "stateful.nfs.nfs_address" not in p.read_text()]
    assert found == []
