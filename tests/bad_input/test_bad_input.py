"""Bad input table: every case fails clearly and changes nothing.

``CASES`` below is the table, kept as data so it can be rendered into the README's
troubleshooting section: ``render_markdown()`` turns it into ``tests/bad_input/TABLE.md``
(regenerate with ``.venv/bin/python -m tests.bad_input.test_bad_input``;
``test_table_md_is_current`` fails when the file is stale).

How the cases run -- the way a user runs them:

* all cases run in ONE ``ansible-playbook`` run against localhost (connection local), one
  play over one inventory alias of localhost per case (``case_<id>``); a case's tasks run
  only on its alias, so one case failing ends only that alias, and the per-case result
  (failed task, its ``msg``, the host's ``failures`` count) comes from the
  ``ansible.builtin.json`` callback; the run's exit status must be non-zero;
* modules are called as tasks; roles with ``ansible.builtin.include_role`` (argument
  specs validated as usual);
* Kubernetes modules talk HTTPS to the lab cluster as the session's test identity, through the
  fault proxy (tests/support/cluster.py), with the kubeconfig in ``K8S_AUTH_KUBECONFIG`` and the
  proxy's CA in ``K8S_AUTH_SSL_CA_CERT`` unless the case sets the connection; the objects they
  must leave alone live in a namespace of the run (``{ns}``, random);
* file-touching modules and roles point at a temp tree (``{tmp}``) that is seeded with
  an existing exports file.

Snapshot: before the run and after it, (1) sha256 + mode of every file/dir under the temp
tree plus the host's /etc/exports, /etc/exports.d, /etc/fstab, /etc/nfs.conf,
/etc/ganesha; (2) the cluster: no write request of the test identity in the API server's audit
log during the run (and none through the proxy), and a dump of every object the API lists in
``{ns}`` (all kinds from discovery) plus every cluster-scoped object whose name carries ``{ns}``
(other namespaces belong to other work on the same cluster). Both must be identical.

Safety fence: the run uses ``--tags nfs_client_proof`` with ``nfs_client_proof: false``.
The roles' validation tasks (tagged ``always`` in nfs_server and k8s_statefulset_nginx,
``nfs_client_proof`` in nfs_client) still run exactly as in a normal run, but if a case
ever passed validation, the install/mount/apply steps could not run on this machine.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / ".collections"
PYTHON = sys.executable
ANSIBLE_PLAYBOOK = str(Path(PYTHON).with_name("ansible-playbook"))
TABLE_MD = Path(__file__).with_name("TABLE.md")
TEARDOWN = REPO_ROOT / "playbooks" / "teardown.yml"
RUN_TIMEOUT = 240  # seconds for the one ansible-playbook run of all cases
NS = "{ns}"  # the run's namespace (random), holding the pre-existing objects the cases must not touch

# Host files a role or module could write (checked before/after, in addition to {tmp}).
HOST_FILES = ("/etc/exports", "/etc/exports.d", "/etc/fstab", "/etc/nfs.conf", "/etc/ganesha")

EXPORT_OK = {"host": "10.0.0.0/24", "options": ["rw", "sync", "no_subtree_check"]}
STS_OK = {"name": "web", "namespace": NS, "replicas": 2, "labels": {"app": "web"}, "container_name": "nginx",
          "image": "nginx:1.27.3", "ports": [{"name": "web", "container_port": 80}], "check_storage_class": False}
VCT_OK = {"name": "data", "storage_class_name": "{ns}-sc", "access_modes": ["ReadWriteOnce"], "size": "1Gi",
          "mount_path": "/usr/share/nginx/html"}
PROV_OK = {"name": "{ns}-prov", "namespace": NS, "nfs_server": "192.0.2.20", "nfs_path": "/srv/nfs",
           "storage_class_name": "{ns}-sc", "wait": False}
K8S_ROLE_OK = {"k8s_statefulset_nginx_namespace": NS, "k8s_statefulset_nginx_nfs_server": "192.0.2.20",
               "k8s_statefulset_nginx_nfs_path": "/srv/nfs", "k8s_statefulset_nginx_verify": False,
               "k8s_statefulset_nginx_report": False}
CLIENT_ROLE_OK = {"nfs_client_server": "127.0.0.1", "nfs_client_export": "/srv/nfs", "nfs_client_install": False,
                  "nfs_client_proof": False}


def _with(base, **over):
    d = copy.deepcopy(base)
    d.update(over)
    return d


def _sts_vct(**over):
    return _with(STS_OK, volume_claim_templates=[_with(VCT_OK, **over)])


# Options the nfs_server role once judged by a table of its own, differently from the nfs_export
# module: (key, problem, options, expected texts). Each is a module case and a role case per
# backend; the role's message must contain the module's (one set of rules, in Python).
ROLE_VS_MODULE = [
    ("rdirplus", "option rdirplus (exportfs knows only nordirplus)", ["rw", "sync", "rdirplus"],
     ["rdirplus", "unknown export option"]),
    ("crossmnt_nocrossmnt", "contradicting options crossmnt and nocrossmnt", ["rw", "crossmnt", "nocrossmnt"],
     ["'crossmnt' and 'nocrossmnt' contradict"]),
    ("reexport", "option reexport= (not among the options the module accepts)", ["rw", "reexport=auto-fsidnum"],
     ["reexport=auto-fsidnum", "unknown export option"]),
    ("sec_flavor", "unknown security flavor in sec=", ["rw", "sec=krb5:krb6"], ["sec=krb5:krb6", "'krb6'"]),
    ("anonuid_negative", "negative anonuid", ["rw", "anonuid=-2"], ["anonuid=-2", "non-negative"]),
]


def _export_case(key, problem, options, expect):
    return {"id": f"export_{key}", "target": "module nfs_export", "problem": problem, "module": "nfs_export",
            "args": {"path": f"{{tmp}}/srv/{key}", "dest": "{tmp}/etc/exports",
                     "clients": [{"host": "10.0.0.0/24", "options": options}]},
            "expect": expect}


def _server_case(key, problem, options, expect, backend):
    return {"id": f"server_{key}_{backend}", "target": "role nfs_server", "problem": f"{problem}, {backend} backend",
            "role": "nfs_server", "vars": {"nfs_server_backend": backend, "nfs_server_exports": [
                {"path": f"{{tmp}}/srv/{key}", "clients": [{"host": "10.0.0.0/24", "options": options}]}]},
            "expect": expect, "same_message_as": f"export_{key}"}


# --------------------------------------------------------------------------- the table
# Each case: id, target (module or role), what is wrong, how it is called (module args or
# role vars; {tmp}, {url}, {closed_url} are filled in at run time), and `expect`: the
# substrings the failure message must contain (they name the problem).
CASES = [
    # ---- nfs_export module (files) --------------------------------------------------
    {"id": "export_relative_path", "target": "module nfs_export", "problem": "export path is relative",
     "module": "nfs_export", "args": {"path": "srv/nfs", "dest": "{tmp}/etc/exports", "clients": [EXPORT_OK]},
     "expect": ["srv/nfs", "absolute"]},
    {"id": "export_path_newline", "target": "module nfs_export", "problem": "export path contains a newline",
     "module": "nfs_export", "args": {"path": "/srv/new\nline", "dest": "{tmp}/etc/exports", "clients": [EXPORT_OK]},
     "expect": ["newline"]},
    {"id": "export_path_quote", "target": "module nfs_export", "problem": "export path contains a double quote",
     "module": "nfs_export", "args": {"path": '/srv/quo"te', "dest": "{tmp}/etc/exports", "clients": [EXPORT_OK]},
     "expect": ["quote"]},
    {"id": "export_invalid_cidr", "target": "module nfs_export", "problem": "client network prefix /33",
     "module": "nfs_export", "args": {"path": "/srv/nfs", "dest": "{tmp}/etc/exports",
                                      "clients": [{"host": "10.0.0.0/33", "options": ["rw"]}]},
     "expect": ["10.0.0.0/33"]},
    {"id": "export_cidr_host_bits", "target": "module nfs_export", "problem": "client network with host bits set",
     "module": "nfs_export", "args": {"path": "/srv/nfs", "dest": "{tmp}/etc/exports",
                                      "clients": [{"host": "10.0.0.1/24", "options": ["rw"]}]},
     "expect": ["10.0.0.1/24", "host bits"]},
    {"id": "export_empty_clients", "target": "module nfs_export", "problem": "empty client list",
     "module": "nfs_export", "args": {"path": "/srv/nfs", "dest": "{tmp}/etc/exports", "clients": []},
     "expect": ["client list is empty"]},
    {"id": "export_unknown_option", "target": "module nfs_export", "problem": "unknown export option",
     "module": "nfs_export", "args": {"path": "/srv/nfs", "dest": "{tmp}/etc/exports",
                                      "clients": [{"host": "10.0.0.0/24", "options": "rw,sync,frobnicate"}]},
     "expect": ["frobnicate"]},
    {"id": "export_rw_and_ro", "target": "module nfs_export", "problem": "contradicting options rw and ro",
     "module": "nfs_export", "args": {"path": "/srv/nfs", "dest": "{tmp}/etc/exports",
                                      "clients": [{"host": "10.0.0.0/24", "options": ["rw", "ro"]}]},
     "expect": ["rw", "ro"]},
    {"id": "export_all_squash_no_root_squash", "target": "module nfs_export",
     "problem": "all_squash with no_root_squash",
     "module": "nfs_export", "args": {"path": "/srv/nfs", "dest": "{tmp}/etc/exports",
                                      "clients": [{"host": "10.0.0.0/24",
                                                   "options": ["rw", "all_squash", "no_root_squash"]}]},
     "expect": ["all_squash", "no_root_squash"]},
    {"id": "export_bad_dropin_name", "target": "module nfs_export",
     "problem": "exports.d file not ending in .exports (exportfs would ignore it)",
     "module": "nfs_export", "args": {"path": "/srv/nfs", "dest": "{tmp}/etc/exports.d/share.conf",
                                      "clients": [EXPORT_OK]},
     "expect": [".exports"]},
    {"id": "export_bad_anonuid", "target": "module nfs_export", "problem": "anonuid not a number",
     "module": "nfs_export", "args": {"path": "/srv/nfs", "dest": "{tmp}/etc/exports",
                                      "clients": [{"host": "10.0.0.0/24", "options": ["rw", "anonuid=nobody"]}]},
     "expect": ["anonuid"]},
    *[_export_case(*row) for row in ROLE_VS_MODULE],
    # ---- statefulset / statefulset_info / nfs_provisioner modules (cluster) -----------
    {"id": "sts_name_not_dns1123", "target": "module statefulset", "problem": "name is not a DNS-1123 label",
     "module": "statefulset", "args": _with(STS_OK, name="Web_1"), "expect": ["Web_1", "DNS-1123"]},
    {"id": "sts_namespace_not_dns1123", "target": "module statefulset",
     "problem": "namespace is not a DNS-1123 label",
     "module": "statefulset", "args": _with(STS_OK, namespace="Bad.NS"), "expect": ["Bad.NS", "namespace"]},
    {"id": "sts_size_not_quantity", "target": "module statefulset", "problem": "claim size is not a quantity",
     "module": "statefulset", "args": _sts_vct(size="lots"), "expect": ["lots", "quantity"]},
    {"id": "sts_replicas_negative", "target": "module statefulset", "problem": "replicas < 0",
     "module": "statefulset", "args": _with(STS_OK, replicas=-1), "expect": ["replicas", "-1"]},
    {"id": "sts_image_empty", "target": "module statefulset", "problem": "image is empty",
     "module": "statefulset", "args": _with(STS_OK, image=""), "expect": ["image"]},
    {"id": "sts_image_invalid_reference", "target": "module statefulset",
     "problem": "image is not a valid reference",
     "module": "statefulset", "args": _with(STS_OK, image="nginx:1.27 latest"),
     "expect": ["nginx:1.27 latest", "image"]},
    {"id": "sts_access_mode_unknown", "target": "module statefulset", "problem": "unknown access mode",
     "module": "statefulset", "args": _sts_vct(access_modes=["ReadWriteSometimes"]),
     "expect": ["ReadWriteSometimes", "access_modes"]},
    {"id": "sts_storage_class_missing", "target": "module statefulset",
     "problem": "storage class does not exist",
     "module": "statefulset", "args": _with(_sts_vct(storage_class_name="no-such-class"), check_storage_class=True),
     "expect": ["no-such-class"]},
    {"id": "sts_cascade_invalid", "target": "module statefulset", "problem": "cascade value is not a choice",
     "module": "statefulset", "args": {"name": "web", "namespace": NS, "state": "absent", "cascade": "sideways"},
     "expect": ["cascade", "sideways"]},
    {"id": "sts_kubeconfig_missing", "target": "module statefulset", "problem": "kubeconfig file does not exist",
     "module": "statefulset", "args": _with(STS_OK, kubeconfig="{tmp}/no-such-kubeconfig"),
     "expect": ["no-such-kubeconfig"]},
    {"id": "sts_wrong_token", "target": "module statefulset", "problem": "wrong bearer token (HTTP 401)",
     "module": "statefulset", "args": _with(STS_OK, host="{url}", api_key="wrong-token-0123456789"),
     "expect": ["401"]},
    {"id": "info_api_unreachable", "target": "module statefulset_info", "problem": "API server unreachable",
     "module": "statefulset_info", "args": {"name": "web", "namespace": NS, "host": "{closed_url}",
                                            "api_key": "any-token"},
     "expect": ["{closed_host}"]},
    {"id": "prov_name_not_dns1123", "target": "module nfs_provisioner", "problem": "name is not a DNS-1123 label",
     "module": "nfs_provisioner", "args": _with(PROV_OK, name="NFS_Provisioner"), "expect": ["NFS_Provisioner"]},
    {"id": "prov_nfs_path_relative", "target": "module nfs_provisioner", "problem": "NFS path is relative",
     "module": "nfs_provisioner", "args": _with(PROV_OK, nfs_path="srv/nfs"), "expect": ["nfs_path", "srv/nfs"]},
    {"id": "prov_replicas_negative", "target": "module nfs_provisioner", "problem": "replicas < 0",
     "module": "nfs_provisioner", "args": _with(PROV_OK, replicas=-1), "expect": ["replicas", "-1"]},
    {"id": "prov_mount_options_invalid", "target": "module nfs_provisioner",
     "problem": "mount_options item holds several options",
     "module": "nfs_provisioner", "args": _with(PROV_OK, mount_options=["nfsvers=4.1,hard"]),
     "expect": ["mount_options"]},
    # ---- role nfs_server (validation on localhost; files) ---------------------------
    {"id": "server_relative_path", "target": "role nfs_server", "problem": "export path is relative",
     "role": "nfs_server", "vars": {"nfs_server_exports": [{"path": "srv/relative-export", "clients": [EXPORT_OK]}]},
     "expect": ["srv/relative-export", "absolute"]},
    {"id": "server_invalid_cidr", "target": "role nfs_server", "problem": "client network prefix /33",
     "role": "nfs_server", "vars": {"nfs_server_exports": [
         {"path": "{tmp}/srv/bad-cidr", "clients": [{"host": "10.0.0.0/33", "options": ["rw"]}]}]},
     "expect": ["10.0.0.0/33"]},
    {"id": "server_empty_clients", "target": "role nfs_server", "problem": "empty client list",
     "role": "nfs_server", "vars": {"nfs_server_exports": [{"path": "{tmp}/srv/bad-empty", "clients": []}]},
     "expect": ["client list is empty"]},
    {"id": "server_rw_and_ro", "target": "role nfs_server", "problem": "contradicting options rw and ro",
     "role": "nfs_server", "vars": {"nfs_server_exports": [
         {"path": "{tmp}/srv/bad-rwro", "clients": [{"host": "10.0.0.0/24", "options": ["rw", "ro"]}]}]},
     "expect": ["rw", "ro"]},
    {"id": "server_unknown_backend", "target": "role nfs_server", "problem": "unknown backend",
     "role": "nfs_server", "vars": {"nfs_server_backend": "nfs",
                                    "nfs_server_exports": [{"path": "{tmp}/srv/x", "clients": [EXPORT_OK]}]},
     "expect": ["nfs_server_backend", "nfs"]},
    {"id": "server_owner_missing", "target": "role nfs_server", "problem": "export owner does not exist",
     "role": "nfs_server", "vars": {"nfs_server_exports": [
         {"path": "{tmp}/srv/bad-owner", "owner": "no-such-user-4711", "clients": [EXPORT_OK]}]},
     "expect": ["no-such-user-4711"]},
    *[_server_case(*row, backend) for row in ROLE_VS_MODULE for backend in ("kernel", "ganesha")],
    # ---- role nfs_client (validation on localhost; /etc/fstab) ----------------------
    {"id": "client_mount_option_unknown", "target": "role nfs_client", "problem": "unknown mount option",
     "role": "nfs_client", "vars": _with(CLIENT_ROLE_OK, nfs_client_mounts=[
         {"path": "{tmp}/mnt/data", "opts": "rw,hard,frobnicate", "state": "present"}]),
     "expect": ["frobnicate", "unknown"]},
    {"id": "client_mount_option_bad_value", "target": "role nfs_client", "problem": "mount option with a bad value",
     "role": "nfs_client", "vars": _with(CLIENT_ROLE_OK, nfs_client_mounts=[
         {"path": "{tmp}/mnt/data", "opts": "rw,nfsvers=banana", "state": "present"}]),
     "expect": ["nfsvers=banana"]},
    {"id": "client_mount_without_path", "target": "role nfs_client", "problem": "nfs_client_mounts item without path",
     "role": "nfs_client", "vars": _with(CLIENT_ROLE_OK, nfs_client_mounts=[
         {"src": "127.0.0.1:/srv/nfs", "state": "present"}]),
     "expect": ["path", "nfs_client_mounts"]},
    {"id": "client_mount_state_unknown", "target": "role nfs_client", "problem": "unknown mount state",
     "role": "nfs_client", "vars": _with(CLIENT_ROLE_OK, nfs_client_mounts=[
         {"path": "{tmp}/mnt/data", "state": "bolted"}]),
     "expect": ["bolted"]},
    # ---- role k8s_statefulset_nginx (validation; cluster) ---------------------------
    {"id": "role_sts_name_not_dns1123", "target": "role k8s_statefulset_nginx",
     "problem": "StatefulSet name is not a DNS-1123 label",
     "role": "k8s_statefulset_nginx", "vars": _with(K8S_ROLE_OK, k8s_statefulset_nginx_name="Web_1"),
     "expect": ["statefulset: name: 'Web_1'", "DNS-1123"]},
    {"id": "role_sts_replicas_negative", "target": "role k8s_statefulset_nginx", "problem": "replicas < 0",
     "role": "k8s_statefulset_nginx", "vars": _with(K8S_ROLE_OK, k8s_statefulset_nginx_replicas=-1),
     "expect": ["statefulset: replicas", "-1"]},
    {"id": "role_sts_size_not_quantity", "target": "role k8s_statefulset_nginx",
     "problem": "storage size is not a quantity",
     "role": "k8s_statefulset_nginx", "vars": _with(K8S_ROLE_OK, k8s_statefulset_nginx_storage_size="lots"),
     "expect": ["'lots'", "quantity"]},
    {"id": "role_sts_access_mode_unknown", "target": "role k8s_statefulset_nginx", "problem": "unknown access mode",
     "role": "k8s_statefulset_nginx",
     "vars": _with(K8S_ROLE_OK, k8s_statefulset_nginx_access_modes=["ReadWriteSometimes"]),
     "expect": ["ReadWriteSometimes"]},
    # ---- day-2 playbook ----------------------------------------------------------------
    {"id": "teardown_purge_unconfirmed", "target": "playbook teardown.yml",
     "problem": "purge: true without the confirmation variable",
     "playbook": "playbooks/teardown.yml", "extra_vars": {"purge": True, "k8s_statefulset_nginx_namespace": NS},
     "expect": ["confirm"]},
]

# --------------------------------------------------------------------------- rendering


def _call(case):
    if "module" in case:
        return {f"stateful.nfs.{case['module']}": case["args"]}
    if "role" in case:
        return {"include_role": f"stateful.nfs.{case['role']}", "vars": case["vars"]}
    return {"ansible-playbook": case["playbook"], "extra_vars": case["extra_vars"]}


def render_markdown(cases=None):
    """The table as Markdown (for the README's troubleshooting section)."""
    cases = CASES if cases is None else cases
    lines = [
        "<!-- Generated from tests/bad_input/test_bad_input.py (CASES) by",
        "     .venv/bin/python -m tests.bad_input.test_bad_input -- do not edit by hand. -->",
        "# Bad input: what fails, and how",
        "",
        "Each row is run by `tests/bad_input/test_bad_input.py`: the task or play fails (exit status",
        "non-zero), the message contains every listed text, and nothing changed on the host's",
        "files or in the cluster's objects. `{tmp}` is a scratch directory, `{url}` the API server,",
        "`{ns}` the namespace of the run.",
        "",
        "| # | target | problem | input | the message contains |",
        "| --- | --- | --- | --- | --- |",
    ]
    for i, c in enumerate(cases, 1):
        call = json.dumps(_call(c), sort_keys=False).replace("|", "\\|")
        expect = ", ".join(f"`{e}`" for e in c["expect"])
        lines.append(f"| {i} | {c['target']} | {c['problem']} | `{call}` | {expect} |")
    return "\n".join(lines) + "\n"


def write_table(path=TABLE_MD):
    path.write_text(render_markdown())
    return path


# --------------------------------------------------------------------------- helpers


def _fill(value, subst):
    if isinstance(value, str):
        for k, v in subst.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, list):
        return [_fill(v, subst) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, subst) for k, v in value.items()}
    return value


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return port


