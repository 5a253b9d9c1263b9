"""No ``*`` with ``no_root_squash`` by default; a warning where a user asks for it.

Static part: every role's ``defaults/main.yml`` and ``meta/argument_specs.yml`` defaults are parsed;
no export item, client list or default client list may give every host (``*``, or a
wildcard host such as ``*.example.com`` is fine) ``no_root_squash``. The nfs_server role gives
its default clients ``nfs_server_default_options`` (which contains ``no_root_squash`` so that
the provisioner can create directories as root), so its default client list must not hold ``*``.

Dynamic part: the nfs_export module and the nfs_server role warn when asked for it.
"""
from __future__ import annotations

import pytest

from tests.security.helpers import (
    REPO_ROOT,
    ROLES,
    load_yaml,
    run_playbook,
    task_results,
)


def _options(value):
    if isinstance(value, str):
        return [o.strip() for o in value.split(",")]
    return [str(o) for o in value or []]


def _open_root_clients(value, path="", default_options=()):
    """Where ``value`` (a defaults tree) gives host ``*`` no_root_squash: list of paths."""
    found = []
    if isinstance(value, dict):
        if value.get("host") == "*":
            opts = _options(value["options"]) if "options" in value else list(default_options)
            if "no_root_squash" in opts:
                found.append(path or "<top>")
        for k, v in value.items():
            found += _open_root_clients(v, f"{path}.{k}" if path else str(k), default_options)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if v == "*" and "no_root_squash" in default_options:
                found.append(f"{path}[{i}]")
            found += _open_root_clients(v, f"{path}[{i}]", default_options)
    elif isinstance(value, str) and "*(" in value.replace(" ", "") and "no_root_squash" in value:
        found.append(path)  # a literal exports(5) line such as '/srv *(rw,no_root_squash)'
    return found


def _role_defaults(role):
    """{variable: default} from defaults/main.yml and meta/argument_specs.yml (all entry points)."""
    out = {}
    d = REPO_ROOT / "roles" / role / "defaults" / "main.yml"
    if d.exists():
        out.update({f"defaults:{k}": v for k, v in (load_yaml(d) or {}).items()})
    a = REPO_ROOT / "roles" / role / "meta" / "argument_specs.yml"
    if a.exists():
        for entry, spec in (load_yaml(a) or {}).get("argument_specs", {}).items():
            for k, opt in (spec.get("options") or {}).items():
                if "default" in opt:
                    out[f"argument_specs.{entry}:{k}"] = opt["default"]
    return out


def test_roles_found():
    assert {"nfs_server", "nfs_client", "k8s_statefulset_nginx"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_no_open_no_root_squash_in_role_defaults(role):
    defaults = _role_defaults(role)
    assert defaults, f"role {role} has no defaults to check"
    # options a role applies to a client listed without options (nfs_server_default_options)
    default_options = []
    for k, v in defaults.items():
        if k.endswith("_default_options"):
            default_options += _options(v)
    bad = []
    for k, v in defaults.items():
        bad += [f"{k}: {p}" for p in _open_root_clients(v, "", default_options)]
        if k.endswith("_default_clients") and "*" in [str(h) for h in (v or [])] \
                and "no_root_squash" in default_options:
            bad.append(f"{k} holds '*' and the default options hold no_root_squash")
    assert bad == [], f"role {role} exports to every host with no_root_squash by default: {bad}"


def test_detector_catches_open_root_export():
    """The check above can fail: it flags the seed walkthrough's export and the default-options path."""
    assert _open_root_clients([{"path": "/srv/nfs", "clients": [{"host": "*", "options": "rw,async,no_root_squash"}]}])
    assert _open_root_clients(["*"], "x", ["rw", "no_root_squash"]) == ["x[0]"]
    assert _open_root_clients("/srv/nfs *(rw,no_root_squash)")
    assert not _open_root_clients([{"host": "10.0.0.0/24", "options": ["rw", "no_root_squash"]}])
    assert not _open_root_clients([{"host": "*", "options": ["ro", "root_squash"]}])


def test_nfs_export_warns_for_star_with_no_root_squash(tmp_path):
    """The module writes what was asked but warns; a network with no_root_squash gives no warning."""
    dest = tmp_path / "exports"
    plays = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "open", "stateful.nfs.nfs_export": {
            "path": "/srv/open", "dest": str(dest),
            "clients": [{"host": "*", "options": ["rw", "async", "no_root_squash"]}]}},
        {"name": "scoped", "stateful.nfs.nfs_export": {
            "path": "/srv/scoped", "dest": str(dest),
            "clients": [{"host": "10.0.0.0/24", "options": ["rw", "sync", "no_root_squash"]}]}},
    ]}]
    p = run_playbook(tmp_path, plays)
    assert p.returncode == 0, p.stdout[-3000:]
    res = dict(task_results(p.json))
    warnings = res["open"].get("warnings") or []
    assert any("no_root_squash" in w and "*" in w for w in warnings), warnings
    assert not any("no_root_squash" in w for w in res["scoped"].get("warnings") or []), res["scoped"]
    assert "*(rw,async,no_root_squash)" in dest.read_text()
    assert dest.stat().st_mode & 0o002 == 0, oct(dest.stat().st_mode)  # a created exports file: not o+w


def test_nfs_server_role_warns_for_star_with_no_root_squash(tmp_path):
    """The role's validation (tagged always) warns; the --tags fence keeps it from installing anything."""
    export = tmp_path / "srv" / "open"
    plays = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "facts", "ansible.builtin.setup": {"gather_subset": ["min"]}, "tags": ["always"]},
        {"name": "role", "ansible.builtin.include_role": {"name": "stateful.nfs.nfs_server"}, "tags": ["always"],
         "vars": {"nfs_server_backend": "ganesha", "nfs_server_exports": [
             {"path": str(export), "clients": [{"host": "*", "options": "rw,async,no_root_squash"}]}]}},
    ]}]
    p = run_playbook(tmp_path, plays, args=["--tags", "sec_validation_only"])
    assert p.returncode == 0, p.stdout[-3000:]
    msgs = [str(r.get("msg", "")) for _, r in task_results(p.json) if not r.get("skipped")]
    msgs += [str(i.get("msg", "")) for _, r in task_results(p.json) for i in r.get("results", [])
             if not i.get("skipped")]
    warning = [m for m in msgs if "no_root_squash" in m and "'*'" in m]
    assert warning and str(export) in warning[0], msgs
    assert not export.exists(), "the validation-only run created the export directory"
