# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nfs_server role's export list, judged by the nfs_export module's own rules.

The role has no option table and no host or path rules of its own: every export path,
client host and option list goes through ``module_utils/exports.py`` (``validate_path``,
``build_export``), exactly as the ``stateful.nfs.nfs_export`` module checks them, so the
role refuses what the module would refuse, with the module's message, before its first
task that changes anything, for either backend.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: nfs_exports
short_description: Validate and complete a list of NFS exports with the nfs_export module's rules
version_added: 0.3.0
description:
  - Takes a list of exports in the shape of the role variable C(nfs_server_exports) (each
    C({path, clients, owner, group, mode})) and returns the completed list and every problem found.
  - "Export paths, client hosts and export options are checked by the same code as
    M(stateful.nfs.nfs_export) (exports(5) as implemented by nfs-utils); a problem carries the
    module's message, prefixed with the item and its path, for example C(nfs_server_exports[2])."
  - "On top of that, the rules of the list itself: a client list given but empty is an error
    (omit it for the default clients); a path listed twice must be listed with the same settings;
    C(mode) is a quoted octal or symbolic mode; a path must not hold a quote, a backslash or a
    tab (the role writes it into C(ganesha.conf) and proves it through NFS)."
  - It never fails; problems are returned, so a caller can report all of them at once.
options:
  _input:
    description: The exports, a list of dicts with C(path) and optionally C(clients), C(owner), C(group), C(mode).
    type: list
    elements: raw
    required: true
  default_clients:
    description: Hosts of an export without C(clients), each with O(default_options).
    type: list
    elements: str
    default: []
  default_options:
    description: Options of the default clients and of a client given without C(options).
    type: list
    elements: str
    default: []
  client_group:
    description: Name of the inventory group the default clients come from (for messages only).
    type: str
    default: ''
  owner:
    description: Owner of an export directory whose item has none.
    type: str
    default: root
  group:
    description: Group of an export directory whose item has none.
    type: str
    default: root
  mode:
    description: Mode of an export directory whose item has none.
    type: str
    default: '0755'
  loopback_options:
    description:
      - When set, every export gets a C(127.0.0.1) client with these options (unless it already
        lists C(127.0.0.1)), for proving it from the server itself.
    type: list
    elements: str
  variable:
    description: Name of the variable the list came from, used in messages.
    type: str
    default: nfs_server_exports
  backend:
    description:
      - The NFS server that will serve the exports. With C(ganesha), every export also gets
        C(ganesha_clients), its clients as NFS-Ganesha CLIENT fields (module_utils/export_meaning.py,
        ganesha-export-config(8)), and options that change access or security in a way
        NFS-Ganesha cannot express are problems naming the client, the options and the reason
        (settings that differ by C(sec=) flavor, C(security_label), C(xprtsec=) without C(none)).
    type: str
    choices: [kernel, ganesha]
    default: kernel
"""

EXAMPLES = r"""
- name: Validate the exports, fail with every problem at once
  vars:
    model: "{{ nfs_server_exports | stateful.nfs.nfs_exports(default_clients=['10.0.0.0/24'],
              default_options=['rw', 'sync', 'no_subtree_check']) }}"
  ansible.builtin.assert:
    that: model.problems | length == 0
    fail_msg: "{{ model.problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: The completed exports and the problems found.
  type: dict
  contains:
    exports:
      description:
        - One per distinct path, in order, C({path, owner, group, mode, clients}); C(path) is
          normalised (repeated and trailing slashes removed); C(clients) is a list of
          C({host, options}) with C(options) a list of strings.
        - "With O(backend=ganesha) also C(ganesha_clients): per client, in exports(5)'s matching
          precedence, C({Clients, Access_Type, Squash, Anonymous_Uid, Anonymous_Gid, PrivilegedPort,
          SecType, ignored, precedence, options}) (see C(ganesha_client) in module_utils/export_meaning.py)."
      type: list
      elements: dict
    problems:
      description: Every problem found; empty when the list is valid.
      type: list
      elements: str
    owners:
      description: Owner names to look up on the host (numeric ids and C(root) left out).
      type: list
      elements: str
    groups:
      description: Group names to look up on the host (numeric ids and C(root) left out).
      type: list
      elements: str