def file_snapshot(roots):
    """{path: (kind, mode, sha256)} for every file and directory under ``roots`` (missing roots noted)."""
    snap = {}
    for root in map(Path, roots):
        if not root.exists():
            snap[str(root)] = ("missing",)
            continue
        paths = [root, *root.rglob("*")] if root.is_dir() else [root]
        for p in sorted(paths):
            st = p.lstat()
            if stat.S_ISREG(st.st_mode):
                snap[str(p)] = ("file", oct(st.st_mode), st.st_uid, hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                snap[str(p)] = ("other", oct(st.st_mode), st.st_uid)
    return snap


def cluster_dump(lab, ns):
    """Every object in namespace ``ns`` (every listable kind, from API discovery) and every
    cluster-scoped object whose name carries ``ns``; GET lists only, as the lab's admin."""
    groups = ["/api/v1"]
    code, apis = lab.http("GET", "/apis")
    assert code == 200, apis
    groups += [f"/apis/{g['preferredVersion']['groupVersion']}" for g in apis["groups"]]
    dump = {}
    for base in groups:
        code, rl = lab.http("GET", base)
        assert code == 200, (base, rl)
        for r in rl["resources"]:
            if "/" in r["name"] or "list" not in r.get("verbs", []):
                continue
            path = f"{base}/namespaces/{ns}/{r['name']}" if r["namespaced"] else f"{base}/{r['name']}"
            code, body = lab.http("GET", path)
            assert code == 200, (path, body)
            for o in body["items"]:
                m = o["metadata"]
                if r["namespaced"] or ns in m["name"]:
                    dump[f"{base}/{r['name']}/{m.get('namespace', '')}/{m['name']}"] = o
    return dump


def quiet_dump(lab, ns, timeout=60):
    """``cluster_dump`` once two dumps a second apart agree: the controllers are done with what
    ``_seed`` created (ServiceAccount, root CA ConfigMap, StatefulSet status, ControllerRevision)."""
    last = {}

    def same():
        dump, before = cluster_dump(lab, ns), last.get("dump")
        last["dump"] = dump
        return dump if dump == before else None
    return wait_for(f"namespace {ns} to be quiet", same, timeout=timeout, interval=1)


def _dump_diff(before, after):
    out = []
    for k in sorted(set(before) | set(after)):
        if before.get(k) != after.get(k):
            out.append(f"{k}: {'added' if k not in before else 'removed' if k not in after else 'changed'}")
    return out


def _seed(lab, tmp, ns):
    """What the cases must leave alone: an exports file, and objects in namespace ``ns``."""
    (tmp / "etc").mkdir(parents=True)
    (tmp / "etc" / "exports").write_text("# managed by hand\n/srv/nfs 10.0.0.0/24(rw,sync,no_subtree_check)\n")
    (tmp / "etc" / "exports").chmod(0o644)
    (tmp / "etc" / "exports.d").mkdir()
    lab.create("/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": f"{ns}-sc"},
        "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Retain"})
    lab.create(f"/apis/apps/v1/namespaces/{ns}/statefulsets", {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 0, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": lab.nginx}]}}}})


def _host(case):
    return "case_" + case["id"]


def _tasks(case, subst):
    """The tasks of one case; they run only on the case's own alias of localhost."""
    when = f"inventory_hostname == '{_host(case)}'"
    if "module" in case:
        return [{"name": f"case {case['id']}", f"stateful.nfs.{case['module']}": _fill(case["args"], subst),
                 "when": when, "tags": ["always"]}]
    pre = []
    if case["role"] == "nfs_server":  # its main.yml loads vars/<os_family>.yml: facts needed, as in site.yml
        pre = [{"name": f"facts for {case['id']}", "ansible.builtin.setup": {"gather_subset": ["min"]},
                "when": when, "tags": ["always"]}]
    return [*pre, {"name": f"case {case['id']}",
                   "ansible.builtin.include_role": {"name": f"stateful.nfs.{case['role']}"},
                   "vars": _fill(case["vars"], subst), "when": when, "tags": ["always"]}]


def _playbook(cases, subst):
    """ONE play over one localhost alias per case: a failing case only ends its own host, so the
    play goes on with the other cases (separate plays would abort the run at the first play whose
    only host failed)."""
    tasks = [t for c in cases for t in _tasks(c, subst)]
    return [{"name": "bad input", "hosts": "all", "gather_facts": False, "strategy": "free", "tasks": tasks}]


def _env(lab, tmp_root):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "ANSIBLE_", "KUBECONFIG"))}
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(tmp_root / "ansible-local"), "ANSIBLE_FORKS": "2",
                "ANSIBLE_REMOTE_TEMP": str(tmp_root / "ansible-remote"),
                "K8S_AUTH_KUBECONFIG": lab.kubeconfig, "K8S_AUTH_SSL_CA_CERT": lab.ca_cert})
    return env


