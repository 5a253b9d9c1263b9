#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nfs_dir_copy
short_description: Copy a volume's directory on the NFS server atomically, with a manifest of its checksums
version_added: 0.5.0
description:
  - Runs on the NFS server host. Copies the directory O(src) (a claim's volume, or a backup of one) to
    O(dest), and writes the manifest C(<dest>.manifest.json) beside it - the source directory, file count,
    bytes, the sha256 of each file (the checksum list of M(stateful.nfs.nfs_dir_checksums)), the sha256 of
    the sorted list, the time, and O(fields).
  - The copy streams - each file is read and written 1 MiB at a time and hashed as it is copied, so no
    file is held in memory. Symlinks are copied as symlinks; modes, times and (as root) owners are kept;
    fifos, sockets and devices are left out (RV(skipped)).
  - Atomic. The copy is made in the hidden sibling C(.<dest name>.partial), every file and directory
    fsynced, then renamed to O(dest) and its manifest renamed into place. A directory without its manifest
    is never a finished copy. A run that was interrupted leaves the partial sibling, which the next run
    removes (it is this module's own) before copying again; O(dest) renamed but its manifest not yet is
    completed when its checksums are those of the manifest left beside it, and refused otherwise.
  - Idempotent. O(dest) with its manifest is a finished copy and is left as it is (unless O(replace)).
  - With O(expect_list_sha256) (restoring a backup), O(src) must have that checksum list - checked
    before the first write, and again over what was copied.
  - Bounded in time. A copy that takes longer than O(timeout) seconds stops, removes its partial
    directory and fails.
options:
  src:
    description: The directory to copy (absolute path on this host).
    type: path
    required: true
  dest:
    description:
      - The copy's directory (absolute path on this host); its parent is created (mode C(0700)) when missing.
        Must not be inside O(src) or contain it.
    type: path
    required: true
  fields:
    description:
      - More keys of the manifest, for example the namespace, application, StatefulSet, claim template,
        ordinal, claim, volume and C(crash_consistent). The keys the module writes itself are refused.
    type: dict
    default: {}
  expect_list_sha256:
    description:
      - The sha256 of O(src)'s checksum list, as a manifest gives it. A different content is refused
        before the first write; a finished O(dest) of another content is refused too.
    type: str
  replace:
    description:
      - Copy again when O(dest) is a finished copy; the new copy replaces it (the old one is removed once
        the new one is in place).
    type: bool
    default: false
  timeout:
    description: Seconds the copy may take.
    type: int
    default: 3600
attributes:
  check_mode:
    support: full
    description: Nothing is written; O(src) is read to give its checksum list (and check O(expect_list_sha256)).
  diff_mode:
    support: full
    description: O(dest) before (absent or present) and after (copied from O(src)).
  platform:
    support: full
    platforms: posix
    description: The NFS server host (the paths are its disk paths), with Python 3.
notes:
  - The copy is plain Python (no rsync on the NFS server is needed) - a copy that is hashed while it is
    written gives the manifest's checksum list in one read of the source.
  - Copying a live directory gives a copy that is not crash-consistent (files may change while they are
    read); stop the pods first (C(backup.yml -e quiesce=true)).
author:
  - stateful.nfs contributors (!UNKNOWN)
seealso:
  - module: stateful.nfs.nfs_dir_checksums
  - module: stateful.nfs.pvc_restore
'''

EXAMPLES = r'''
- name: Back up web-0's volume
  stateful.nfs.nfs_dir_copy:
    src: /srv/nfs/shop-www-web-0-pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10
    dest: /srv/nfs-backups/shop-web/www-web-0
    fields: {namespace: shop, application: web, ordinal: 0, pvc: www-web-0, crash_consistent: false}
    timeout: 600
  delegate_to: nfs1

- name: Copy a backup into a fresh directory of the export (refused when the backup was changed)
  stateful.nfs.nfs_dir_copy:
    src: /srv/nfs-backups/shop-web/www-web-0
    dest: /srv/nfs/restored-shop2-www-web-0-shop-web
    expect_list_sha256: 6c1d5c0e3f0e8f5ab2d6d8f0c3a2b1e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0
  delegate_to: nfs1
'''

RETURN = r'''
dest:
  description: O(dest), normalised.
  returned: always
  type: str
manifest_path:
  description: The manifest's path (C(<dest>.manifest.json)).
  returned: always
  type: str
copied:
  description: Whether the directory was (in check mode, would be) copied by this run.
  returned: always
  type: bool
removed_partial:
  description: Whether an interrupted run's partial directory was removed.
  returned: always
  type: bool
completed:
  description: O(dest) was in place from an interrupted run and only its manifest was renamed into place.
  returned: when it happened
  type: bool
list_sha256:
  description: The sha256 of the sorted checksum list (of O(src) in check mode, else of the copy).
  returned: success
  type: str
files:
  description: The number of files (regular files and symlinks).
  returned: success
  type: int
bytes:
  description: The bytes of the regular files.
  returned: success, not in check mode
  type: int
skipped:
  description: Paths under O(src) that are not copied (fifos, sockets, devices).
  returned: when copied
  type: list
  elements: str
manifest:
  description: The manifest (without its per-file checksums).
  returned: success, not in check mode
  type: dict
  sample:
    namespace: shop
    application: web
    ordinal: 0
    pvc: www-web-0
    source_directory: /srv/nfs/shop-www-web-0-pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10
    files: 2
    bytes: 262160
    list_sha256: 6c1d5c0e3f0e8f5ab2d6d8f0c3a2b1e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0
    time: "2026-12-06T10:00:00Z"
    crash_consistent: false
    skipped: []
    version: 1
'''

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import run_module
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_dir_copy_module import (
    NFS_DIR_COPY_OPTIONS,
    run_dir_copy,
)


def main():
    run_module(NFS_DIR_COPY_OPTIONS, run_dir_copy)


if __name__ == '__main__':
    main()
