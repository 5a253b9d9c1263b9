#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nfs_dir_checksums
short_description: Keep and compare checksum lists of volume directories on the NFS server
version_added: 0.5.0
description:
  - Runs on the NFS server host. A directory's checksum list is every regular file under it (relative
    path to sha256, read 1 MiB at a time) and every symlink (to its target); its summary is the file count
    and the sha256 of the sorted list.
  - O(state=summary) reads each directory's summary as it is now and keeps nothing (O(index_dir) is not read) -
    for example a volume directory's content before it is copied.
  - O(state=record) keeps each directory's list in O(index_dir) as C(<directory name>.json), only when it is
    not kept yet (the list taken before a restored pod first started stays the reference).
  - O(state=compare) takes each list again and names the files that differ from the kept one, are missing
    or were added, leaving out the paths matching O(exclude). It changes nothing.
options:
  state:
    description: C(summary), C(record) or C(compare).
    type: str
    choices: [summary, record, compare]
    required: true
  index_dir:
    description:
      - The directory holding the kept lists (created, mode C(0700), when a list is kept). Required with
        O(state=record) and O(state=compare).
    type: path
  directories:
    description: The volume directories (absolute paths on this host).
    type: list
    elements: path
    required: true
  exclude:
    description: Relative paths (fnmatch patterns) left out of the comparison - the files the application rewrites at start.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: O(state=record) reads and reports what it would keep, and writes nothing.
  diff_mode:
    support: none
    description: The kept lists are the module's own records.
  platform:
    support: full
    platforms: posix
    description: The NFS server host, with Python 3.
author:
  - stateful.nfs contributors (!UNKNOWN)
seealso:
  - module: stateful.nfs.nfs_dir_copy
  - module: stateful.nfs.pvc_restore
'''

EXAMPLES = r'''
- name: Keep the list of a restored directory before its pod starts
  stateful.nfs.nfs_dir_checksums:
    state: record
    index_dir: /srv/nfs/.stateful-nfs-restore
    directories: [/srv/nfs/restored-shop-www-web-0-pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10]
  delegate_to: nfs1

- name: Compare once the application runs
  stateful.nfs.nfs_dir_checksums:
    state: compare
    index_dir: /srv/nfs/.stateful-nfs-restore
    directories: [/srv/nfs/restored-shop-www-web-0-pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10]
    exclude: [.stateful-nfs-verify]
  delegate_to: nfs1

- name: The content of a claim's directory now (nothing kept)
  stateful.nfs.nfs_dir_checksums:
    state: summary
    directories: [/srv/nfs/shop-www-web-0-pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10]
  delegate_to: nfs1
'''

RETURN = r'''
directories:
  description:
    - Per directory (key - its path). With O(state=summary) C(files) and C(list_sha256). With O(state=record)
      C(files), C(list_sha256), C(recorded) (kept by this run), C(record) (the list's file). With O(state=compare) C(same), C(differ), C(missing), C(added),
      C(excluded), C(before) and C(after) (summaries). C(error) when the directory or its record is missing.
  returned: always
  type: dict
excluded_patterns:
  description: O(exclude).
  returned: with O(state=compare)
  type: list
  elements: str
'''

from ansible_collections.stateful.nfs.plugins.module_utils.dir_checksums import (
    NFS_DIR_CHECKSUMS_OPTIONS,
    run_dir_checksums,
)
from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import run_module


def main():
    run_module(NFS_DIR_CHECKSUMS_OPTIONS, run_dir_checksums)


if __name__ == '__main__':
    main()
