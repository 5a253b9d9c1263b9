#!/usr/bin/python
# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nfs_export
short_description: Manage exports in an NFS exports(5) file
version_added: "0.1.0"
description:
  - Adds, updates or removes the lines that export a directory in C(/etc/exports) or in a
    file under C(/etc/exports.d/), for one directory (O(path)) or several at once (O(exports)).
  - The file is parsed with the same rules as C(exportfs) (comments, blank lines, backslash
    line continuation, double-quoted paths, C(\ooo) octal escapes, C(-option) defaults,
    several clients per line, the same path on several lines). Only the lines of the managed
    paths are rewritten; every other byte of the file, including comments, spacing and order,
    is kept as it was.
  - Client hosts and export options are validated before anything is written. Unknown
    options, contradicting options (for example C(rw) with C(ro)), bad C(anonuid), C(fsid) or
    C(sec=) values and malformed networks fail the task with a message naming the client and
    option; the file is then left untouched.
  - With O(marker), the lines the task manages carry the comment C(# <marker>); with
    O(exclusive=true) the marked lines of paths that are no longer listed are removed, so a
    caller owns exactly the exports it lists and never touches a line it did not mark.
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
      - Exactly one of O(path) and O(exports) is required.
    type: str
  clients:
    description:
      - The clients O(path) is exported to, in order. The lines of O(path) get exactly
        these clients; clients already there but not listed here are removed.
      - Required (and must not be empty) when O(path) is given and O(state=present).
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
      - Options written once after the path as C(-option,...) on each line of O(path);
        exportfs applies them to every client on the line, and a client's own options
        override them.
      - The lines get exactly these defaults; an empty list removes existing ones.
    type: list
    elements: str
    default: []
  exports:
    description:
      - Several exports managed in one task (one read, one write, one diff), instead of
        O(path), O(clients) and O(default_options). Each path may be listed once.
      - An empty list is allowed; with O(exclusive=true) it removes every marked line.
    type: list
    elements: dict
    suboptions:
      path:
        description: As O(path).
        type: str
        required: true
      clients:
        description: As O(clients); required when O(state=present).
        type: list
        elements: dict
        suboptions:
          host:
            description: As O(clients[].host).
            type: str
            required: true
          options:
            description: As O(clients[].options).
            type: list
            elements: str
            default: []
      default_options:
        description: As O(default_options).
        type: list
        elements: str
        default: []
  marker:
    description:
      - Text that marks the lines this task manages. Every line of a managed path ends with
        the comment C(# <marker>) (appended after a comment the line already has, so a line
        written by someone else is adopted when its path is managed).
      - A line counts as marked when its comment ends with C(# <marker>).
      - One line of text, without leading or trailing blanks, for example
        C(managed by stateful.nfs.nfs_server).
    type: str
  exclusive:
    description:
      - Remove every line marked with O(marker) whose path is not managed by this task
        (not O(path), not in O(exports)). Lines without the mark are never removed, so
        exports written by hand or by other tools stay.
      - Needs O(marker) and O(state=present).
    type: bool
    default: false
  state:
    description:
      - V(present) makes the lines of each managed path export it to exactly its clients.
      - V(absent) removes every line of each managed path from O(dest).
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
    details: The diff shows the file before and after, followed by one comment line per change (RV(changes)).
  platform:
    platforms: posix
notes:
  - The lines of one path are one export, as exportfs reads them (exports(5) allows
    C(/srv hostA(rw)) and C(/srv hostB(ro)) on two lines). The module keeps that layout.
    A client stays on the first line that names its host, a new client joins the line of
    the client listed before it (the first line when it is listed first), every line of
    the path gets the O(default_options), and a line left without a client (for example an
    identical copy of another line) is removed. Clients keep the order of O(clients) within
    a line; the lines keep their order in the file.
  - A line that is changed is written on one physical line, keeping its path spelling, the
    blanks after the path and a trailing comment. An unchanged line is never rewritten, even
    when its spacing differs from what the module would write.
  - The whole file must follow exports(5) syntax (for example no unterminated double quote);
    options of lines other than the managed paths are not validated, so newer options
    elsewhere in the file do not fail the task.
  - C(host (rw)) with a blank before the parenthesis exports to C(host) with default options and
    to every host with C(rw). The module warns when a managed line contains such a host-less
    option list, and when C(*) is combined with C(no_root_squash).
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

- name: Own exactly these exports; what leaves the list leaves the file, unmarked lines stay
  stateful.nfs.nfs_export:
    exports:
      - path: /srv/nfs
        clients: [{host: 10.0.0.0/24, options: [rw, sync, no_subtree_check]}]
      - path: /srv/backup
        clients: [{host: backup.example.com, options: [ro, sync]}]
    marker: managed by my-playbook
    exclusive: true
  notify: Reload NFS exports

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
    - The first export line of O(path) as it is in the file after the task (without line
      ending); RV(lines) has them all.
    - For O(state=absent), the first line that was removed, or null when there was none.
  returned: when O(path) is given
  type: str
  sample: /srv/nfs 10.0.0.0/24(rw,sync,no_subtree_check,no_root_squash)
lines:
  description: Every export line of O(path) after the task (for O(state=absent), the removed ones).
  returned: when O(path) is given
  type: list
  elements: str
  sample: ["/srv/nfs 10.0.0.0/24(rw,sync)"]
clients:
  description:
    - The clients of O(path) after the task, over all its lines, as parsed from the file.
      Empty for O(state=absent).
  returned: when O(path) is given
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
exports:
  description: For each item of O(exports), its RV(lines) and RV(clients) after the task.
  returned: when O(exports) is given
  type: list
  elements: dict
  sample:
    - path: /srv/nfs
      lines: ["/srv/nfs 10.0.0.0/24(rw,sync)  # managed by stateful.nfs.nfs_server"]
      clients: [{host: 10.0.0.0/24, options: [rw, sync], effective_options: [rw, sync]}]
changes:
  description:
    - One line per change, naming the path and the line number in the file before the task
      (empty when nothing changed). Also shown after the diff in diff mode.
  returned: always
  type: list
  elements: str
  sample:
    - "/exports line 2: client hostB(ro) -> hostB(rw)"
    - "/srv/old line 5: removed (marked \"# managed by stateful.nfs.nfs_server\" and no longer listed): /srv/old *(ro)"
reload_needed:
  description:
    - Whether O(dest) changed (or would change in check mode), so the NFS server must re-read
      its exports with C(exportfs -ra).
  returned: always
  type: bool
  sample: true
dest:
  description: The exports file that was examined.
  returned: always
  type: str
  sample: /etc/exports
path:
  description: The export path, normalised (repeated and trailing slashes removed).
  returned: when O(path) is given
  type: str
  sample: /srv/nfs
backup_file:
  description: Name of the backup copy of O(dest).
  returned: when O(backup=true) and O(dest) changed (not in check mode)
  type: str
  sample: /etc/exports.12345.2025-01-01@10:00:00~
diff:
  description: Content of O(dest) before and after, when run with C(--diff), and the RV(changes).
  returned: when diff mode is on
  type: dict
  sample:
    before: "/srv/nfs 10.0.0.0/24(ro)\n"
    after: "/srv/nfs 10.0.0.0/24(rw,sync)\n"
    before_header: /etc/exports
    after_header: /etc/exports
    prepared: "# /srv/nfs line 1: client 10.0.0.0/24(ro) -> 10.0.0.0/24(rw,sync)\n"
"""

from ansible_collections.stateful.nfs.plugins.module_utils.exports import ExportsError
from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import (
    run_module,
)
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_export_module import (
    NFS_EXPORT_OPTIONS,
    NFS_EXPORT_RULES,
    run_export,
)


def main():
    run_module(NFS_EXPORT_OPTIONS, run_export, errors=(ExportsError,), rules=NFS_EXPORT_RULES)


if __name__ == '__main__':
    main()
