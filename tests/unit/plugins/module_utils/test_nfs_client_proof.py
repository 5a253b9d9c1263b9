"""What role nfs_client proves on every node (module_utils/nfs_client_proof.py, filter
stateful.nfs.nfs_client_proof_targets), how a node's proofs combine into nfs_client_proof_result,
and the preflight gate of site.yml (filter stateful.nfs.nfs_client_gate)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.stateful.nfs.plugins.filter.nfs_client_gate import nfs_client_gate
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.lists import provisioner_class_plan
from ansible_collections.stateful.nfs.plugins.module_utils.mount_options import (
    mount_access_options,
    nfs_major_version,
)
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_client_proof import (
    export_path,
    gate,
    proof_result,
    proof_targets,
)

ROOT = Path(__file__).resolve().parents[4]
SERVER = "10.0.0.5"


def _keys(plan):
    return [(t["server"], t["export"], t["version"], t["mount_options"], t["classes"]) for t in plan["targets"]]


# ------------------------------------------------------------------ the exports to prove

def test_without_classes_the_one_target_is_the_roles_own_export():
    plan = proof_targets([], SERVER, "/srv/nfs", "4", ["/srv/nfs"])
    assert plan["problems"] == [] and plan["uses_default"] is True
    assert plan["targets"] == [{
        "server": SERVER, "export": "/srv/nfs", "source": "10.0.0.5:/srv/nfs", "name": "10.0.0.5:/srv/nfs",
        "version": "4", "mount_options": "", "classes": [], "known_exports": ["/srv/nfs"]}]
    assert _keys(proof_targets(None, SERVER, "/srv/nfs")) == [(SERVER, "/srv/nfs", "auto", "", [])]


def test_each_distinct_export_of_the_classes_once_in_first_use_order():
    classes = [
        {"storage_class_name": "nfs-data"},                                   # the defaults
        {"storage_class_name": "nfs-b", "nfs_path": "/srv/b"},
        {"storage_class_name": "nfs-scratch", "nfs_path": "/srv/nfs/"},       # the same export, spelt otherwise
        {"storage_class_name": "nfs-far", "nfs_server": "nas.example.org", "nfs_path": "/srv/nfs"},
        {"storage_class_name": "nfs-b2", "nfs_path": "//srv//b", "mount_options": ["hard", "noatime"]},
    ]
    plan = proof_targets(classes, SERVER, "/srv/nfs")
    assert plan["problems"] == [] and plan["uses_default"] is False
    assert _keys(plan) == [
        (SERVER, "/srv/nfs", "auto", "", ["nfs-data", "nfs-scratch"]),
        (SERVER, "/srv/b", "auto", "", ["nfs-b", "nfs-b2"]),          # hard/noatime decide no mount
        ("nas.example.org", "/srv/nfs", "auto", "", ["nfs-far"]),
    ]
    assert [t["name"] for t in plan["targets"]] == [
        "10.0.0.5:/srv/nfs (classes nfs-data, nfs-scratch)", "10.0.0.5:/srv/b (classes nfs-b, nfs-b2)",
        "nas.example.org:/srv/nfs (class nfs-far)"]


def test_a_class_that_names_its_nfs_version_is_proved_with_it():
    classes = [
        {"storage_class_name": "v3", "mount_options": ["nfsvers=3", "hard"]},
        {"storage_class_name": "v41", "mount_options": ["vers=4.1"]},
        {"storage_class_name": "plain"},
        {"storage_class_name": "v3-again", "mount_options": ["noatime", "nfsvers=3"]},
        {"storage_class_name": "v3-nolock", "mount_options": ["nfsvers=3", "nolock"]},
    ]
    plan = proof_targets(classes, SERVER, "/srv/nfs", "4")
    assert _keys(plan) == [
        (SERVER, "/srv/nfs", "3", "nfsvers=3", ["v3", "v3-again"]),
        (SERVER, "/srv/nfs", "4", "vers=4.1", ["v41"]),
        (SERVER, "/srv/nfs", "4", "", ["plain"]),      # the role's nfs_client_nfs_version
        (SERVER, "/srv/nfs", "3", "nfsvers=3,nolock", ["v3-nolock"]),
    ]
    assert plan["targets"][0]["name"] == "10.0.0.5:/srv/nfs (classes v3, v3-again; options nfsvers=3)"


def test_the_planned_classes_of_nfs_provisioner_give_the_same_targets_as_its_input():
    """site.yml hands over nfs_provisioner's published plan; a user may hand over the raw list."""
    classes = [{"storage_class_name": "a"}, {"storage_class_name": "b", "nfs_path": "/srv/b",
                                             "mount_options": ["nfsvers=4.1"]}]
    planned = provisioner_class_plan(classes, {"nfs_server": SERVER, "nfs_path": "/srv/nfs",
                                               "namespace": "nfs-provisioner"})["classes"]
    assert proof_targets(planned, "other", "/other") == proof_targets(classes, SERVER, "/srv/nfs")


