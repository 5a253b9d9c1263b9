#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nfs_volume_check
short_description: Check persistent volumes' directories on the NFS server, and their content through NFS
version_added: 0.4.0
description:
  - Runs on the NFS server host. For each volume (a directory the NFS provisioner made for one
    claim), checks that its directory exists on the server's disk.
  - With O(read=true), reads each volume's file O(file) through NFS and writes nothing.
  - With O(write=true), also puts O(volumes[].content) (plus a newline) into the file O(file) of
    each directory when it differs (a temporary file renamed over it, mode C(0644)), then reads
    every such file back B(through NFS), in one session of the libnfs shared library (the
    user-space session of M(stateful.nfs.nfs_probe), under an NFSv4 client owner of its own).
    The export O(export) of O(server) is mounted once and each file read at the volume's path.
  - A missing directory or a file that reads back differently is not a failure of the module; the
    caller compares RV(volumes) with what it expects and names what is wrong. A session that
    cannot run (no libnfs) fails it.
  - Used by role C(stateful.nfs.statefulset) (an application's C(verify.nfs_side), the walkthrough's
    nfs verify method) to prove each pod's own storage on the NFS side, for clusters that forbid exec;
    M(stateful.nfs.statefulset_verify) plans the volumes (its C(nfs_volume_check) result) and judges
    RV(volumes).
options:
  volumes:
    description: The volumes, in the order they are reported.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: A name for the volume in the result (the pod's, for example).
        type: str
        required: true
      directory:
        description:
          - The volume's directory on this host's disk, checked to exist (RV(volumes[].directory_exists)).
          - Required with O(write=true); without it the directory is not checked.
        type: path
      path:
        description: The volume's path as NFS clients see it (the PV's C(spec.nfs.path)), O(export) or under it.
        type: str
        required: true
      content:
        description: The line to put into O(file) with O(write=true) (required then).
        type: str
  file:
    description: The file name in each volume's directory (no C(/)).
    type: str
    required: true
  write:
    description: Write O(volumes[].content) where it differs and read every file back through NFS.
    type: bool
    default: false
  read:
    description:
      - Read each volume's file through NFS, writing nothing (what is stored there now, for
        example before and after a pod is deleted). Implied by O(write=true).
    type: bool
    default: false
  server:
    description: The address the NFS session reads through (this host serves the export).
    type: str
    default: 127.0.0.1
  export:
    description: The export the volumes' paths are under, mounted once for all of them.
    type: str
    required: true
  timeout:
    description: Seconds each libnfs call may take.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    description: Nothing is written; only files that would stay as they are are read through NFS.
  diff_mode:
    support: full
    description: Each file written, before and after.
  platform:
    support: full
    platforms: posix
    description: The NFS server host, with Python and the libnfs shared library (libnfs-utils).
author:
  - stateful.nfs contributors (!UNKNOWN)
seealso:
  - module: stateful.nfs.nfs_probe
'''

EXAMPLES = r'''
- name: Put each pod's line into its volume and read it back through NFS
  stateful.nfs.nfs_volume_check:
    export: /srv/nfs
    file: index.html
    write: true
    volumes:
      - name: web-0
        directory: /srv/nfs/default-www-web-0-pvc-1
        path: /srv/nfs/default-www-web-0-pvc-1
        content: web-0 from its own volume
  delegate_to: nfs1
'''

RETURN = r'''
changed:
  description: Whether a file was (or, in check mode, would be) written.
  returned: always
  type: bool
volumes:
  description: One per volume, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: O(volumes[].name).
      type: str
    directory:
      description: O(volumes[].directory).
      type: str
    directory_exists:
      description: Whether the directory exists on this host; null when O(volumes[].directory) is not given.
      type: bool
    written:
      description: Whether the file was (would be) written.
      type: bool
    nfs_content:
      description: The file as read through NFS, stripped; null when not read or unreadable.
      type: str
    nfs_error:
      description: Why the file could not be read through NFS (libnfs' text, or the mount's failure); null otherwise.
      type: str
  sample:
    - name: web-0
      directory: /srv/nfs/default-www-web-0-pvc-1
      directory_exists: true
      written: false
      nfs_content: web-0 from its own volume
      nfs_error: null
'''

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import run_module
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_volume_check_module import (
    NFS_VOLUME_CHECK_OPTIONS,
    run_volume_check,
)


def main():
    run_module(NFS_VOLUME_CHECK_OPTIONS, run_volume_check)


if __name__ == '__main__':
    main()