def _failure(host_results):
    """(failed task result, its name) of one host in one play, or (None, None)."""
    for name, res in host_results:
        if res.get("failed") or res.get("unreachable"):
            return res, name
    return None, None


def _message(res):
    parts = [str(res.get("msg", ""))]
    for key in ("argument_errors", "error"):
        if res.get(key):
            parts.append(json.dumps(res[key]))
    return "\n".join(parts)


# --------------------------------------------------------------------------- the run


@pytest.fixture(scope="module")
def bad_input_ns(lab):
    """The namespace of this module's runs (random; removed at the end)."""
    name = lab.new_namespace()
    yield name
    lab.drop_namespace(name)


@pytest.fixture(scope="module")
def table_run(lab, bad_input_ns, tmp_path_factory):
    """Runs every playbook case in one ansible-playbook; returns per-case outcomes and snapshots."""
    ns = bad_input_ns
    root = tmp_path_factory.mktemp("bad-input")
    tmp = root / "tree"
    tmp.mkdir()
    _seed(lab, tmp, ns)
    closed = _closed_port()
    subst = {"tmp": str(tmp), "url": lab.url, "ns": ns, "closed_url": f"http://127.0.0.1:{closed}",
             "closed_host": f"127.0.0.1:{closed}"}
    cases = [c for c in CASES if "playbook" not in c]
    (root / "bad_input.yml").write_text(json.dumps(_playbook(cases, subst), indent=1))
    inv = "[all]\n" + "\n".join(f"{_host(c)} ansible_connection=local ansible_python_interpreter={PYTHON}"
                                for c in cases) + "\n"
    (root / "inventory.ini").write_text(inv)

    files_before = file_snapshot([tmp, *HOST_FILES])
    cluster_before = quiet_dump(lab, ns)
    lab.reset_stats()
    t0 = time.monotonic()
    p = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(root / "inventory.ini"), "--tags", "nfs_client_proof",
                        str(root / "bad_input.yml")], cwd=tmp, env=_env(lab, root), capture_output=True,
                       text=True, timeout=RUN_TIMEOUT, check=False)
    elapsed = time.monotonic() - t0
    stats = lab.stats()
    writes = lab.write_requests()
    files_after = file_snapshot([tmp, *HOST_FILES])
    cluster_after = cluster_dump(lab, ns)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        raise AssertionError(f"no JSON from ansible-playbook rc={p.returncode}\n{p.stdout[-3000:]}\n"
                             f"{p.stderr[-3000:]}") from None
    per_case = {c["id"]: [] for c in cases}
    for play in out["plays"]:
        for t in play["tasks"]:
            for h, r in t["hosts"].items():
                if h.startswith("case_") and not r.get("skipped"):
                    per_case.setdefault(h[len("case_"):], []).append((t["task"]["name"], r))
    return {"rc": p.returncode, "out": out, "stderr": p.stderr, "per_case": per_case, "subst": subst,
            "elapsed": elapsed, "stats": stats, "writes": writes, "files": (files_before, files_after),
            "cluster": (cluster_before, cluster_after)}


