#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nfs_export
short_description: Manage one export line in an NFS exports(5) file
version_added: "0.1.0"
description:
  - Adds, updates or removes the line that exports one directory in C(/etc/exports) or in a
    file under C(/etc/exports.d/).
  - The file is parsed with the same rules as C(exportfs) (comments, blank lines, backslash
    line continuation, double-quoted paths, C(\ooo) octal escapes, C(-option) defaults,
    several clients per line). Only the line of O(path) is rewritten; every other byte of the
    file, including comments, spacing and order, is kept as it was.
  - Client hosts and export options are validated before anything is written. Unknown
    options, contradicting options (for example C(rw) with C(ro)), bad C(anonuid), C(fsid) or
    C(sec=) values and malformed networks fail the task with a message naming the client and
    option; the file is then left untouched.
  - The module does not reload the NFS server. It returns RV(reload_needed) so that a handler
    can run C(exportfs -ra).
author:
  - stateful.nfs contributors (!UNKNOWN)
options:
  path:
    description:
      - Absolute path of the exported directory.
      - Repeated slashes and a trailing slash are removed before the file is searched, so
        C(/srv/nfs/) manages the line written as C(/srv/nfs).
      - Must not contain a newline, a NUL byte, a double quote, or C(.)/C(..) components.
        Blanks, C(#) and backslashes are written as octal escapes (C(\040) for a space).
    type: str
    required: true
  clients:
    description:
      - The clients the directory is exported to, in order. The line of O(path) gets exactly
        these clients; clients already on the line but not listed here are removed.
      - Required (and must not be empty) when O(state=present).
    type: list
    elements: dict
    suboptions:
      host:
        description:
          - Who may mount. One of C(*) (every host), a host name, a wildcard such as
            C(*.example.com), C(node?.lan) or C(node[0-9].lan), an C(@netgroup), an IPv4 or
            IPv6 address, or a network as C(address/prefix) (IPv4 also C(address/netmask)).
          - Networks must have no host bits set; C(10.0.0.1/24) is rejected (write
            C(10.0.0.0/24)), although exportfs would silently mask it, because such an entry
            usually means a single host was intended.
          - IPv6 addresses are written without square brackets.
        type: str
        required: true
      options:
        description:
          - Export options for this client, as a list or a comma-separated string, for
            example C([rw, sync, no_subtree_check]) or C(rw,sync,no_subtree_check).
          - Names are checked against exports(5) as implemented by nfs-utils
            (C(rw), C(ro), C(sync), C(async), C(secure), C(insecure), C(wdelay),
            C(no_wdelay), C(hide), C(nohide), C(crossmnt), C(nocrossmnt), C(subtree_check),
            C(no_subtree_check), C(secure_locks), C(auth_nlm), C(insecure_locks),
            C(no_auth_nlm), C(root_squash), C(no_root_squash), C(all_squash),
            C(no_all_squash), C(acl), C(no_acl), C(pnfs), C(no_pnfs), C(nordirplus),
            C(security_label), C(mountpoint[=path]), C(mp[=path]), C(fsid=), C(anonuid=),
            C(anongid=), C(sec=), C(xprtsec=), C(refer=), C(replicas=)).
          - Contradictions are rejected. C(ro), C(rw), C(root_squash), C(no_root_squash),
            C(all_squash) and C(no_all_squash) may differ between C(sec=) sections, as
            exports(5) allows. C(all_squash) with C(no_root_squash) is rejected as well.
          - When empty, the client is written as the bare host and exportfs defaults apply.
        type: list
        elements: str
        default: []
  default_options:
    description:
      - Options written once after the path as C(-option,...); exportfs applies them to every
        client on the line, and a client's own options override them.
      - The line gets exactly these defaults; an empty list removes existing ones.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) makes the line of O(path) export it to exactly O(clients).
      - V(absent) removes every line of O(path) from O(dest).
    type: str
    choices: [present, absent]
    default: present
  dest:
    description:
      - The exports file to edit.
      - A file in a directory named C(exports.d) must end in C(.exports) and must not start
        with a dot, otherwise exportfs would not read it.
      - Only this file is examined; an export of the same path in another file is not seen.
    type: path
    default: /etc/exports
  create:
    description:
      - Create O(dest) (and its missing parent directories) when it does not exist and
        O(state=present). When V(false), a missing O(dest) fails the task.
      - With O(state=absent) a missing O(dest) is never created.
    type: bool
    default: true
  backup:
    description:
      - Keep a timestamped copy of O(dest) before changing it; its name is returned in
        RV(backup_file).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - Several lines for the same path in O(dest) are handled this way. If they are identical,
    the first one is managed and the other copies are removed. If they differ, the task fails
    and names the lines, because it cannot tell which one is meant; merge them by hand first.
  - A line that is changed is written on one physical line, keeping its path spelling, the
    blanks after the path and a trailing comment. An unchanged line is never rewritten, even
    when its spacing differs from what the module would write.
  - The whole file must follow exports(5) syntax (for example no unterminated double quote);
    options of lines other than O(path) are not validated, so newer options elsewhere in the
    file do not fail the task.
  - C(host (rw)) with a blank before the parenthesis exports to C(host) with default options and
    to every host with C(rw). The module warns when the line of O(path) contains such a
    host-less option list, and when C(*) is combined with C(no_root_squash).
  - The file is written atomically; owner, group, mode and SELinux context of an existing file
    are kept.
