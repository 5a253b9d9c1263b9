#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nfs_volume_index
short_description: Keep the collection's index of claim volumes on the NFS server
version_added: 0.5.0
description:
  - Runs on the NFS server host. The index maps a claim's directory to its namespace, claim, StatefulSet,
    claim template, ordinal and PersistentVolume, so that the directory can be attributed once the NFS
    provisioner has archived it as C(archived-<last path element>) - with a C(pathPattern) that name alone
    does not say whose data it is.
  - One file per PersistentVolume, C(<share>/.stateful-nfs-volumes/<pv>.json), beside the archives at the
    top of the share, never inside a claim's directory. It records the directory's inode number, which
    the provisioner's rename keeps.
  - O(state=present) writes each entry of O(volumes) only when it is missing or says something else (a
    re-run writes nothing). Every volume is checked before the first write; a volume whose directory is
    missing is reported in RV(skipped), not recorded.
  - O(state=query) reads the index and locates each entry among the top-level directories of the share
    named C(archived-) or C(restored-) plus the last element of its directory, by inode number. It
    changes nothing.
options:
  state:
    description: C(present) to record O(volumes), C(query) to read the index.
    type: str
    choices: [present, query]
    default: present
  share:
    description:
      - The exported directory the NFS provisioner archives into (its C(NFS_PATH)), as a path on this host.
    type: path
    required: true
  volumes:
    description:
      - The volumes to record, as module stateful.nfs.pvc_restore returns them with O(stateful.nfs.pvc_restore#module:index_only=true)
        (its RV(stateful.nfs.pvc_restore#module:volumes)).
      - Keys C(pv), C(namespace), C(claim), C(statefulset), C(template), C(ordinal), C(directory) (a path on this
        host, below O(share)).
    type: list
    elements: dict
    default: []
attributes:
  check_mode:
    support: full
    description: O(state=present) reports the entries it would write, and writes nothing.
  diff_mode:
    support: full
    description: Each entry written, before and after.
  platform:
    support: full
    platforms: posix
    description: The NFS server host, with Python 3.
author:
  - stateful.nfs contributors (!UNKNOWN)
seealso:
  - module: stateful.nfs.pvc_restore
'''

EXAMPLES = r'''
- name: Record the claims' volumes before their claims are deleted
  stateful.nfs.nfs_volume_index:
    share: /srv/nfs
    volumes:
      - pv: pvc-0b0c8f1e-27a4-4d35-9d7b-6a1f6f3c2e10
        namespace: shop
        claim: www-web-0
        statefulset: web
        template: www
        ordinal: 0
        directory: /srv/nfs/shop/www-web-0
  delegate_to: nfs1

- name: Read the index (each entry with the archive that is its directory now)
  stateful.nfs.nfs_volume_index:
    state: query
    share: /srv/nfs
  delegate_to: nfs1
  register: index
'''

RETURN = r'''
share:
  description: O(share), normalized.
  returned: always
  type: str
index_dir:
  description: The index's directory, C(<share>/.stateful-nfs-volumes).
  returned: always
  type: str
entries:
  description:
    - The entries recorded (O(state=present)) or read (O(state=query)) - keys C(pv), C(namespace), C(claim),
      C(statefulset), C(template), C(ordinal), C(directory), C(inode); with O(state=query) also C(share) and
      C(archive), the top-level directory that is the entry's directory now (C(null) when none).
  returned: always
  type: list
  elements: dict
written:
  description: The entry files written (or, in check mode, that would be).
  returned: with O(state=present)
  type: list
  elements: str
skipped:
  description: The volumes not recorded, each with C(pv) and C(reason).
  returned: with O(state=present)
  type: list
  elements: dict
unreadable:
  description: The files of the index that are not entries (left alone).
  returned: with O(state=query)
  type: list
  elements: str
'''

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import run_module
from ansible_collections.stateful.nfs.plugins.module_utils.volume_index import (
    NFS_VOLUME_INDEX_OPTIONS,
    run_volume_index,
)


def main():
    run_module(NFS_VOLUME_INDEX_OPTIONS, run_volume_index)


if __name__ == '__main__':
    main()