"""

import json
import re

from ansible.module_utils.common.collections import is_sequence
from ansible_collections.stateful.nfs.plugins.module_utils.export_meaning import ganesha_clients
from ansible_collections.stateful.nfs.plugins.module_utils.exports import (
    Client,
    ExportsError,
    build_export,
    validate_path,
)

LOOPBACK = "127.0.0.1"
# What ganesha.conf's quoted Path and the role's proof cannot carry (the role's own rule).
_ROLE_PATH_CHARS = re.compile(r"['\"\\\t]")
_MODE = re.compile(r"^0?[0-7]{3}$|^[0-7]{4}$|^[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*$")
_NUMERIC = re.compile(r"^[0-9]+$")


def _client_specs(item, where, default_clients, default_options, client_group, problems):
    """The item's clients as {host, options} dicts, the default ones when it names none."""
    if "clients" not in item:
        if not default_clients:
            problems.append(f"{where}: no clients: the group {client_group or '(none)'} has no hosts and"
                            " no default clients are set")
        return [{"host": str(h), "options": list(default_options)} for h in default_clients]
    clients = item["clients"]
    if not is_sequence(clients) or isinstance(clients, dict):
        problems.append(f"{where}: clients must be a list of {{host, options}}")
        return []
    if not clients:
        problems.append(f"{where}: the client list is empty; list at least one client or omit clients to"
                        " use the default list")
        return []
    specs = []
    for c in clients:
        if isinstance(c, str):
            c = {"host": c}
        if isinstance(c, dict) and "options" not in c:
            c = dict(c, options=list(default_options))
        specs.append(c)
    return specs


def nfs_exports(exports, default_clients=None, default_options=None, client_group="", owner="root",
                group="root", mode="0755", loopback_options=None, variable="nfs_server_exports", backend="kernel"):
    """``{exports, problems, owners, groups}`` for a list of exports (see DOCUMENTATION)."""
    if backend not in ("kernel", "ganesha"):
        return {"exports": [], "problems": [f"backend must be kernel or ganesha, got {backend!r}"],
                "owners": [], "groups": []}
    default_clients = list(default_clients or [])
    default_options = list(default_options or [])
    problems, result, owners, groups = [], {}, [], []
    if not is_sequence(exports) or isinstance(exports, dict):
        return {"exports": [], "problems": [f"{variable} must be a list of {{path, clients, owner, group, mode}}"],
                "owners": [], "groups": []}
    for index, item in enumerate(exports):
        where = f"{variable}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping with at least a path")
            continue
        if isinstance(item.get("path"), str):
            where += f" (path {json.dumps(item['path'])})"
        try:
            path = validate_path(item.get("path"))
        except ExportsError as exc:
            problems.append(f"{where}: {exc}")
            path = None
        if path is not None and _ROLE_PATH_CHARS.search(path):
            problems.append(f"{where}: path {path!r} contains a quote, backslash or tab, which this role"
                            " cannot write into ganesha.conf or prove; use another directory name")
            path = None
        specs = _client_specs(item, where, default_clients, default_options, client_group, problems)
        if loopback_options is not None and specs and LOOPBACK not in [
                s.get("host") for s in specs if isinstance(s, dict)]:
            specs = [*specs, {"host": LOOPBACK, "options": list(loopback_options)}]
        clients = []
        if path is not None and specs:
            try:
                export = build_export(path, specs)
            except ExportsError as exc:
                problems.append(f"{where}: {exc}")
            else:
                clients = [{"host": c.host, "options": list(c.options or ())}
                           for c in export.items if isinstance(c, Client)]
        e_owner = str(item.get("owner", owner))
        e_group = str(item.get("group", group))
        e_mode = item.get("mode", mode)
        if not isinstance(e_mode, str):
            problems.append(f"{where}: mode must be a quoted string like \"0755\", got {e_mode!r}")
        elif not _MODE.match(e_mode):
            problems.append(f"{where}: mode {e_mode!r} is not an octal or symbolic mode")
        # root (uid and gid 0) exists on every system: no lookup for it, nor for numeric ids
        if not _NUMERIC.match(e_owner) and e_owner != "root" and e_owner not in owners:
            owners.append(e_owner)
        if not _NUMERIC.match(e_group) and e_group != "root" and e_group not in groups:
            groups.append(e_group)
        if path is None:
            continue
        export = {"path": path, "owner": e_owner, "group": e_group, "mode": str(e_mode), "clients": clients}
        if backend == "ganesha" and clients:
            try:
                export["ganesha_clients"] = ganesha_clients(clients)
            except ExportsError as exc:
                problems.append(f"{where}: {exc}")
        if path in result:
            if result[path] != export:
                problems.append(f"{where}: duplicate export path: {path} is listed more than once with different"
                                " clients, options or ownership")
            continue
        result[path] = export
    return {"exports": list(result.values()), "problems": problems, "owners": owners, "groups": groups}


class FilterModule:
    """stateful.nfs export filters."""

    def filters(self):
        return {"nfs_exports": nfs_exports}
