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
  - Runs on an NFS client node and proves that it can use an export of an NFS server, by the
    strongest method the node allows, and says which method it used and why.
  - C(kernel) method (when the kernel has an NFS client, C(mount.nfs) is installed and the process
    holds CAP_SYS_ADMIN) mounts the export on a temporary directory, writes a file named after
    the node, reads it back, removes it and unmounts.
  - C(userspace) method (otherwise, for example in a container on a kernel without NFS) does the
    same round trip with the libnfs tools C(nfs-cp) and C(nfs-cat) and removes the file with
    C(nfs_unlink) from the libnfs shared library.
  - Before the round trip it resolves the server name, sends RPC NULL calls for NFSv4 and NFSv3 to
    port 2049 (this is the export probe for NFSv4-only servers) and lists the exports with
    C(showmount -e) where the server offers the MOUNT protocol.
  - A failure is classified in RV(reason) as C(dns), C(connection_refused), C(unreachable),
    C(timeout), C(export_not_found), C(export_not_allowed), C(permission_denied),
    C(read_mismatch), C(tool_missing) or C(error).
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
      - C(auto) picks C(kernel) when possible, else C(userspace).
      - C(kernel) or C(userspace) force a method.
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
  fail_on_error:
    description:
      - Fail the task when the probe fails. Set to V(false) to collect the result (RV(ok),
        RV(reason)) and decide later, for example in a summary over all nodes.
    type: bool
    default: true
notes:
  - "Check mode: the probe still runs, but read-only: the network checks and the export listing
    run, the kernel method mounts read-only and lists the export, the userspace method lists it
    with C(nfs-ls). Nothing is written to the share."
  - The kernel method needs C(mount.nfs) (C(nfs-common) or C(nfs-utils)); the userspace method
    needs C(libnfs-utils). C(showmount) (C(nfs-common)/C(nfs-utils)) is optional.
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
'''

RETURN = r'''
ok:
  description: Whether the proof succeeded.
  returned: always
  type: bool
  sample: true
method:
  description: The method used, C(kernel) or C(userspace).
  returned: always
  type: str
  sample: userspace
method_reason:
  description: Why this method was used; for C(userspace), why a kernel mount was not possible.
  returned: always
  type: str
  sample: >-
    kernel mount not possible: the kernel has no NFS client (/proc/filesystems lists neither
    nfs nor nfs4 and no nfs module exists for the running kernel)
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
    C(steps) run with their output, and C(failed_step) on failure.
  returned: always
  type: dict
'''

import socket
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_probe import probe


def main():
    module = AnsibleModule(
        argument_spec={
            'server': {'type': 'str', 'required': True},
            'export': {'type': 'str', 'required': True},
            'node': {'type': 'str'},
            'method': {'type': 'str', 'default': 'auto', 'choices': ['auto', 'kernel', 'userspace']},
            'version': {'type': 'str', 'default': 'auto', 'choices': ['auto', '3', '4']},
            'timeout': {'type': 'int', 'default': 10},
            'known_exports': {'type': 'list', 'elements': 'str'},
            'mount_options': {'type': 'str', 'default': ''},
            'fail_on_error': {'type': 'bool', 'default': True},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not params['server'].strip():
        module.fail_json(msg='server must not be empty')
    if not params['export'].startswith('/'):
        module.fail_json(msg="export must be an absolute path, got '{}'".format(params['export']))
    if params['timeout'] < 1:
        module.fail_json(msg=f"timeout must be at least 1 second, got {params['timeout']}")

    result = probe(
        server=params['server'].strip(),
        export=params['export'],
        node=params['node'] or socket.gethostname(),
        method=params['method'],
        version=params['version'],
        timeout=params['timeout'],
        write=not module.check_mode,
        known_exports=params['known_exports'],
        mount_options=params['mount_options'],
        python=sys.executable,
    )
    result['changed'] = False
    if not result['ok'] and params['fail_on_error']:
        module.fail_json(msg=result['message'], **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