def test_classes_being_removed_are_not_proved():
    plan = proof_targets([{"storage_class_name": "old", "nfs_path": "/srv/old", "state": "absent"},
                          {"storage_class_name": "new", "nfs_path": "/srv/new"}], SERVER, "/srv/nfs")
    assert _keys(plan) == [(SERVER, "/srv/new", "auto", "", ["new"])]
    only_absent = proof_targets([{"storage_class_name": "old", "state": "absent"}], SERVER, "/srv/nfs")
    assert _keys(only_absent) == [(SERVER, "/srv/nfs", "auto", "", [])]


def test_ipv6_server_is_bracketed_in_the_source():
    plan = proof_targets([{"storage_class_name": "a", "nfs_server": "fd00::5"}], SERVER, "/srv/nfs")
    assert plan["targets"][0]["source"] == "[fd00::5]:/srv/nfs"


@pytest.mark.parametrize(("classes", "says"), [
    ([{"nfs_path": "/srv/b"}], "nfs_provisioner_classes[0].storage_class_name: is required"),
    ([{"storage_class_name": "a", "nfs_path": "relative"}], "nfs_provisioner_classes[0]: nfs_provisioner: nfs_path"),
    ([{"storage_class_name": "a", "mount_options": ["vers=5"]}], "option 'vers=5' has an invalid value"),
    ([{"storage_class_name": "a"}, {"storage_class_name": "a"}], "StorageClass 'a' is also nfs_provisioner_classes[0]'s"),
    ({"storage_class_name": "a"}, "must be a list of StorageClasses"),
])
def test_bad_classes_are_the_provisioner_plans_problems(classes, says):
    plan = proof_targets(classes, SERVER, "/srv/nfs")
    assert any(says in p for p in plan["problems"]), plan["problems"]


def test_a_class_without_a_server_when_the_role_has_none_is_a_problem():
    plan = proof_targets([{"storage_class_name": "a", "nfs_path": "/srv/a"}], "", "")
    assert any("nfs_server" in p for p in plan["problems"]), plan["problems"]


@pytest.mark.parametrize(("path", "known"), [
    ("/srv/nfs", True),             # a configured export: "not exported" is told apart
    ("/srv/nfs/restricted", True),  # configured too, although below another
    ("/srv/nowhere", True),         # configured nowhere: export_not_found before any traffic
    ("/srv/nfs/sub/dir", False),    # a directory of an export, which a client may mount: ask the server
])
def test_known_exports_go_to_the_probe_of_the_inventory_servers_targets(path, known):
    known_exports = ["/srv/nfs", "/srv/nfs/restricted/"]
    plan = proof_targets([{"storage_class_name": "a", "nfs_path": path},
                          {"storage_class_name": "b", "nfs_server": "nas", "nfs_path": path}],
                         SERVER, "/srv/nfs", "auto", known_exports)
    assert plan["targets"][0]["known_exports"] == (known_exports if known else None)
    assert plan["targets"][1]["known_exports"] is None    # another server: its exports are not known


def test_export_path_normalises_slashes():
    assert export_path("/srv//nfs/") == "/srv/nfs" and export_path("/") == "/"


def test_mount_access_options_and_version():
    assert mount_access_options(["hard", "nfsvers=4.1", "noatime", "sec=krb5", "proto=tcp", "timeo=600"]) == (
        "nfsvers=4.1", "sec=krb5", "proto=tcp")
    assert mount_access_options("rw,hard,nolock,vers=3") == ("nolock", "vers=3")
    assert nfs_major_version(["vers=3", "nfsvers=4.2"]) == 4
    assert nfs_major_version("hard,vers=3") == 3
    assert nfs_major_version(["hard"]) is None and nfs_major_version("") is None


def test_the_filter_is_the_function():
    from ansible_collections.stateful.nfs.plugins.filter.nfs_client_proof_targets import FilterModule
    targets = FilterModule().filters()["nfs_client_proof_targets"]
    assert targets([{"storage_class_name": "a"}], SERVER, "/srv/nfs") == proof_targets(
        [{"storage_class_name": "a"}], SERVER, "/srv/nfs")


# ------------------------------------------------------------------ a node's combined result

def _probe(target, ok=True, reason="ok", message=None, **extra):
    message = message or ("NFSv4 round trip (write, read back, remove) via userspace" if ok else f"{reason}: no")
    return dict({"item": target, "ok": ok, "reason": reason, "message": message, "method": "userspace",
                 "method_reason": "requested", "version": 4, "server": target["server"],
                 "export": target["export"], "exports": None, "details": {"steps": []}, "changed": False,
                 "failed": False}, **extra)


TWO = proof_targets([{"storage_class_name": "a"}, {"storage_class_name": "b", "nfs_path": "/srv/b"}],
                    SERVER, "/srv/nfs")["targets"]


