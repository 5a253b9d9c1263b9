"""Unknown variables with a role's prefix (module_utils/role_variables.py), against the real roles."""
from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.stateful.nfs.plugins.action.role_variables import role_known_names
from ansible_collections.stateful.nfs.plugins.module_utils.role_variables import unknown_variables, warning_text

ROLES = Path(__file__).resolve().parents[4] / "roles"


@pytest.mark.parametrize("role", sorted(p.name for p in ROLES.iterdir() if (p / "meta" / "argument_specs.yml").exists()))
def test_every_documented_option_and_default_is_known(role):
    known = role_known_names(str(ROLES / role))
    assert known, role
    # Every default is an option of an entry point (else it would be undocumented).
    import yaml
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}
    assert set(defaults) <= known


def test_a_typo_is_named_with_the_closest_known_name():
    known = role_known_names(str(ROLES / "k8s_statefulset_nginx"))
    found = unknown_variables(["k8s_statefulset_nginx_replica", "k8s_statefulset_nginx_command",
                               "k8s_statefulset_nginx_replicas", "_k8s_statefulset_nginx_private", "other_x"],
                              known, "k8s_statefulset_nginx_")
    assert found == [("k8s_statefulset_nginx_command", None),
                     ("k8s_statefulset_nginx_replica", "k8s_statefulset_nginx_replicas")]
    assert warning_text("stateful.nfs.k8s_statefulset_nginx", *found[1]) == (
        "k8s_statefulset_nginx_replica is not a variable of role stateful.nfs.k8s_statefulset_nginx, which "
        "ignores it; did you mean k8s_statefulset_nginx_replicas?")


def test_result_facts_and_private_names_are_not_reported():
    assert unknown_variables(["nfs_server_exported", "__nfs_server_plan"], {"nfs_server_exported"}, "nfs_server_") == []
    assert unknown_variables(["__nfs_server_plan"], set(), "__nfs_server_") == []
