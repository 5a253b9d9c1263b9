"""Secrets never appear in task output, diffs or logs.

Playbooks run with ``-vvv --diff`` (default stdout callback, as a user sees it) and
``ANSIBLE_LOG_PATH`` against the lab cluster (through the fault proxy, tests/support/cluster.py);
stdout, stderr and the log file are searched for:

* the ``api_key`` value (the test identity's real ServiceAccount token, so the calls succeed),
* a kubeconfig's ``token`` and ``client-key-data`` (both the base64 text and the decoded key),
* wrong tokens of the failing (HTTP 401) runs.

Both successful runs (objects created: diffs are printed) and failing runs are checked. Each run
also has to show that it did what it should (rc, a marker line, the object in the cluster), so an
empty or broken run cannot pass the grep.
"""
from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
import yaml

from tests.security.helpers import REPO_ROOT, run_playbook

FAKE_KEY = ("-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL" + secrets.token_hex(16)
            + "\n-----END PRIVATE KEY-----\n")
FAKE_KEY_B64 = base64.b64encode(FAKE_KEY.encode()).decode()
MARKER = "sec-run-marker-visible"


def _kubeconfig(lab, token, with_client_key=True):
    user = {"token": token}
    if with_client_key:
        user["client-key-data"] = FAKE_KEY_B64
    return {"apiVersion": "v1", "kind": "Config", "current-context": "sec",
            "clusters": [{"name": "sec", "cluster": {"server": lab.url, "certificate-authority": lab.ca_cert}}],
            "users": [{"name": "sec", "user": user}],
            "contexts": [{"name": "sec", "context": {"cluster": "sec", "user": "sec"}}]}


def _secret_values(*tokens):
    vals = [t for t in tokens if t]
    vals += [FAKE_KEY_B64, FAKE_KEY_B64[:40], FAKE_KEY.splitlines()[1]]
    return vals


def _run(tmp, tasks, **env):
    log = Path(tmp) / "ansible.log"
    tasks = [{"name": "marker", "ansible.builtin.debug": {"msg": MARKER}}, *tasks]
    p = run_playbook(tmp, [{"name": "secrets", "hosts": "localhost", "gather_facts": False, "tasks": tasks}],
                     args=["-vvv", "--diff"], json_out=False, ANSIBLE_LOG_PATH=str(log),
                     ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", **env)
    text = {"stdout": p.stdout, "stderr": p.stderr, "log": log.read_text() if log.exists() else ""}
    assert MARKER in text["stdout"] and MARKER in text["log"], "the run's output or its log was not captured"
    return p, text


def _leaks(text, values):
    return [f"{value[:12]}... in {where}" for where, t in text.items() for value in values if value in t]


def _sts(lab, ns, **auth):
    return {"name": "web", "namespace": ns, "replicas": 1, "labels": {"app": "web"}, "container_name": "nginx",
            "image": lab.nginx, "image_pull_policy": "IfNotPresent", "ports": [{"name": "web", "container_port": 80}],
            "check_storage_class": False, **auth}


def _provisioner(lab, ns):
    # a provisioner name of its own: the walkthrough's fuseim.pri/ifs may be served already (refused)
    return {"name": f"prov-{ns}", "namespace": ns, "provisioner_name": f"example.com/prov-{ns}",
            "nfs_server": lab.nfs_server, "nfs_path": lab.nfs_dir(ns),
            "image": lab.image("provisioner"), "image_pull_policy": "IfNotPresent", "wait": False}


def test_successful_run_with_api_key_and_kubeconfig_file(lab, ns, tmp_path):
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump(_kubeconfig(lab, lab.token)))
    kc.chmod(0o600)
    tasks = [
        {"name": "provisioner with api_key", "stateful.nfs.nfs_provisioner": {
            "host": lab.url, "ca_cert": lab.ca_cert, "api_key": lab.token, **_provisioner(lab, ns),
            "storage_class_name": f"sc-{ns}"}},
        {"name": "statefulset with a kubeconfig file", "stateful.nfs.statefulset": _sts(lab, ns, kubeconfig=str(kc))},
    ]
    p, text = _run(tmp_path, tasks)
    assert p.returncode == 0, p.stdout[-4000:]
    assert "changed: [localhost]" in text["stdout"] and "+++ after" in text["stdout"], "no diff was printed"
    assert lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/web") is not None
    assert _leaks(text, _secret_values(lab.token)) == []
    lab.http("DELETE", f"/apis/storage.k8s.io/v1/storageclasses/sc-{ns}")
    for kind in ("clusterroles", "clusterrolebindings"):
        for o in lab.items(f"/apis/rbac.authorization.k8s.io/v1/{kind}"):
            if ns in o["metadata"]["name"]:
                lab.http("DELETE", f"/apis/rbac.authorization.k8s.io/v1/{kind}/{o['metadata']['name']}")


def test_api_key_from_the_controller_environment(lab, ns, tmp_path):
    """K8S_AUTH_API_KEY exported before ansible-playbook runs (the way the docs describe)."""
    p, text = _run(tmp_path, [{"name": "info", "stateful.nfs.statefulset_info": {"name": "web", "namespace": ns}}],
                   K8S_AUTH_HOST=lab.url, K8S_AUTH_SSL_CA_CERT=lab.ca_cert, K8S_AUTH_API_KEY=lab.token)
    assert p.returncode == 0, p.stdout[-3000:]
    assert _leaks(text, _secret_values(lab.token)) == []


@pytest.mark.xfail(strict=True, reason="FINDING (ansible-core behaviour, docs): a token passed with the task/play "
                                       "keyword `environment:` is printed by -vvv in the EXEC line "
                                       "(`K8S_AUTH_API_KEY=... python AnsiballZ_...`) and in ANSIBLE_LOG_PATH; "
                                       "not fixable in the modules, the k8s_auth doc fragment (api_key, notes) "
                                       "says to export K8S_AUTH_API_KEY before running instead")
