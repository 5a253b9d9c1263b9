#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nfs_probe
short_description: Prove from a client node that an NFS export can be used
version_added: 0.1.0
description:
  - Runs on an NFS client node (a Kubernetes node) and proves that it can use an export of an
    NFS server, and says how it proved it and, on failure, why not.
  - C(kernel) method mounts the export with C(mount -t nfs) on a temporary directory, as
    kubelet mounts NFS volumes (through the node's C(/sbin/mount.nfs) helper, whatever client
    that helper uses), writes a file named after the node, reads it back, removes it and
    unmounts.
  - C(userspace) method does the same round trip in one session of the libnfs shared library
    (through ctypes, in a child Python process), under an NFSv4 client owner of its own (node,
    host name, pid and random bits; libnfs' default owner repeats across containers). It proves
    the server, the network and the export's client list from this node, B(not) that the node
    can mount NFS, so it must be asked for explicitly.
  - C(auto) method (the default) is the C(kernel) proof, because kubelet can only use a node
    that mounts NFS. When the mount fails because of the node itself (C(mount_helper_missing),
    C(kernel_client_missing), C(mount_not_permitted)), the probe fails with that reason and then
    runs the C(userspace) round trip only to say in the message (and in C(userspace) of RV(details))
    whether the server side works from this node. C(auto) never passes a node through the
    user-space path.
  - Before the round trip it resolves the server name, sends RPC NULL calls for NFSv4 and NFSv3 to
    port 2049 (this is the export probe for NFSv4-only servers) and lists the exports with
    C(showmount -e) where the server offers the MOUNT protocol.
  - A failure is classified in RV(reason) as C(dns), C(connection_refused), C(unreachable),
    C(timeout), C(export_not_found), C(export_not_allowed), C(permission_denied), C(root_squashed) (O(create_directory)),
    C(read_mismatch), C(tool_missing), C(mount_helper_missing) (no C(/sbin/mount.nfs), mount says
    "you might need a /sbin/mount.<type> helper program"), C(kernel_client_missing) (the
    kernel has no NFS client, mount.nfs says "No such device"), C(mount_not_permitted) (not root
    or no CAP_SYS_ADMIN) or C(error). The message keeps the line of the tool's output that explains
    the failure, and for the node-side reasons says what it means for kubelet and how to fix it.
  - The module is a check. It never reports a change; the probe file it writes is removed before it
    returns.
options:
  server:
    description: Name or address of the NFS server.
    type: str
    required: true
  export:
    description: Path of the export on the server (for NFSv4, its pseudo path).
    type: str
    required: true
  node:
    description:
      - Name of this node, used in the probe file name (C(.nfs-probe-<node>)) and the result.
      - Defaults to the node's host name.
    type: str
  method:
    description:
      - V(auto) proves what kubelet needs, a kernel mount (C(mount -t nfs)); a node that cannot
        mount fails, with a user-space check of the server side in the message (see the description).
      - V(kernel) is the kernel mount alone.
      - V(userspace) is the libnfs round trip alone, the choice for nodes that are not meant to
        mount NFS (for example test containers on a kernel without an NFS client); the result
        says that it did not prove a mount.
    type: str
    choices: [auto, kernel, userspace]
    default: auto
  version:
    description:
      - NFS version to probe with. C(auto) uses 4 when the server answers NFSv4, else 3.
    type: str
    choices: ['auto', '3', '4']
    default: auto
  timeout:
    description: Seconds each network step may take before it is classified as C(timeout).
    type: int
    default: 10
  known_exports:
    description:
      - The export paths the server is configured with, when the caller knows them (for example
        from the server's inventory variables).
      - An O(export) that is not among them fails with C(export_not_found) before any network
        traffic, and a refusal by the server is then reported as C(export_not_allowed) even
        when the server hides exports from clients it does not serve (NFS-Ganesha does).
    type: list
    elements: str
  mount_options:
    description:
      - Extra options for the temporary kernel mount (C(kernel) method only), appended to
        C(soft,timeo=...,retrans=1).
    type: str
    default: ''
  local_path:
    description:
      - The export's directory on this host's disk, when the probe runs on the NFS server itself
        against its own export (the proof of the C(stateful.nfs.nfs_server) role, with O(server=127.0.0.1)).
      - The round trip then also reads the probe file from that directory, after reading it back
        through NFS and before removing it, and fails with C(read_mismatch) when it is not there
        or differs from what was written. It adds the step C(disk) to RV(details).
      - O(method=userspace) only; with another method the probe fails (C(failed_step) C(configuration)).
        Not read in check mode, which writes nothing.
    type: path
    version_added: 0.4.0
  create_directory:
    description:
      - Instead of the file round trip, create the directory C(.nfs-probe-dir-<node>) at the top of
        O(export) as uid 0 and gid 0 (AUTH_SYS, whatever user runs the probe) and remove it again -
        what the NFS provisioner does for every claim, from its container running as root.
      - A server that squashes root (C(root_squash), C(all_squash)) maps uid 0 to its anonymous user;
        when that user may not create the directory (for example a root-owned directory of mode 0755),
        the probe fails with RV(reason) C(root_squashed) and the message names the fix.
      - O(method=userspace) only (with another method the probe fails, C(failed_step) C(configuration)).
        In check mode the export is listed instead (nothing is created).
    type: bool
    default: false
    version_added: 0.4.0
  fail_on_error:
    description:
      - Fail the task when the probe fails. Set to V(false) to collect the result (RV(ok),
        RV(reason)) and decide later, for example in a summary over all nodes.
    type: bool
    default: true
notes:
  - "Check mode: the probe still runs, but read-only: the network checks and the export listing
    run, the kernel method mounts read-only and lists the export, the userspace method mounts
    it with libnfs and lists it. Nothing is written to the share."
  - The kernel method needs C(mount.nfs) (C(nfs-common) or C(nfs-utils)), a kernel with an NFS
    client (or a mount helper that brings its own) and root with CAP_SYS_ADMIN; the userspace
    method needs the libnfs shared library (libnfs 4 to 6; C(libnfs-utils) depends on it). C(showmount) (C(nfs-common)/C(nfs-utils)) is optional.
  - On minimal Debian images the RPC tools need C(netbase) (C(/etc/protocols)).
attributes:
  check_mode:
    support: full
    description: Runs the probe read-only; nothing is written to the share (see the notes).
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    support: full
    description: Linux NFS clients.
    platforms: posix
author:
  - stateful.nfs contributors (!UNKNOWN)
'''

EXAMPLES = r'''
- name: Prove this node can use the export
  stateful.nfs.nfs_probe:
    server: nfs1.example.org
    export: /home/nfs

- name: Probe every node, decide after all have reported
  stateful.nfs.nfs_probe:
    server: "{{ nfs_client_server }}"
    export: "{{ nfs_client_export }}"
    node: "{{ inventory_hostname }}"
    known_exports: "{{ hostvars[groups['nfs_server'][0]].nfs_server_exports | map(attribute='path') }}"
    fail_on_error: false
  register: proof

- name: Show how it was proven
  ansible.builtin.debug:
    msg: "{{ proof.method }} ({{ proof.method_reason }}): {{ proof.message }}"

# A test container on a kernel without an NFS client cannot mount NFS at all: prove the
# server and the export from it in user space, and say so.
- name: Prove the export from a container that is not meant to mount NFS
  stateful.nfs.nfs_probe:
    server: nfs1.example.org
    export: /home/nfs
    method: userspace

# What the NFS provisioner will do: make a directory as root. A root-squashed export whose
# directory the anonymous user may not write fails here with reason root_squashed.
- name: Prove that the provisioner can make claims' directories in the export
  stateful.nfs.nfs_probe:
    server: nfs1.example.org
    export: /home/nfs
    method: userspace
    create_directory: true
'''

RETURN = r'''
ok:
  description: Whether the proof succeeded.
  returned: always
  type: bool
  sample: true
method:
  description: The method whose result is RV(ok), C(kernel) (also for O(method=auto)) or C(userspace).
  returned: always
  type: str
  sample: kernel
method_reason:
  description: Why this method was used, and what the node offers for a kernel mount.
  returned: always
  type: str
  sample: >-
    auto: a kernel mount (mount -t nfs), the way kubelet mounts NFS volumes; the kernel supports
    NFS, mount.nfs is installed and CAP_SYS_ADMIN is held
reason:
  description: C(ok) or the failure class (see the description).
  returned: always
  type: str
  sample: export_not_allowed
message:
  description: One line saying what was proven, or what failed and why.
  returned: always
  type: str
  sample: "NFSv4 round trip (write, read back, remove) via userspace"
version:
  description: The NFS version used for the round trip (null when the probe failed before).
  returned: always
  type: int
  sample: 4
exports:
  description: The export listing as seen by this client (C(showmount -e)); null when unavailable.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/srv/nfs", "clients": ["10.0.0.0/24"]}]
server:
  description: The server probed.
  returned: always
  type: str
export:
  description: The export probed.
  returned: always
  type: str
node:
  description: The node name used for the probe file.
  returned: always
  type: str
details:
  description: >-
    Resolved C(address), RPC NULL answers per C(versions), C(export_listing) source, the
    C(steps) run (a list of C(step), C(rc), C(ok), C(output); kernel C(mount), C(write), C(read),
    C(remove), C(umount); userspace C(mount), C(write), C(read), C(disk) with O(local_path), C(remove),
    or C(mount), C(list) in check mode), C(failed_step) on failure (one of those, or C(resolve), C(connect), C(rpc),
    C(configuration), C(tools) without libnfs, C(session) when the libnfs session itself died), and C(userspace) (C(ok),
    C(reason), C(message), C(steps)) when O(method=auto) checked the server side after a
    node-side mount failure.
  returned: always
  type: dict
'''

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import (
    run_module,
)
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_probe_module import (
    NFS_PROBE_OPTIONS,
    run_probe,
)


def main():
    run_module(NFS_PROBE_OPTIONS, run_probe)


if __name__ == '__main__':
    main()