def _run_teardown_case(lab, ns, case, tmp_path):
    if not TEARDOWN.exists():
        pytest.skip(f"{TEARDOWN.relative_to(REPO_ROOT)} does not exist yet (being written by another engineer)")
    (tmp_path / "inventory.ini").write_text(
        f"[k8s_api]\nlocalhost ansible_connection=local ansible_python_interpreter={PYTHON}\n"
        "[nfs_server]\n[k8s_nodes]\n")
    files_before = file_snapshot(list(HOST_FILES))
    cluster_before = quiet_dump(lab, ns)
    lab.reset_stats()
    p = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(tmp_path / "inventory.ini"), str(TEARDOWN),
                        "-e", json.dumps(_fill(case["extra_vars"], {"ns": ns}))], cwd=REPO_ROOT,
                       env={**_env(lab, tmp_path), "ANSIBLE_STDOUT_CALLBACK": "default"},
                       capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert p.returncode != 0, f"teardown.yml with purge and no confirmation succeeded:\n{p.stdout[-3000:]}"
    text = p.stdout + p.stderr
    for e in case["expect"]:
        assert e.lower() in text.lower(), f"{e!r} not in the output:\n{text[-3000:]}"
    stats = lab.stats()
    assert stats["writes"] == 0 and stats["dry_run_writes"] == 0, stats["write_events"]
    assert lab.write_requests() == {}, stats
    assert _dump_diff(cluster_before, cluster_dump(lab, ns)) == []
    assert file_snapshot(list(HOST_FILES)) == files_before


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(case, lab, bad_input_ns, request, tmp_path):
    if "playbook" in case:
        _run_teardown_case(lab, bad_input_ns, case, tmp_path)
        return
    run = request.getfixturevalue("table_run")
    assert run["rc"] != 0, "the ansible-playbook run of the bad-input plays exited 0"
    assert run["per_case"].get(case["id"]), f"case {case['id']} did not run:\n{run['stderr'][-2000:]}"
    res, task = _failure(run["per_case"][case["id"]])
    assert res is not None, f"{case['id']}: nothing failed: {json.dumps(run['per_case'][case['id']])[:3000]}"
    assert run["out"]["stats"][_host(case)]["failures"] + run["out"]["stats"][_host(case)]["unreachable"] >= 1
    msg = _message(res)
    for e in _fill(case["expect"], run["subst"]):
        assert e in msg, f"{case['id']}: {e!r} not in the message of task {task!r}:\n{msg}"
    # nothing changed: files (the temp tree and the host's NFS files) and the cluster
    before, after = run["files"]
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert changed == [], f"files changed by the bad-input run: {changed}"
    assert run["stats"]["writes"] == 0 and run["stats"]["dry_run_writes"] == 0, \
        f"write requests reached the API: {run['stats']['write_events']}"
    assert run["writes"] == {}, f"write requests were sent: {run['writes']}"
    # neither check is empty: the identity's reads are in the audit log, the dump holds the seed
    assert run["stats"]["audit_requests"] > 0, run["stats"]
    assert any("/statefulsets/" in k for k in run["cluster"][0]), sorted(run["cluster"][0])
    assert _dump_diff(*run["cluster"]) == [], "cluster objects changed"


