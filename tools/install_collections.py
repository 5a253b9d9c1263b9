#!/usr/bin/env python3
"""Install the Ansible collections this project uses into .collections/.

Ansible Galaxy is not reachable from the build machines, but PyPI is: the
`ansible` community package bundles every collection we need. Installing that
package whole costs ~577 MB; we download its wheel once (cached in .cache/) and
unpack only the collections listed below (~3 MB), then link this repository in
as stateful.nfs so that FQCNs resolve from a checkout.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ANSIBLE_PACKAGE = "ansible==12.3.0"
COLLECTIONS = ("kubernetes.core", "ansible.posix", "community.docker", "awx.awx")


def wheel_path(cache: Path) -> Path:
    wheels = sorted(cache.glob("ansible-12.3.0-*.whl"))
    if wheels:
        return wheels[0]
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed argv (this interpreter's pip), no shell
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(cache), ANSIBLE_PACKAGE],
        check=True,
    )
    return min(cache.glob("ansible-12.3.0-*.whl"))


def extract(wheel: Path, dest: Path) -> None:
    prefixes = tuple(f"ansible_collections/{c.replace('.', '/')}/" for c in COLLECTIONS)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(wheel) as zf:
        for member in zf.namelist():
            if member.startswith(prefixes):
                zf.extract(member, tmp)
    for coll in COLLECTIONS:
        src = tmp / "ansible_collections" / coll.replace(".", "/")
        if not src.is_dir():
            raise SystemExit(f"{coll} is not in {wheel.name}")
        target = dest / coll.replace(".", "/")
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        src.rename(target)
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    root = args.root
    dest = root / ".collections" / "ansible_collections"
    stamp = dest / f".installed-{ANSIBLE_PACKAGE}"
    if not stamp.exists():
        extract(wheel_path(root / ".cache"), dest)
        stamp.write_text(" ".join(COLLECTIONS) + "\n")
    link = dest / "stateful" / "nfs"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        if link.exists():
            shutil.rmtree(link)
        os.symlink(os.path.relpath(root, link.parent), link)
    print(f"collections ready in {dest.parent}: {', '.join(COLLECTIONS)} + stateful.nfs -> {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
