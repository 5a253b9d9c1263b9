#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check every volume's directory on the NFS server in one run; print JSON.

    volume_check.py SPEC_JSON

SPEC_JSON: {"file": "index.html", "write": bool, "check": bool, "nfs_host": "127.0.0.1",
            "volumes": [{"pod": "web-0", "dir": "/srv/nfs/...", "nfs_path": "/srv/nfs/...",
                         "line": "..."}]}

For each volume: does its directory exist; with "write", put the pod's line into
<dir>/<file> when it differs (mode 0644, atomic rename; nothing is written with
"check"), then read the file back THROUGH NFS with libnfs' nfs-cat at the volume's
export path. Used by role k8s_statefulset_nginx: the directory check for every method, and
the write for the nfs method (clusters that forbid exec). One run replaces a stat, a copy and
an nfs-cat per volume.

Prints {"changed": bool, "volumes": [{"pod", "dir", "dir_exists", "written",
"nfs_content", "nfs_error"}]}. Exit 0 also when a check fails: the role's asserts
name what is wrong. Exit 2 on a bad SPEC_JSON.
"""
import json
import os
import subprocess
import sys
import tempfile

NFS_CAT_TIMEOUT = 30


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None


def _write(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".volume_check.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _nfs_cat(host, path):
    try:
        # argv list, no shell; nfs-cat from PATH as libnfs-utils installs it (Debian, EPEL).
        done = subprocess.run(["nfs-cat", f"nfs://{host}{path}"],  # noqa: S603, S607
                              capture_output=True, text=True, timeout=NFS_CAT_TIMEOUT, check=False)
    except FileNotFoundError:
        return None, "nfs-cat is not installed (Debian: libnfs-utils)"
    except subprocess.TimeoutExpired:
        return None, f"nfs-cat nfs://{host}{path} timed out after {NFS_CAT_TIMEOUT} s"
    if done.returncode != 0:
        return None, f"nfs-cat nfs://{host}{path} failed (rc {done.returncode}): {done.stderr.strip()}"
    return done.stdout, None


def check_volume(volume, spec):
    row = {"pod": volume["pod"], "dir": volume["dir"], "dir_exists": os.path.isdir(volume["dir"]),
           "written": False, "nfs_content": None, "nfs_error": None}
    if not spec.get("write") or not row["dir_exists"]:
        return row
    target = os.path.join(volume["dir"], spec["file"])
    wanted = volume["line"] + "\n"
    if _read(target) != wanted:
        row["written"] = True
        if not spec.get("check"):
            _write(target, wanted)
    if not spec.get("check") or not row["written"]:
        content, row["nfs_error"] = _nfs_cat(spec.get("nfs_host", "127.0.0.1"),
                                             volume["nfs_path"].rstrip("/") + "/" + spec["file"])
        row["nfs_content"] = None if content is None else content.strip()
    return row


def main(argv):
    try:
        spec = json.loads(argv[1])
        volumes = spec["volumes"]
        if not isinstance(spec["file"], str) or "/" in spec["file"]:
            raise ValueError("'file' must be a file name")
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        print(json.dumps({"error": f"bad argument: {exc}"}))
        return 2
    rows = [check_volume(v, spec) for v in volumes]
    print(json.dumps({"changed": any(r["written"] for r in rows), "volumes": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
