"""The playbooks (site.yml, playbooks/*.yml and their playbooks/tasks/*.yml) use the roles only
through their interface (issue 20, point 3): each role they run is one of the collection's, at an
entry point its meta/argument_specs.yml declares; no playbook includes a role's inner task, vars or
defaults file, and no playbook names a role's private (`_<role>_*`) variable or fact. Every
`<role>_*` name a playbook uses is public: an option of one of the role's entry points or a result
the role documents (its `role_variables` results). No exemption."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
PLAYBOOKS = sorted([ROOT / "site.yml", *(ROOT / "playbooks").glob("*.yml"), *(ROOT / "playbooks" / "tasks").glob("*.yml")])
INCLUDES = ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role")
TASK_FILES = ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks", "import_tasks", "include_tasks")


def _entry_points(role):
    return set(yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"])


def _public_names(role):
    """The options of every entry point, and the results the role documents (role_variables' results)."""
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    names = {option for spec in specs.values() for option in (spec.get("options") or {})}
    for task in yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text()):
        args = task.get("stateful.nfs.role_variables") or {}
        names |= set(args.get("results") or [])
    return names


def _walk(node):
    """Every dict in a parsed playbook or task file (plays, tasks, blocks, rescues, roles: entries)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _role_uses(path):
    """(role, entry point, the include's arguments) of each role a playbook runs."""
    doc = yaml.safe_load(path.read_text())
    for node in _walk(doc):
        for key in INCLUDES:
            if key in node:
                args = node[key]
                yield args["name"], args.get("tasks_from", "main"), args
        if "roles" in node and isinstance(node["roles"], list):
            for entry in node["roles"]:
                yield (entry["role"] if isinstance(entry, dict) else entry), "main", {}


def test_there_are_playbooks_and_roles_to_check():
    assert {"scale.yml", "upgrade.yml", "verify.yml", "teardown.yml", "restore.yml", "backup.yml", "migrate.yml"} <= {
        p.name for p in PLAYBOOKS}
    assert {"statefulset", "k8s_statefulset_nginx", "nfs_provisioner"} <= set(ROLES)


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_playbook_runs_roles_only_at_their_entry_points(path):
    for name, entry, args in _role_uses(path):
        assert name.startswith("stateful.nfs."), f"{path.name}: role {name} is not one of the collection's"
        role = name[len("stateful.nfs."):]
        assert role in ROLES, f"{path.name}: no role {role}"
        # a templated entry point names each of its choices literally
        choices = set(re.findall(r"'([a-z_]+)'", entry)) if "{{" in entry else {entry}
        assert choices, f"{path.name}: {name} tasks_from {entry!r} names no entry point"
        for choice in choices:
            assert choice in _entry_points(role), (
                f"{path.name}: {name} tasks_from {choice} is an inner file, not an entry point of"
                f" roles/{role}/meta/argument_specs.yml ({', '.join(sorted(_entry_points(role)))})")
        for key in ("vars_from", "defaults_from", "handlers_from"):
            assert key not in args, f"{path.name}: {name} {key} reads an inner file of the role"


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_playbook_includes_no_file_of_a_role(path):
    for node in _walk(yaml.safe_load(path.read_text())):
        for key in TASK_FILES:
            if key in node:
                target = node[key] if isinstance(node[key], str) else node[key].get("file", "")
                assert "roles/" not in target and ".." not in target, f"{path.name}: {key} {target}"
                assert (path.parent / target).is_file() or (path.parent / "playbooks" / target).is_file(), (
                    f"{path.name}: {key} {target} is no file of the playbooks")


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_playbook_names_no_private_and_only_public_role_names(path):
    text = path.read_text()
    private = re.findall(r"(?<![\w.])_(?:{})_\w+".format("|".join(ROLES)), text)
    assert private == [], f"{path.name} names private variables or facts of a role: {sorted(set(private))}"
    for role in ROLES:
        used = set(re.findall(rf"(?<![\w.]){re.escape(role)}_\w+", text))
        # a longer role name (statefulset_... is not nfs_...) is that role's own
        used = {u for u in used if not any(other != role and other.startswith(role + "_") and u.startswith(other + "_")
                                           for other in ROLES)}
        unknown = sorted(used - _public_names(role))
        assert unknown == [], f"{path.name} names {unknown}: neither an option nor a documented result of role {role}"


def test_the_walkthrough_role_keeps_only_its_entry_points_and_what_they_use():
    """Nothing outside the role uses another of its task files, and nothing inside needs more."""
    tasks = {p.stem for p in (ROOT / "roles" / "k8s_statefulset_nginx" / "tasks").glob("*.yml")}
    assert tasks == _entry_points("k8s_statefulset_nginx") == {"main", "plan", "preflight"}
    assert not (ROOT / "roles" / "k8s_statefulset_nginx" / "templates").exists()
