#!/usr/bin/env python3
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checksum lists of restored volume directories, run on the NFS server by playbooks/restore.yml.

    restore_checksums.py record  INDEX_DIR DIR...   # keep each DIR's list in INDEX_DIR (once: never replaced)
    restore_checksums.py compare INDEX_DIR [--exclude PATTERN]... DIR...

A list is every regular file under DIR (relative path -> sha256, read in 1 MiB blocks: no file
is held in memory) and every symlink (-> its target). ``record`` writes INDEX_DIR/<name of DIR>.json
only when it is missing (the list taken before the restored pods first started stays the
reference), through a temporary file renamed into place. ``compare`` lists the files that differ
from the record, are missing or were added, leaving out the relative paths matching a PATTERN
(fnmatch; the files the application rewrites at start). Prints one JSON document.
"""
import fnmatch
import hashlib
import json
import os
import sys


def checksum_list(root):
    out = {}
    for top, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = "symlink:" + os.readlink(path)
                continue
            if not os.path.isfile(path):
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            out[rel] = digest.hexdigest()
    return out


def summary(files):
    text = "".join(f"{v}  {k}\n" for k, v in sorted(files.items()))
    return {"files": len(files), "list_sha256": hashlib.sha256(text.encode()).hexdigest()}


def record(index, dirs):
    os.makedirs(index, mode=0o700, exist_ok=True)
    result = {"changed": False, "directories": {}}
    for d in dirs:
        if not os.path.isdir(d):
            result["directories"][d] = {"error": "missing"}
            continue
        target = os.path.join(index, os.path.basename(d.rstrip("/")) + ".json")
        if os.path.exists(target):
            with open(target) as f:
                files = json.load(f)["files"]
            result["directories"][d] = dict(summary(files), recorded=False, record=target)
            continue
        files = checksum_list(d)
        tmp = target + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"directory": d, "files": files}, f, sort_keys=True)
        os.replace(tmp, target)
        result["changed"] = True
        result["directories"][d] = dict(summary(files), recorded=True, record=target)
    return result


def compare(index, excludes, dirs):
    result = {"changed": False, "excluded_patterns": excludes, "directories": {}}
    for d in dirs:
        target = os.path.join(index, os.path.basename(d.rstrip("/")) + ".json")
        if not os.path.exists(target):
            result["directories"][d] = {"error": f"no record {target}"}
            continue
        with open(target) as f:
            before = json.load(f)["files"]
        now = checksum_list(d) if os.path.isdir(d) else {}

        def kept(files):
            return {k: v for k, v in files.items() if not any(fnmatch.fnmatch(k, p) for p in excludes)}
        b, a = kept(before), kept(now)
        result["directories"][d] = {
            "same": b == a,
            "differ": sorted(k for k in b if k in a and a[k] != b[k]),
            "missing": sorted(k for k in b if k not in a),
            "added": sorted(k for k in a if k not in b),
            "excluded": sorted(set(before) - set(b) | set(now) - set(a)),
            "before": summary(b), "after": summary(a),
        }
    return result


def main(argv):
    if len(argv) < 3 or argv[0] not in ("record", "compare"):
        sys.stderr.write(__doc__)
        return 2
    mode, index, rest = argv[0], argv[1], argv[2:]
    excludes = []
    while len(rest) >= 2 and rest[0] == "--exclude":
        excludes.append(rest[1])
        rest = rest[2:]
    out = record(index, rest) if mode == "record" else compare(index, excludes, rest)
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