seealso:
  - name: exports(5)
    description: The exports file format.
    link: https://man7.org/linux/man-pages/man5/exports.5.html
  - module: ansible.posix.mount
"""

EXAMPLES = r"""
- name: Export /srv/nfs to the Kubernetes nodes' network
  stateful.nfs.nfs_export:
    path: /srv/nfs
    clients:
      - host: 10.0.0.0/24
        options: [rw, sync, no_subtree_check, no_root_squash]
  notify: Reload NFS exports

- name: Several clients, options as comma-separated strings, in a drop-in file
  stateful.nfs.nfs_export:
    path: /srv/share
    dest: /etc/exports.d/share.exports
    clients:
      - host: "*.lan.example.com"
        options: ro,sync,no_subtree_check
      - host: "@admins"
        options: rw,sync,no_subtree_check
      - host: 2001:db8::/64
        options: rw,sync,sec=krb5p
  notify: Reload NFS exports

- name: Defaults for every client on the line (-sync,no_subtree_check)
  stateful.nfs.nfs_export:
    path: /srv/www
    default_options: [sync, no_subtree_check]
    clients:
      - host: web1.example.com
      - host: web2.example.com
        options: [ro]

- name: Remove an export, keeping a backup of the file
  stateful.nfs.nfs_export:
    path: /srv/old
    state: absent
    backup: true
  register: old_export
  notify: Reload NFS exports

# The handler
# - name: Reload NFS exports
#   ansible.builtin.command: exportfs -ra
#   changed_when: true
"""

RETURN = r"""
line:
  description:
    - The export line of O(path) as it is in the file after the task (without line ending).
    - For O(state=absent), the first line that was removed, or null when there was none.
  returned: always
  type: str
  sample: /srv/nfs 10.0.0.0/24(rw,sync,no_subtree_check,no_root_squash)
reload_needed:
  description:
    - Whether O(dest) changed (or would change in check mode), so the NFS server must re-read
      its exports with C(exportfs -ra).
  returned: always
  type: bool
  sample: true
clients:
  description:
    - The clients on the line of O(path) after the task, as parsed from the file. Empty for
      O(state=absent).
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The client host specification (C(*) for a host-less option list).
      type: str
      sample: 10.0.0.0/24
    options:
      description: The options written for this client.
      type: list
      elements: str
      sample: [rw, sync, no_subtree_check]
    effective_options:
      description: The line's default options followed by the client's own (later ones win).
      type: list
      elements: str
      sample: [sync, rw, no_subtree_check]
  sample:
    - host: 10.0.0.0/24
      options: [rw, sync]
      effective_options: [rw, sync]
dest:
  description: The exports file that was examined.
  returned: always
  type: str
  sample: /etc/exports
path:
  description: The export path, normalised (repeated and trailing slashes removed).
  returned: always
  type: str
  sample: /srv/nfs