@pytest.mark.parametrize("case", [c for c in CASES if "same_message_as" in c], ids=lambda c: c["id"])
def test_role_refuses_with_the_module_message(case, lab, request):
    """The role's verdict is the module's: same refusal, the module's own words, for either backend."""
    run = request.getfixturevalue("table_run")
    role_res, _ = _failure(run["per_case"][case["id"]])
    module_res, _ = _failure(run["per_case"][case["same_message_as"]])
    assert role_res is not None and module_res is not None
    module_msg = str(module_res["msg"])
    assert module_msg and module_msg in str(role_res["msg"]), (module_msg, role_res["msg"])


def test_table_size_and_spread():
    """>= 25 cases, every role and module represented."""
    assert len(CASES) >= 25
    targets = {c["target"] for c in CASES}
    for t in ("module nfs_export", "module statefulset", "module statefulset_info", "module nfs_provisioner",
              "role nfs_server", "role nfs_client", "role k8s_statefulset_nginx"):
        assert t in targets, t
    assert len({c["id"] for c in CASES}) == len(CASES), "duplicate case ids"


def test_table_md_is_current():
    assert TABLE_MD.exists(), f"run: {PYTHON} -m tests.bad_input.test_bad_input"
    assert TABLE_MD.read_text() == render_markdown(), \
        f"{TABLE_MD} is stale; regenerate with .venv/bin/python -m tests.bad_input.test_bad_input"


if __name__ == "__main__":
    print(write_table())