def test_one_export_reads_as_the_probe_did():
    target = proof_targets([], SERVER, "/srv/nfs")["targets"][0]
    result = proof_result({"results": [_probe(target)]})
    assert result["ok"] is True and result["message"] == "NFSv4 round trip (write, read back, remove) via userspace"
    assert (result["server"], result["export"], result["method"], result["version"]) == (SERVER, "/srv/nfs", "userspace", 4)
    assert result["failed"] == [] and len(result["proofs"]) == 1
    failed = proof_result({"results": [_probe(target, ok=False, reason="export_not_allowed")]})
    assert failed["ok"] is False and failed["message"] == "export_not_allowed: no"
    assert failed["failed"] == ["10.0.0.5:/srv/nfs"]


def test_every_export_must_pass_and_the_message_names_the_failed_one():
    result = proof_result({"results": [_probe(TWO[0]), _probe(TWO[1], ok=False, reason="export_not_allowed")]})
    assert result["ok"] is False
    assert result["reason"] == "export_not_allowed" and result["export"] == "/srv/b"
    assert result["message"] == "1 of 2 exports failed: 10.0.0.5:/srv/b (class b): export_not_allowed: no"
    assert result["failed"] == ["10.0.0.5:/srv/b (class b)"]
    assert [p["ok"] for p in result["proofs"]] == [True, False]
    assert result["proofs"][1]["classes"] == ["b"]
    passed = proof_result({"results": [_probe(TWO[0]), _probe(TWO[1])]})
    assert passed["ok"] is True and passed["message"].startswith(
        "2 exports proved (10.0.0.5:/srv/nfs (class a), 10.0.0.5:/srv/b (class b)): NFSv4 round trip")


def test_unreachable_and_module_errors_are_failures_with_their_reason():
    result = proof_result({"results": [
        {"item": TWO[0], "unreachable": True, "msg": "container stopped ", "changed": False},
        {"item": TWO[1], "failed": True, "msg": "MODULE FAILURE"}]})
    assert result["ok"] is False and result["unreachable"] is True and result["msg"] == "container stopped"
    assert [p["reason"] for p in result["proofs"]] == ["unreachable", "error"]
    assert "10.0.0.5:/srv/b (class b): the probe could not run: MODULE FAILURE" in result["message"]
    assert result["method"] == "-"


@pytest.mark.parametrize("registered", [None, {}, {"results": []}, {"skipped": True}])
def test_no_proof_is_not_ok(registered):
    result = proof_result(registered)
    assert result["ok"] is False and result["reason"] == "no_result"


# ------------------------------------------------------------------ the gate

def test_the_gate_names_each_node_and_export_it_did_not_prove():
    ok = proof_result({"results": [_probe(TWO[0]), _probe(TWO[1])]})
    bad = proof_result({"results": [_probe(TWO[0]), _probe(TWO[1], ok=False, reason="export_not_allowed")]})
    verdict = gate({"node-1": ok, "node-2": bad, "node-3": None})
    assert verdict["ran"] is True
    assert verdict["proven"] == ["node-1"] and verdict["unproven"] == ["node-2", "node-3"]
    assert verdict["problems"] == [
        "node-2: 10.0.0.5:/srv/b (class b): export_not_allowed: no",
        "node-3: no proof (the node failed or was unreachable before it)"]


def test_the_gate_reads_a_result_of_the_old_shape_too():
    """A result without proofs (a probe registered directly) still names its export."""
    verdict = gate({"n": {"ok": False, "server": SERVER, "export": "/srv/nfs", "message": "timeout: slow"}})
    assert verdict["problems"] == ["n: 10.0.0.5:/srv/nfs: timeout: slow"]


def test_the_gate_did_not_run_without_any_result():
    assert gate({"node-1": None, "node-2": None}) == {
        "ran": False, "proven": [], "unproven": ["node-1", "node-2"],
        "problems": ["node-1: no proof (the node failed or was unreachable before it)",
                     "node-2: no proof (the node failed or was unreachable before it)"]}


def test_the_gate_filter_reads_hostvars():
    ok = proof_result({"results": [_probe(TWO[0])]})
    hostvars = {"node-1": {"nfs_client_proof_result": ok}, "node-2": {}}
    verdict = nfs_client_gate(hostvars, ["node-1", "node-2", "node-9"])
    assert verdict["proven"] == ["node-1"] and verdict["unproven"] == ["node-2", "node-9"]


# ------------------------------------------------------------------ the role asks, it does not derive

def test_the_role_asks_the_filters_and_site_yml_the_gate():
    server_tasks = (ROOT / "roles/nfs_client/tasks/server.yml").read_text()
    proof_tasks = (ROOT / "roles/nfs_client/tasks/proof.yml").read_text()
    assert "stateful.nfs.nfs_client_proof_targets" in server_tasks
    assert "loop: \"{{ __nfs_client_plan.targets }}\"" in proof_tasks
    assert "stateful.nfs.nfs_client_proof_result" in proof_tasks
    site = yaml.safe_load((ROOT / "site.yml").read_text())
    gate_play = next(p for p in site if p["name"].startswith("Preflight gate"))
    assert "stateful.nfs.nfs_client_gate" in gate_play["vars"]["__gate"]
