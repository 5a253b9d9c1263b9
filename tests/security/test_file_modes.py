"""Files the roles write have an explicit owner/mode; nothing is world-writable
unless a variable asks for it.

Static check of every role's task files (tasks/, handlers/): each task that creates a file or a
directory (file with state directory/touch, copy, template, assemble, get_url, unarchive,
blockinfile, lineinfile/ini_file with create) must set ``mode``; a literal mode must not grant
``o+w``; a templated mode is allowed only where listed in ``MODE_FROM_VARIABLE``, whose variables'
defaults (defaults/main.yml and meta/argument_specs.yml) must not grant ``o+w`` either. Files under
/etc must be written with ``owner: root``.

On the real server, the nfs_server molecule scenario checks the result:
molecule/nfs_server/tests/test_nfs_server.py asserts the export directory is root-owned 0755
and a per-export owner/mode item (nobody:nogroup 0770) is applied as given.
"""
from __future__ import annotations

import re
import stat

import pytest
from ansible_collections.stateful.nfs.plugins.filter.nfs_exports import nfs_exports

from tests.security.helpers import REPO_ROOT, ROLES, iter_tasks, load_yaml

WRITERS = {"file", "copy", "template", "assemble", "get_url", "unarchive", "blockinfile", "lineinfile", "ini_file"}
# Templated modes that come from a variable the user sets, and the variables whose defaults feed them.
MODE_FROM_VARIABLE = {
    ("nfs_server", "{{ item.mode }}"): ["nfs_server_export_mode"],  # per-export `mode`, default below
}
MOLECULE_MODE_CHECK = REPO_ROOT / "molecule" / "nfs_server" / "tests" / "test_nfs_server.py"


def _module(task):
    for k in task:
        short = k.rsplit(".", 1)[-1]
        if short in WRITERS and (k == short or k.startswith(("ansible.builtin.", "ansible.posix.",
                                                             "community.general."))):
            return short, task[k] if isinstance(task[k], dict) else {}
    return None, None


def _creates(short, args):
    if short == "file":
        return args.get("state") in ("directory", "touch")
    if short in ("lineinfile", "ini_file"):
        return bool(args.get("create")) or short == "ini_file"
    return True


def world_writable(mode):
    """True when ``mode`` (octal string/int or symbolic) grants write to others."""
    if isinstance(mode, int):
        return bool(mode & 0o002)
    mode = str(mode).strip()
    mode = mode.removeprefix("0o")
    if re.fullmatch(r"0?[0-7]{3,4}", mode):
        return bool(int(mode, 8) & stat.S_IWOTH)
    for clause in mode.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if m and m.group(2) in "+=" and "w" in m.group(3) and (m.group(1) == "" or set(m.group(1)) & {"o", "a"}):
            return True
    return False


def _task_files(role):
    base = REPO_ROOT / "roles" / role
    return sorted([*(base / "tasks").glob("*.yml"), *(base / "handlers").glob("*.yml")])


def _writers(role):
    for f in _task_files(role):
        for t in iter_tasks(load_yaml(f)):
            short, args = _module(t)
            if short and _creates(short, args):
                yield f.relative_to(REPO_ROOT), t.get("name", "?"), short, args


def _defaults(role):
    out = dict(load_yaml(REPO_ROOT / "roles" / role / "defaults" / "main.yml") or {})
    spec = REPO_ROOT / "roles" / role / "meta" / "argument_specs.yml"
    if spec.exists():
        for entry in (load_yaml(spec) or {}).get("argument_specs", {}).values():
            for k, opt in (entry.get("options") or {}).items():
                if "default" in opt:
                    out.setdefault(f"{k}@spec", opt["default"])
    return out


def test_roles_write_files():
    """The scan finds the writers it must find (else it would check nothing)."""
    found = {(r, str(f.name)) for r in ROLES for f, _, _, _ in _writers(r)}
    assert ("nfs_server", "directories.yml") in found, found
    assert ("nfs_server", "kernel_config.yml") in found, found


@pytest.mark.parametrize("role", ROLES)
def test_every_written_file_has_a_safe_explicit_mode(role):
    problems = []
    for f, name, short, args in _writers(role):
        where = f"{f}: {name!r} ({short})"
        if "mode" not in args:
            problems.append(f"{where}: no explicit mode")
            continue
        mode = args["mode"]
        if isinstance(mode, str) and "{{" in mode:
            key = (role, mode.strip())
            if key not in MODE_FROM_VARIABLE:
                problems.append(f"{where}: templated mode {mode!r} not reviewed (add it to MODE_FROM_VARIABLE)")
                continue
            defaults = _defaults(role)
            for var in MODE_FROM_VARIABLE[key]:
                for k in (var, f"{var}@spec"):
                    if k in defaults and world_writable(defaults[k]):
                        problems.append(f"{where}: default of {k} = {defaults[k]!r} is world-writable")
                assert var in defaults, f"{var} has no default in role {role}"
        elif world_writable(mode):
            problems.append(f"{where}: mode {mode!r} grants write to others")
        dest = str(args.get("dest") or args.get("path") or "")
        if dest.startswith("/etc/") and args.get("owner") != "root":
            problems.append(f"{where}: {dest} written without owner: root")
    assert problems == [], "\n".join(problems)


def test_export_directories_default_not_world_writable():
    """nfs_server: a directory item without `mode` gets nfs_server_export_mode (root-owned 0755 by default)."""
    d = _defaults("nfs_server")
    assert not world_writable(d["nfs_server_export_mode"]) and d["nfs_server_export_owner"] == "root"
    validate = (REPO_ROOT / "roles/nfs_server/tasks/validate.yml").read_text()
    assert "mode=nfs_server_export_mode" in validate, "the per-export mode default changed: re-check"
    model = nfs_exports([{"path": "/srv/nfs", "clients": ["10.0.0.0/24"]}], mode=d["nfs_server_export_mode"],
                        owner=d["nfs_server_export_owner"], group=d["nfs_server_export_group"])
    assert model["problems"] == []
    assert (model["exports"][0]["mode"], model["exports"][0]["owner"]) == (d["nfs_server_export_mode"], "root")
    directories = load_yaml(REPO_ROOT / "roles/nfs_server/tasks/directories.yml")
    args = directories[0]["ansible.builtin.file"]
    assert {args["owner"], args["group"], args["mode"]} == {"{{ item.owner }}", "{{ item.group }}", "{{ item.mode }}"}


def test_molecule_checks_directory_modes_on_the_server():
    """The scenario that runs the role for real checks owner and mode of the export directories."""
    text = MOLECULE_MODE_CHECK.read_text()
    assert "mode == 0o755" in text and 'user == "root"' in text, MOLECULE_MODE_CHECK


@pytest.mark.parametrize("mode,expected", [("0755", False), ("0777", True), ("1777", True), ("0644", False),
                                           ("0o664", False), ("0o666", True), ("o+w", True), ("a=rwx", True), ("u+w,g+w", False),
                                           ("+w", True), (0o666, True), (0o640, False)])
def test_world_writable_detector(mode, expected):
    assert world_writable(mode) is expected
