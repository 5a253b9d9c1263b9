"""module_utils/volume_index.py: the collection's index of claim volumes on the NFS server, written
once per PV and located again by name and inode after the provisioner's archive rename."""
from __future__ import annotations

import os

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.volume_index import (
    INDEX_DIR,
    IndexError_,
    locate,
    query,
    record,
)

PV0 = "pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10"
PV1 = "pvc-1b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e11"


def volume(share, pv, ns, ordinal):
    return {"pv": pv, "namespace": ns, "claim": f"www-web-{ordinal}", "statefulset": "web", "template": "www",
            "ordinal": ordinal, "directory": f"{share}/{ns}/www-web-{ordinal}"}


def test_recorded_once_then_located_after_the_archive_rename(tmp_path):
    share = str(tmp_path)
    os.makedirs(f"{share}/shop/www-web-0")
    os.makedirs(f"{share}/shop/www-web-1")
    vols = [volume(share, PV0, "shop", 0), volume(share, PV1, "shop", 1)]
    dry = record(share, vols, check_mode=True)
    assert dry["changed"] and not os.path.exists(f"{share}/{INDEX_DIR}")
    first = record(share, vols)
    assert first["changed"] and sorted(os.listdir(f"{share}/{INDEX_DIR}")) == [f"{PV0}.json", f"{PV1}.json"]
    again = record(share, vols)
    assert not again["changed"] and again["written"] == []  # a re-run writes nothing
    # what the provisioner does on delete with a pathPattern: archived-<last path element> at the top
    os.rename(f"{share}/shop/www-web-0", f"{share}/archived-www-web-0")
    entries = {e["pv"]: e for e in query(share)["entries"]}
    assert entries[PV0]["archive"] == "archived-www-web-0" and entries[PV0]["claim"] == "www-web-0"
    assert entries[PV1]["archive"] is None  # still in place, not archived
    os.rename(f"{share}/archived-www-web-0", f"{share}/restored-www-web-0")
    assert {e["pv"]: e["archive"] for e in query(share)["entries"]}[PV0] == "restored-www-web-0"


def test_a_name_without_the_inode_is_not_the_entry(tmp_path):
    entry = {"pv": PV0, "namespace": "shop", "claim": "www-web-0", "statefulset": "web", "template": "www",
             "ordinal": 0, "directory": "/srv/nfs/shop/www-web-0", "inode": 11}
    # another namespace's claim of the same name archived there (inode 12): not shop's
    assert locate([entry], {"archived-www-web-0": 12})[0]["archive"] is None
    assert locate([entry], {"archived-www-web-0": 11})[0]["archive"] == "archived-www-web-0"


def test_bad_volumes_are_refused_before_any_write(tmp_path):
    share = str(tmp_path)
    os.makedirs(f"{share}/shop/www-web-0")
    good = volume(share, PV0, "shop", 0)
    outside = dict(volume(share, PV1, "shop", 1), directory="/elsewhere/www-web-1")
    with pytest.raises(IndexError_, match=r"volumes\[1\]\.directory: '/elsewhere/www-web-1' is not a directory below"):
        record(share, [good, outside])
    with pytest.raises(IndexError_, match=r"volumes\[0\]\.pv: '../x' is not a PersistentVolume name"):
        record(share, [dict(good, pv="../x")])
    assert not os.path.exists(f"{share}/{INDEX_DIR}")
    gone = record(share, [volume(share, PV1, "shop", 1)])
    assert gone["skipped"] == [{"pv": PV1, "reason": f"directory {share}/shop/www-web-1 is missing"}]
    assert not gone["changed"]
