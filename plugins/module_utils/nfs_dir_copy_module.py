# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``nfs_dir_copy`` module's options and its run: a volume's directory copied on the NFS
server into a directory that appears complete or not at all, with a manifest.

The copy goes into a hidden sibling ``.<dest name>.partial`` (files streamed 1 MiB at a time and
hashed as they are copied, each file and directory fsynced), then the manifest is written beside
it (``<dest>.manifest.json.tmp``), the directory renamed to ``dest`` and the manifest renamed to
``<dest>.manifest.json``. A directory with its manifest is finished; a re-run leaves it alone
(unless ``replace``). What an interrupted run leaves is recognised and never taken as finished:
the partial sibling is removed by the next run (it is this module's own), and ``dest`` without a
manifest is completed from the manifest left beside it when their checksums agree, else refused.

``main()`` is ``run_module(NFS_DIR_COPY_OPTIONS, run_dir_copy)`` (``module_entry``).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import time

from ansible_collections.stateful.nfs.plugins.module_utils.dir_checksums import checksum_list, stream, summary, walk
from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import ModuleError

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_VERSION = 1

NFS_DIR_COPY_OPTIONS = {
    "src": {"type": "path", "required": True},
    "dest": {"type": "path", "required": True},
    "fields": {"type": "dict", "default": {}},
    "expect_list_sha256": {"type": "str"},
    "replace": {"type": "bool", "default": False},
    "timeout": {"type": "int", "default": 3600},
}


class CopyTimeout(ModuleError):
    pass


def manifest_path(dest):
    return dest.rstrip("/") + MANIFEST_SUFFIX


def partial_path(dest):
    parent, name = os.path.split(dest.rstrip("/"))
    return os.path.join(parent, f".{name}.partial")


def read_manifest(path):
    """The manifest at ``path``, or None when missing; ModuleError when unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ModuleError(f"manifest {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("checksums"), dict) or "list_sha256" not in data:
        raise ModuleError(f"manifest {path} is not a manifest of stateful.nfs.nfs_dir_copy (no checksums/list_sha256)")
    return data


def check_params(params):
    src, dest = os.path.normpath(params["src"]), os.path.normpath(params["dest"])
    if not os.path.isabs(src) or not os.path.isabs(dest):
        raise ModuleError(f"src and dest must be absolute paths, got src={params['src']!r} dest={params['dest']!r}")
    if dest == src or dest.startswith(src + "/") or src.startswith(dest + "/"):
        raise ModuleError(f"dest {dest!r} and src {src!r} must not contain each other")
    if params["timeout"] < 1:
        raise ModuleError(f"timeout must be at least 1 second, got {params['timeout']}")
    reserved = {"checksums", "list_sha256", "files", "bytes", "source_directory", "time", "version"} & set(params["fields"])
    if reserved:
        raise ModuleError(f"fields: {', '.join(sorted(reserved))} are written by the module itself")
    return src, dest


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path):
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def _own(src_stat, path, follow=True):
    try:
        os.chown(path, src_stat.st_uid, src_stat.st_gid, follow_symlinks=follow)
    except PermissionError:
        pass  # not root: the copy is the caller's


def copy_tree(src, tmp, deadline, clock=None):
    """Copy ``src`` into the new directory ``tmp``: its checksum list, byte count and what was skipped."""
    def in_time(_n=0):
        if (clock or time.monotonic)() > deadline:
            raise CopyTimeout("timeout: the copy did not finish in time")

    os.mkdir(tmp, 0o700)
    files, size, skipped, dirs = {}, 0, [], [(src, tmp)]
    for rel, kind, path in walk(src):
        in_time()
        target = os.path.join(tmp, rel)
        st = os.lstat(path)
        if kind == "dir":
            os.mkdir(target, 0o700)
            dirs.append((path, target))
        elif kind == "symlink":
            link = os.readlink(path)
            os.symlink(link, target)
            _own(st, target, follow=False)
            files[rel] = "symlink:" + link
        elif kind == "file":
            with open(path, "rb") as source, open(target, "xb") as sink:
                files[rel], n = stream(source, sink, in_time)
                sink.flush()
                os.fsync(sink.fileno())
            shutil.copystat(path, target)
            _own(st, target)
            size += n
        else:
            skipped.append(rel)
    for path, target in reversed(dirs):  # deepest first: a directory's mtime after its entries
        shutil.copystat(path, target)
        _own(os.stat(path), target)
        _fsync_dir(target)
    return files, size, skipped


def _now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _result(dest, manifest, **more):
    out = {"dest": dest, "manifest_path": manifest_path(dest), "list_sha256": manifest["list_sha256"],
           "files": manifest["files"], "bytes": manifest["bytes"],
           "manifest": {k: v for k, v in manifest.items() if k != "checksums"}}
    out.update(more)
    return out


def run_dir_copy(module, done):
    p = module.params
    src, dest = check_params(p)
    mpath, partial = manifest_path(dest), partial_path(dest)
    done.update(changed=False, dest=dest, manifest_path=mpath, copied=False, removed_partial=False)

    # --- what an earlier run left
    finished = read_manifest(mpath) if os.path.isdir(dest) else None
    if finished is not None and not p["replace"]:
        if p["expect_list_sha256"] and finished["list_sha256"] != p["expect_list_sha256"]:
            raise ModuleError(f"dest {dest} is a finished copy of other content (list_sha256 {finished['list_sha256']},"
                              f" expect_list_sha256 {p['expect_list_sha256']}): name another dest")
        return _result(dest, finished, changed=False, copied=False, removed_partial=False)
    pending = None
    if os.path.isdir(dest) and finished is None:
        # renamed into place, manifest not yet: complete it only when the content is the manifest's
        pending = read_manifest(mpath + ".tmp")
        if pending is None or summary(checksum_list(dest))["list_sha256"] != pending["list_sha256"]:
            raise ModuleError(f"dest {dest} exists without a manifest ({mpath}): it is not a copy this module finished;"
                              " remove it or name another dest")
    if not os.path.isdir(src):
        raise ModuleError(f"src {src} is not a directory")

    # --- before the first write: the source is what it must be
    if module.check_mode or p["expect_list_sha256"]:
        source_files = checksum_list(src)
        got = summary(source_files)["list_sha256"]
        if p["expect_list_sha256"] and got != p["expect_list_sha256"]:
            raise ModuleError(f"src {src} does not match its manifest: list_sha256 {got}, expect_list_sha256"
                              f" {p['expect_list_sha256']} (changed or damaged since it was copied); nothing was changed")
    diff = {"before": {"path": dest, "state": "present" if os.path.exists(dest) else "absent"},
            "after": {"path": dest, "state": "copied from " + src}}
    if module.check_mode:
        done.update(changed=True, copied=True, diff=diff, list_sha256=got, files=len(source_files))
        return None

    os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
    if pending is not None:
        os.replace(mpath + ".tmp", mpath)
        _fsync_dir(os.path.dirname(dest))
        return _result(dest, pending, changed=True, copied=False, removed_partial=False, completed=True, diff=diff)

    if os.path.lexists(partial):
        _remove(partial)  # an interrupted run's: never complete
        done["removed_partial"] = True
    if os.path.lexists(mpath + ".tmp"):
        os.unlink(mpath + ".tmp")
    deadline = time.monotonic() + p["timeout"]
    try:
        files, size, skipped = copy_tree(src, partial, deadline)
    except CopyTimeout:
        _remove(partial)
        raise
    sums = summary(files)
    if p["expect_list_sha256"] and sums["list_sha256"] != p["expect_list_sha256"]:
        _remove(partial)
        raise ModuleError(f"src {src} changed while it was copied (list_sha256 {sums['list_sha256']}, expected"
                          f" {p['expect_list_sha256']}); the copy was removed")
    manifest = dict(p["fields"])
    manifest.update(version=MANIFEST_VERSION, source_directory=src, files=sums["files"], bytes=size,
                    list_sha256=sums["list_sha256"], time=_now(), skipped=skipped, checksums=files)
    with open(mpath + ".tmp", "w", encoding="utf-8") as f:
        json.dump(manifest, f, sort_keys=True, indent=1)
        f.flush()
        os.fsync(f.fileno())
    replaced = None
    if os.path.lexists(dest):  # replace=true: the old copy goes aside, then away
        replaced = partial + ".old"
        if os.path.lexists(mpath):
            os.unlink(mpath)
        os.replace(dest, replaced)
    os.replace(partial, dest)
    os.replace(mpath + ".tmp", mpath)
    _fsync_dir(os.path.dirname(dest))
    if replaced:
        _remove(replaced)
    done.update(changed=True, copied=True)
    return _result(dest, manifest, changed=True, copied=True, removed_partial=done["removed_partial"],
                   skipped=skipped, diff=diff)
