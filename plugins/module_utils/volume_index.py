# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's index of claim volumes on the NFS server (module ``nfs_volume_index``).

The NFS provisioner archives a deleted claim's directory as ``archived-<last path element>`` at
the top of its export. Without a ``pathPattern`` that element is ``<namespace>-<claim>-<pv>``
and the name can be parsed; with one (for example ``${.PVC.namespace}/${.PVC.name}``) it is
whatever the pattern made last, often the bare claim name, which says neither the namespace
nor the volume. So teardown.yml records each claim's volume here before it deletes the claims:
one file per PV, ``<share>/.stateful-nfs-volumes/<pv>.json``, with the namespace, claim,
StatefulSet, claim template, ordinal, directory and the directory's inode number.

The index sits at the top of the share, beside the archives, in a hidden directory the
provisioner never renames (it renames only the claim's own directory) and ``archive_prune.yml``
never lists (it lists ``archived-*``); nothing is written inside a claim's directory.

A directory is attributed to an index entry only when both hold: its name is
``archived-<last element of the entry's directory>`` (or ``restored-...``, the collection's
name once restored) and its inode number is the entry's (a rename keeps it). A name alone is
not enough: two namespaces, or two lives of one claim, give the same last element.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import ModuleError

INDEX_DIR = ".stateful-nfs-volumes"
ENTRY_KEYS = ("pv", "namespace", "claim", "statefulset", "template", "ordinal", "directory")
PREFIXES = ("archived-", "restored-")
# a PersistentVolume's name (DNS subdomain): safe as a file name
_PV_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

NFS_VOLUME_INDEX_OPTIONS = {
    "state": {"type": "str", "choices": ["present", "query"], "default": "present"},
    "share": {"type": "path", "required": True},
    "volumes": {"type": "list", "elements": "dict", "default": []},
}


class IndexError_(ValueError):
    """A volume the index cannot record (the message names it)."""


def entry_path(share, pv):
    return os.path.join(share, INDEX_DIR, pv + ".json")


def check_volume(share, volume, where):
    """The volume's keys, checked: every key of ENTRY_KEYS, a PV name fit for a file name, and a
    directory below ``share``. Raises IndexError_ naming ``where``."""
    missing = [k for k in ENTRY_KEYS if volume.get(k) in (None, "")]
    if missing:
        raise IndexError_(f"{where}: {', '.join(missing)} missing")
    if not _PV_RE.match(str(volume["pv"])):
        raise IndexError_(f"{where}.pv: {volume['pv']!r} is not a PersistentVolume name")
    directory = os.path.normpath(str(volume["directory"]))
    if not directory.startswith(share.rstrip("/") + "/") or os.path.basename(directory).startswith("."):
        raise IndexError_(f"{where}.directory: {volume['directory']!r} is not a directory below the share {share}")
    return dict({k: volume[k] for k in ENTRY_KEYS}, directory=directory, ordinal=int(volume["ordinal"]))


def make_entry(volume, inode):
    return dict(volume, inode=inode)


def record(share, volumes, check_mode=False):
    """Write each volume's entry when it is missing or says something else. Every volume is checked
    before the first write; a volume whose directory is gone is reported in ``skipped``."""
    share = os.path.normpath(share)
    checked = [check_volume(share, v, f"volumes[{i}]") for i, v in enumerate(volumes)]
    result = {"changed": False, "share": share, "index_dir": os.path.join(share, INDEX_DIR), "entries": [],
              "written": [], "skipped": [], "diff": []}
    for volume in checked:
        try:
            st = os.stat(volume["directory"])
        except FileNotFoundError:
            result["skipped"].append({"pv": volume["pv"], "reason": f"directory {volume['directory']} is missing"})
            continue
        entry = make_entry(volume, st.st_ino)
        result["entries"].append(entry)
        target = entry_path(share, volume["pv"])
        before = read_entry(target)
        if before == entry:
            continue
        result["changed"] = True
        result["written"].append(target)
        result["diff"].append({"before_header": target, "after_header": target,
                               "before": _text(before) if before else "", "after": _text(entry)})
        if check_mode:
            continue
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        tmp = target + ".tmp"
        with open(tmp, "w") as f:
            f.write(_text(entry))
        os.replace(tmp, target)
    return result


def _text(entry):
    return json.dumps(entry, sort_keys=True, indent=1) + "\n"


def read_entry(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None


def read_index(share):
    """``(entries, unreadable)``: every entry file of the share's index."""
    index = os.path.join(share, INDEX_DIR)
    entries, unreadable = [], []
    try:
        names = sorted(os.listdir(index))
    except FileNotFoundError:
        return entries, unreadable
    for name in names:
        if not name.endswith(".json"):
            continue
        entry = read_entry(os.path.join(index, name))
        if not isinstance(entry, dict) or any(k not in entry for k in ENTRY_KEYS + ("inode",)):
            unreadable.append(name)
            continue
        entries.append(entry)
    return entries, unreadable


def locate(entries, listing):
    """Each entry with ``archive``: the directory of ``listing`` ({name at the top of the share: inode})
    named ``archived-``/``restored-`` + the last element of its directory with its inode, or None. Pure."""
    out = []
    for entry in entries:
        base = os.path.basename(entry["directory"])
        found = [p + base for p in PREFIXES if listing.get(p + base) == entry["inode"]]
        out.append(dict(entry, archive=found[0] if found else None))
    return out


def query(share):
    """The share's index, each entry located among the top-level ``archived-``/``restored-`` directories."""
    share = os.path.normpath(share)
    entries, unreadable = read_index(share)
    listing = {}
    if os.path.isdir(share):
        for name in os.listdir(share):
            if name.startswith(PREFIXES):
                path = os.path.join(share, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    listing[name] = os.stat(path).st_ino
    located = locate(entries, listing)
    for entry in located:
        entry["share"] = share
    return {"changed": False, "share": share, "index_dir": os.path.join(share, INDEX_DIR), "entries": located,
            "unreadable": unreadable}


def run_volume_index(module, done):
    """The ``nfs_volume_index`` module's run."""
    p = module.params
    if not os.path.isabs(p["share"]):
        raise ModuleError(f"share: must be an absolute path, got {p['share']!r}")
    if p["state"] == "query":
        if p["volumes"]:
            raise ModuleError("volumes: is read only with state=present")
        return query(p["share"])
    try:
        return record(p["share"], p["volumes"], module.check_mode)
    except IndexError_ as exc:
        raise ModuleError(f"nothing was written: {exc}") from exc
