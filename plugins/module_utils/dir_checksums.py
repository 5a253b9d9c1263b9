# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checksum lists of volume directories on the NFS server: the one place that says what a
directory's content is (modules ``nfs_dir_checksums`` and ``nfs_dir_copy``).

A list is every regular file under a directory (relative path -> sha256, read in 1 MiB blocks:
no file is held in memory) and every symlink (-> ``symlink:<target>``); other file types
(fifos, sockets, devices) are not content. Its summary is the file count and the sha256 of the
sorted ``"<sha256>  <path>\\n"`` lines (what ``sha256sum`` prints), so two lists are equal when
their summaries are.

``summary`` reads each directory's summary now (nothing kept); ``record`` keeps a directory's list in an index directory once (the list taken before a
restored pod first started stays the reference); ``compare`` lists what differs from it,
leaving out the paths the application rewrites at start (fnmatch patterns).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import ModuleError

BLOCK = 1 << 20


def walk(root):
    """``(relative path, kind, absolute path)`` of everything under ``root``, directories first and
    each level sorted; ``kind`` is ``dir``, ``file``, ``symlink`` or ``other``."""
    for top, dirs, files in os.walk(root):
        dirs.sort()
        for name in list(dirs):
            path = os.path.join(top, name)
            if os.path.islink(path):
                dirs.remove(name)  # a symlink to a directory is a symlink, not followed
                files.append(name)
                continue
            yield os.path.relpath(path, root), "dir", path
        for name in sorted(files):
            path = os.path.join(top, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                yield rel, "symlink", path
            elif os.path.isfile(path):
                yield rel, "file", path
            else:
                yield rel, "other", path


def stream(source, sink=None, on_block=None):
    """sha256 and size of everything read from ``source`` (1 MiB at a time), each block also
    written to ``sink`` when given and passed to ``on_block`` (which may raise, to stop)."""
    digest = hashlib.sha256()
    size = 0
    for block in iter(lambda: source.read(BLOCK), b""):
        digest.update(block)
        size += len(block)
        if sink is not None:
            sink.write(block)
        if on_block is not None:
            on_block(len(block))
    return digest.hexdigest(), size


def checksum_list(root):
    out = {}
    for rel, kind, path in walk(root):
        if kind == "symlink":
            out[rel] = "symlink:" + os.readlink(path)
        elif kind == "file":
            with open(path, "rb") as f:
                out[rel] = stream(f)[0]
    return out


def summary(files):
    text = "".join(f"{v}  {k}\n" for k, v in sorted(files.items()))
    return {"files": len(files), "list_sha256": hashlib.sha256(text.encode()).hexdigest()}


def excluded(files, patterns):
    return {k: v for k, v in files.items() if not any(fnmatch.fnmatch(k, p) for p in patterns)}


def record_path(index, directory):
    return os.path.join(index, os.path.basename(directory.rstrip("/")) + ".json")


def record(index, dirs, check_mode=False):
    """Keep each directory's list in ``index`` (``<name>.json``) when it is not kept yet."""
    result = {"changed": False, "directories": {}}
    for d in dirs:
        if not os.path.isdir(d):
            result["directories"][d] = {"error": "missing"}
            continue
        target = record_path(index, d)
        if os.path.exists(target):
            with open(target) as f:
                files = json.load(f)["files"]
            result["directories"][d] = dict(summary(files), recorded=False, record=target)
            continue
        files = checksum_list(d)
        result["changed"] = True
        result["directories"][d] = dict(summary(files), recorded=not check_mode, record=target)
        if check_mode:
            continue
        os.makedirs(index, mode=0o700, exist_ok=True)
        tmp = target + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"directory": d, "files": files}, f, sort_keys=True)
        os.replace(tmp, target)
    return result


def summaries(dirs):
    """Each directory's summary as it is now (``error`` when missing); nothing is kept."""
    return {"changed": False,
            "directories": {d: summary(checksum_list(d)) if os.path.isdir(d) else {"error": "missing"} for d in dirs}}


def compare(index, excludes, dirs):
    """What differs in each directory from its record (``same`` when nothing but excluded paths)."""
    result = {"changed": False, "excluded_patterns": list(excludes), "directories": {}}
    for d in dirs:
        target = record_path(index, d)
        if not os.path.exists(target):
            result["directories"][d] = {"error": f"no record {target}"}
            continue
        with open(target) as f:
            before = json.load(f)["files"]
        now = checksum_list(d) if os.path.isdir(d) else {}
        b, a = excluded(before, excludes), excluded(now, excludes)
        result["directories"][d] = {
            "same": b == a,
            "differ": sorted(k for k in b if k in a and a[k] != b[k]),
            "missing": sorted(k for k in b if k not in a),
            "added": sorted(k for k in a if k not in b),
            "excluded": sorted(set(before) - set(b) | set(now) - set(a)),
            "before": summary(b), "after": summary(a),
        }
    return result


NFS_DIR_CHECKSUMS_OPTIONS = {
    "state": {"type": "str", "choices": ["summary", "record", "compare"], "required": True},
    "index_dir": {"type": "path"},
    "directories": {"type": "list", "elements": "path", "required": True},
    "exclude": {"type": "list", "elements": "str", "default": []},
}


def run_dir_checksums(module, done):
    """The ``nfs_dir_checksums`` module's run."""
    p = module.params
    if p["state"] == "summary":
        return summaries(p["directories"])
    if not p["index_dir"]:
        raise ModuleError(f"index_dir is required with state={p['state']}")
    if p["state"] == "record":
        return record(p["index_dir"], p["directories"], module.check_mode)
    return compare(p["index_dir"], p["exclude"], p["directories"])
