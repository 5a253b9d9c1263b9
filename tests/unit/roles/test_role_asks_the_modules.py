"""One rule, one place: the roles have no option table or name rule of their own; they ask the
modules' Python code (through the collection's filters) and get the modules' verdicts and words.

* exports(5) options: the nfs_server role's filter ``nfs_exports`` and the ``nfs_export`` module
  refuse the same option lists with the same message (the module run in process, check mode);
* NFS mount options: the nfs_client role's filter and the ``nfs_provisioner`` module's
  ``mount_options`` check use the same table;
* Kubernetes names and sizes: role ``k8s_statefulset_nginx`` hands the modules' own parameters to
  ``k8s_input_problems``, and those are the parameters its tasks give the modules;
* no role file holds a list or a mapping made mostly of option names (a table).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.stateful.nfs.plugins.filter.k8s_input_problems import k8s_input_problems
from ansible_collections.stateful.nfs.plugins.filter.nfs_exports import nfs_exports
from ansible_collections.stateful.nfs.plugins.filter.nfs_mount_option_problems import (
    nfs_mount_option_problems,
)
from ansible_collections.stateful.nfs.plugins.module_utils import exports as exports_rules
from ansible_collections.stateful.nfs.plugins.module_utils.mount_options import NFS_MOUNT_OPTIONS
from ansible_collections.stateful.nfs.plugins.modules import nfs_export, statefulset

from tests.unit.plugins.module_utils.k8s.fakeapi import run_module

ROOT = Path(__file__).resolve().parents[3]
ROLES = ROOT / "roles"

# The cases that once passed the role and failed the module (or the reverse), then a sample of
# every option the module knows, each alone and next to its opposite.
ISSUE_CASES = [["rw", "sync", "rdirplus"], ["crossmnt", "nocrossmnt"], ["rw", "reexport=auto-fsidnum"],
               ["rw", "sec=krb5:krb6"], ["rw", "sec=unix"], ["rw", "anonuid=-2"], ["rw", "anonuid=65534"]]
VALUES = {"anonuid": ["0", "-1", "x"], "anongid": ["100"], "fsid": ["root", "7", "not-a-uuid"],
          "sec": ["sys:krb5p", "null", "krb5:krb5"], "xprtsec": ["tls", "ssl"], "mountpoint": ["/mnt", "rel"],
          "mp": ["/m"], "refer": ["/a@h1+h2", "x"], "replicas": ["/b@h3"]}
CORPUS = ISSUE_CASES + [[o] for o in sorted(exports_rules.FLAG_OPTIONS)] + [
    [f"{name}={v}"] for name, vs in sorted(VALUES.items()) for v in vs] + [
    ["rw", "ro"], ["secure_locks", "no_auth_nlm"], ["all_squash", "no_root_squash"],
    ["sec=sys", "rw", "sec=krb5", "ro"], ["frobnicate"], ["rw=1"], ["fsid"], ["rw", "rw"]]


def _module_verdict(capsys, options, tmp_path):
    """(failed, msg) of the nfs_export module run in process, in check mode, for one client."""
    args = {"path": "/srv/case", "dest": str(tmp_path / "exports"),
            "clients": [{"host": "10.0.0.0/24", "options": options}]}
    res = run_module(nfs_export.main, args, capsys, check_mode=True)
    return bool(res.get("failed")), res.get("msg", "")


@pytest.mark.parametrize("options", CORPUS, ids=lambda o: ",".join(o))
def test_role_filter_and_module_give_the_same_verdict(options, capsys, tmp_path):
    failed, msg = _module_verdict(capsys, options, tmp_path)
    model = nfs_exports([{"path": "/srv/case", "clients": [{"host": "10.0.0.0/24", "options": options}]}])
    if failed:
        assert model["problems"] == [f'nfs_server_exports[0] (path "/srv/case"): {msg}']
    else:
        assert model["problems"] == [], model["problems"]
        assert model["exports"][0]["clients"] == [{"host": "10.0.0.0/24", "options": options}]
    assert not (tmp_path / "exports").exists()


def test_issue_cases_are_refused_by_both():
    for options in ISSUE_CASES:
        expected_ok = options in (["rw", "sec=unix"], ["rw", "anonuid=65534"])
        assert (nfs_exports([{"path": "/srv/x", "clients": [{"host": "*", "options": options}]}])["problems"]
                == []) is expected_ok, options


def test_loopback_and_default_options_are_judged_too():
    model = nfs_exports([{"path": "/srv/x"}], default_clients=["10.0.0.0/24"], default_options=["rw", "rdirplus"],
                        loopback_options=["rw", "secure"])
    assert len(model["problems"]) == 1 and "'rdirplus'" in model["problems"][0]
    model = nfs_exports([{"path": "/srv/x", "clients": ["10.0.0.0/24"]}], default_options=["rw"],
                        loopback_options=["rw", "insecure", "secure"])
    assert "'secure' and 'insecure' contradict" in model["problems"][0] and "127.0.0.1" in model["problems"][0]


# --------------------------------------------------------------------------- mount options
MOUNT_CORPUS = ["rw", "hard", "noatime", "_netdev", "nfsvers=4.2", "nfsvers=5", "vers=4.1", "proto=tcp", "proto=sctp",
                "frobnicate", "hard=1", "timeo", "timeo=soon", "x-systemd.automount", "sec=krb5:sys", "sec=krb6"]


@pytest.mark.parametrize("option", MOUNT_CORPUS)
def test_mount_options_one_table_for_role_and_provisioner(option):
    role = nfs_mount_option_problems(option)
    module = k8s_input_problems({"nfs_server": "192.0.2.20", "nfs_path": "/srv/nfs", "mount_options": [option]},
                                "nfs_provisioner")
    assert module == [f"nfs_provisioner: mount_options: {p}" for p in role]


# --------------------------------------------------------------------------- no table in the roles
def _yaml_docs():
    for path in sorted(ROLES.rglob("*.yml")):
        yield path, yaml.safe_load(path.read_text())


def _collections(node):
    """Every list of strings and every mapping's key set in a YAML document."""
    if isinstance(node, dict):
        yield list(node)
        for v in node.values():
            yield from _collections(v)
    elif isinstance(node, list):
        if all(isinstance(x, str) for x in node):
            yield node
        for v in node:
            yield from _collections(v)


