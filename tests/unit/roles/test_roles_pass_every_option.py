"""The list roles hand each entry to its module whole: every option the module has is passed
through by name (``item.<option> | default(...)``: the entry's value, else the role's default), so an option added to a module reaches the
roles' users without a role change being forgotten. Name and namespace of the proof come from the
StatefulSet, never from the entry."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import MODULE_RULES

ROLES = Path(__file__).resolve().parents[3] / "roles"
CASES = [("nfs_provisioner/tasks/apply.yml", "stateful.nfs.nfs_provisioner", "nfs_provisioner", "item", ()),
         ("statefulset/tasks/application.yml", "stateful.nfs.statefulset", "statefulset",
          "_statefulset_app.statefulset", ()),
         ("statefulset/tasks/application.yml", "stateful.nfs.statefulset_verify", "statefulset_verify",
          "_statefulset_app.verify", ("name", "namespace", "fail_on_failure"))]


@pytest.mark.parametrize(("task_file", "action", "module", "source", "own"), CASES)
def test_every_module_option_is_passed_through(task_file, action, module, source, own):
    tasks = yaml.safe_load((ROLES / task_file).read_text())
    args = next(t[action] for t in tasks if action in t)
    assert set(args) == set(MODULE_RULES[module][0]), set(args) ^ set(MODULE_RULES[module][0])
    for option, value in args.items():
        if option in own:
            assert source not in str(value), (option, value)
        else:
            # the entry's own value first; a role default (or omit) only where the entry has none
            assert re.search(re.escape(f"{source}.{option}") + r" \| default\(", value), value