backup_file:
  description: Name of the backup copy of O(dest).
  returned: when O(backup=true) and O(dest) changed (not in check mode)
  type: str
  sample: /etc/exports.12345.2025-01-01@10:00:00~
diff:
  description: Content of O(dest) before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
  sample:
    before: "/srv/nfs 10.0.0.0/24(ro)\n"
    after: "/srv/nfs 10.0.0.0/24(rw,sync)\n"
    before_header: /etc/exports
    after_header: /etc/exports
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.stateful.nfs.plugins.module_utils.exports import (
    ExportsError,
    build_export,
    client_dicts,
    export_warnings,
    parse_exports,
    render_line,
    validate_dest,
    validate_path,
)


def _read(dest):
    with open(dest, 'rb') as f:
        return f.read().decode('utf-8', 'surrogateescape')


def _write(module, dest, text):
    """Write ``text`` to ``dest`` atomically, keeping the existing file's attributes."""
    directory = os.path.dirname(dest)
    fd, tmp = tempfile.mkstemp(prefix=f'.{os.path.basename(dest)}.', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(text.encode('utf-8', 'surrogateescape'))
        module.atomic_move(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run(module):
    params = module.params
    state = params['state']
    result = {'changed': False, 'reload_needed': False, 'line': None, 'clients': [], 'dest': params['dest']}

    try:
        dest = validate_dest(params['dest'])
        path = validate_path(params['path'])
        result['path'] = path
        desired = None
        if state == 'present':
            desired = build_export(path, params['clients'] or [], params['default_options'])
    except ExportsError as exc:
        module.fail_json(msg=to_native(exc), **result)

    exists = os.path.exists(dest)
    if exists and not os.path.isfile(dest):
        module.fail_json(msg=f'dest {dest} exists but is not a regular file', **result)
    if not exists and state == 'present' and not params['create']:
        module.fail_json(msg=f'dest {dest} does not exist; set create=true to create it', **result)

    try:
        before = _read(dest) if exists else ''
    except OSError as exc:
        module.fail_json(msg=f'cannot read {dest}: {to_native(exc)}', **result)

    try:
        exports = parse_exports(before)
        if state == 'present':
            exports.set_export(desired)
            span = exports.find(path)[0]
            result['line'] = render_line(span.export)
            result['clients'] = client_dicts(span.export)
            for warning in export_warnings(span.export):
                module.warn(warning)
        else:
            removed = exports.remove_export(path)
            if removed:
                result['line'] = render_line(removed[0].export)
    except ExportsError as exc:
        module.fail_json(msg=f'{dest}: {to_native(exc)}', **result)

    after = exports.render()
    changed = after != before or (state == 'present' and not exists)
    result['changed'] = result['reload_needed'] = changed
    if module._diff:
        result['diff'] = {
            'before': before,
            'after': after,
            'before_header': dest if exists else f'{dest} (absent)',
            'after_header': dest,
        }

    if changed and not module.check_mode:
        if not exists:
            directory = os.path.dirname(dest)
            if not os.path.isdir(directory):
                try:
                    os.makedirs(directory, 0o755)
                except OSError as exc:
                    module.fail_json(msg=f'cannot create {directory}: {to_native(exc)}', **result)
        elif params['backup']:
            result['backup_file'] = module.backup_local(dest)
        try:
            _write(module, dest, after)
        except OSError as exc:
            module.fail_json(msg=f'cannot write {dest}: {to_native(exc)}', **result)
        if not exists:
            os.chmod(to_bytes(dest), 0o644)

    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec={
            'path': {'type': 'str', 'required': True},
            'clients': {'type': 'list', 'elements': 'dict', 'options': {
                'host': {'type': 'str', 'required': True},
                'options': {'type': 'list', 'elements': 'str', 'default': []},
            }},
            'default_options': {'type': 'list', 'elements': 'str', 'default': []},
            'state': {'type': 'str', 'choices': ['present', 'absent'], 'default': 'present'},
            'dest': {'type': 'path', 'default': '/etc/exports'},
            'create': {'type': 'bool', 'default': True},
            'backup': {'type': 'bool', 'default': False},
        },
        required_if=[('state', 'present', ['clients'])],
        supports_check_mode=True,
    )
    run(module)


if __name__ == '__main__':
    main()