TABLES = {"exports(5) options": exports_rules.FLAG_OPTIONS | exports_rules.VALUE_OPTIONS,
          "NFS mount options": set(NFS_MOUNT_OPTIONS)}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_no_role_holds_an_option_table(table):
    names = TABLES[table]
    found = []
    for path, doc in _yaml_docs():
        for coll in _collections(doc):
            hits = [x.split("=")[0] for x in coll if x.split("=")[0] in names]
            if len(coll) >= 6 and len(hits) >= 0.75 * len(coll):
                found.append(f"{path.relative_to(ROOT)}: {coll[:6]}...")
    for path in sorted(ROLES.rglob("*.j2")):
        for literal in re.findall(r"\[('[^']*'(?:\s*,\s*'[^']*')+)\]", path.read_text()):
            items = re.findall(r"'([^']*)'", literal)
            if len(items) >= 4 and sum(i in names for i in items) >= 0.75 * len(items):
                found.append(f"{path.relative_to(ROOT)}: {items}")
    assert found == [], f"{table} written in a role instead of asked from module_utils: {found}"


def test_no_role_template_validates_exports():
    assert not (ROLES / "nfs_server/templates/exports_model.json.j2").exists()
    validate = (ROLES / "nfs_server/tasks/validate.yml").read_text()
    assert "stateful.nfs.nfs_exports(" in validate
    assert "known_options" not in "".join(p.read_text() for p in ROLES.rglob("*.yml"))


# --------------------------------------------------------------------------- k8s role <-> modules
@pytest.mark.parametrize("params, param", [
    ({"name": "Web_1"}, "name"), ({"replicas": -1}, "replicas"), ({"service_name": "1web"}, "service_name"),
    ({"volume_claim_templates": [{"name": "d", "size": "lots", "mount_path": "/x"}]}, "volume_claim_templates[0].size"),
])
def test_k8s_filter_gives_the_module_message(params, param, capsys):
    """The filter's message is the one the statefulset module fails with (run in process, no API needed)."""
    full = dict({"name": "web", "image": "nginx:1.27.3"}, **params)
    problems = k8s_input_problems(full, "statefulset")
    res = run_module(statefulset.main, dict(full, host="http://127.0.0.1:9", api_key="unused"), capsys)
    assert res["failed"] and res["param"] == param
    assert problems == [f"statefulset: {res['msg']}"]