def test_api_key_through_the_environment_keyword(lab, ns, tmp_path):
    p, text = _run(tmp_path, [{"name": "info", "stateful.nfs.statefulset_info": {"name": "web", "namespace": ns},
                               "environment": {"K8S_AUTH_HOST": lab.url, "K8S_AUTH_SSL_CA_CERT": lab.ca_cert,
                                               "K8S_AUTH_API_KEY": lab.token}}])
    assert p.returncode == 0, p.stdout[-3000:]
    assert _leaks(text, _secret_values(lab.token)) == []


def test_failing_runs_with_wrong_tokens(lab, ns, tmp_path):
    wrong_key, wrong_kc_token = "sec-wrong-api-key-" + secrets.token_hex(8), "sec-wrong-kc-" + secrets.token_hex(8)
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump(_kubeconfig(lab, wrong_kc_token)))
    tasks = [
        {"name": "wrong api_key", "stateful.nfs.statefulset": _sts(lab, ns, host=lab.url, ca_cert=lab.ca_cert,
                                                                   api_key=wrong_key),
         "ignore_errors": True, "register": "r1"},
        {"name": "wrong kubeconfig token", "stateful.nfs.statefulset_info": {
            "name": "web", "namespace": ns, "kubeconfig": str(kc)}, "ignore_errors": True, "register": "r2"},
        {"name": "both failed with 401", "ansible.builtin.assert": {
            "that": ["r1 is failed", "r2 is failed", "'401' in r1.msg", "'401' in r2.msg"]}},
    ]
    p, text = _run(tmp_path, tasks)
    assert p.returncode == 0, p.stdout[-4000:]
    assert text["stdout"].count("401") >= 2
    assert _leaks(text, _secret_values(wrong_key, wrong_kc_token, lab.token)) == []


def test_failing_run_without_ignore_errors(lab, ns, tmp_path):
    """A play that stops on the 401 (rc 2): the error path of the callback and the log."""
    wrong_key = "sec-wrong-api-key-" + secrets.token_hex(8)
    p, text = _run(tmp_path, [{"name": "wrong api_key", "stateful.nfs.nfs_provisioner": {
        "host": lab.url, "ca_cert": lab.ca_cert, "api_key": wrong_key, **_provisioner(lab, ns)}}])
    assert p.returncode == 2 and "401" in text["stdout"], p.stdout[-3000:]
    assert _leaks(text, _secret_values(wrong_key, lab.token)) == []


def test_kubeconfig_given_as_a_dict(lab, ns, tmp_path):
    """An inline kubeconfig goes to ``kubeconfig_content`` (no_log) and works; given to the path option
    ``kubeconfig`` (as kubernetes.core allows) it is refused. Neither run prints its token or client key."""
    kc = _kubeconfig(lab, lab.token)
    tasks = [
        {"name": "kubeconfig dict", "stateful.nfs.statefulset_info": {
            "name": "web", "namespace": ns, "kubeconfig_content": kc}, "register": "r1"},
        {"name": "kubeconfig dict given to the path option", "stateful.nfs.statefulset_info": {
            "name": "web", "namespace": ns, "kubeconfig": kc}, "ignore_errors": True, "register": "r2"},
        {"name": "the first worked, the second was refused", "ansible.builtin.assert": {
            "that": ["r1 is succeeded", "r2 is failed", "'kubeconfig_content' in r2.msg"]}},
    ]
    p, text = _run(tmp_path, tasks)
    assert p.returncode == 0, p.stdout[-3000:]
    assert _leaks(text, _secret_values(lab.token)) == []


def test_role_passes_api_key_without_printing_it(lab, ns, tmp_path):
    """k8s_statefulset_nginx maps k8s_statefulset_nginx_api_key onto role statefulset's connection; its mapping
    and role statefulset's StatefulSet step run with -vvv without showing it."""
    role_vars = {"k8s_statefulset_nginx_host": lab.url, "k8s_statefulset_nginx_ca_cert": lab.ca_cert,
                 "k8s_statefulset_nginx_api_key": lab.token,
                 "k8s_statefulset_nginx_namespace": ns, "k8s_statefulset_nginx_provisioner_enabled": False,
                 "k8s_statefulset_nginx_nfs_server": lab.nfs_server,
                 "k8s_statefulset_nginx_nfs_path": lab.nfs_dir(ns),
                 "k8s_statefulset_nginx_replicas": 0, "k8s_statefulset_nginx_wait": False,
                 "k8s_statefulset_nginx_verify": False, "k8s_statefulset_nginx_report": False}
    role_vars["k8s_statefulset_nginx_storage_class"] = f"sc-{ns}"
    lab.create("/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": f"sc-{ns}"},
        "provisioner": "kubernetes.io/no-provisioner"})
    role_dir = REPO_ROOT / "roles" / "k8s_statefulset_nginx"
    # the role hands its variables (the api_key too) to role statefulset, which deploys
    assert "name: stateful.nfs.statefulset\n" in (role_dir / "tasks" / "main.yml").read_text()
    p, text = _run(tmp_path, [{"name": "role", "ansible.builtin.include_role": {
        "name": "stateful.nfs.k8s_statefulset_nginx"}, "vars": role_vars, "tags": ["always"]}])
    assert p.returncode == 0, p.stdout[-3000:]
    assert lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/web") is not None, "the role created no StatefulSet"
    assert _leaks(text, _secret_values(lab.token)) == [], p.stdout[-3000:]
    lab.http("DELETE", f"/apis/storage.k8s.io/v1/storageclasses/sc-{ns}")
