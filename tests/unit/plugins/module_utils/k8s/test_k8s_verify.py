"""The proof's pieces that need no cluster: the program each pod runs (run here under the local
sh and bash; the cluster tests run it in the lab's Debian and busybox images), the parsing of
its output and of resolver answers, marker plans and the verification module's input rules."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import markers, validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import verify as v
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError

SHELLS = [s for s in (shutil.which("sh"), shutil.which("bash")) if s]


def verify_params(params):
    """The module's parameters as its entry makes them: the argument spec, then the module's rules."""
    checked = ArgumentSpecValidator(validation.VERIFY_OPTIONS).validate(params)
    assert not checked.error_messages, checked.error_messages
    return validation.validate_verify_params(checked.validated_parameters)


def run_program(shell, args):
    done = subprocess.run([shell, "-c", v.POD_PROGRAM, "stateful-nfs-verify", *args],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return v.parse_program_output(done.stdout)


@pytest.mark.parametrize("shell", SHELLS)
def test_the_pod_program_writes_reads_and_reports_each_marker(shell, tmp_path):
    own, other, ro = tmp_path / "own", tmp_path / "other", tmp_path / "ro"
    other.write_text("stateful.nfs ns/web-0 data-web-0\n")
    ro.write_text("stateful.nfs ns/web-1 data-web-1\n")
    out = run_program(shell, ["1", "localhost",
                              str(own), "stateful.nfs ns/web-1 data-web-1", "write",
                              str(other), "stateful.nfs ns/web-1 data-web-1", "read",
                              str(ro), "stateful.nfs ns/web-1 data-web-1", "read",
                              str(tmp_path / "missing-dir" / "m"), "x", "write"])
    assert out["hostname"] == Path("/proc/sys/kernel/hostname").read_text().strip()
    assert "127.0.0.1" in v.addresses_in(out["dns"]["localhost"]) or "::1" in v.addresses_in(out["dns"]["localhost"])
    assert {i: out["markers"][i] for i in range(3)} == {
        0: ("written", ""), 1: ("differs", "stateful.nfs ns/web-0 data-web-0"),
        2: ("unchanged", "stateful.nfs ns/web-1 data-web-1")}
    # the shell's own words on a failed write are kept (ESTALE shows as "Stale file handle")
    state, said = out["markers"][3]
    assert state == "write-error" and "missing-dir/m" in said, said
    assert "No such file or directory" in said or "Directory nonexistent" in said, said  # bash / dash
    assert own.read_text() == "stateful.nfs ns/web-1 data-web-1\n"
    assert other.read_text() == "stateful.nfs ns/web-0 data-web-0\n"  # read mode never writes
    again = run_program(shell, ["0", str(own), "stateful.nfs ns/web-1 data-web-1", "check"])
    assert again["markers"] == {0: ("unchanged", "stateful.nfs ns/web-1 data-web-1")} and again["dns"] == {}


def test_resolver_answers_are_read_as_addresses():
    getent = "10.244.1.5      STREAM web-0.web.default.svc.cluster.local 10.244.1.5      DGRAM   10.244.1.5      RAW  "
    assert v.addresses_in(getent) == ["10.244.1.5"]
    nslookup = ("Server:         10.96.0.10 Address:        10.96.0.10#53  Name:   web.default.svc.cluster.local"
                " Address: 10.244.2.3 Name:   web.default.svc.cluster.local Address: 10.244.1.5 ")
    assert v.addresses_in(nslookup) == ["10.244.1.5", "10.244.2.3"]
    assert v.addresses_in("Server: 10.96.0.10 Address 1: 10.96.0.10 ** server can't find x: NXDOMAIN") == []
    assert v.addresses_in("fd00::5 STREAM x") == ["fd00::5"]


def test_markers_are_planned_per_mounted_claim_template_with_their_nfs_place():
    sts = {"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}, {"metadata": {"name": "logs"}}],
                    "template": {"spec": {"containers": [{"name": "db", "volumeMounts": [
                        {"name": "data", "mountPath": "/var/lib/db/", "subPath": "pgdata"},
                        {"name": "logs", "mountPath": "/logs", "readOnly": True},
                        {"name": "config", "mountPath": "/etc/db"}]}]}}}}
    assert markers.claim_mounts(sts, "db") == [("data", "/var/lib/db/", "pgdata", False), ("logs", "/logs", "", True)]
    row = {"name": "db-0", "volumes": [
        {"template": "data", "pvc": "data-db-0", "pv": "pv-a", "nfs_server": "192.0.2.20", "nfs_path": "/srv/k8s/a/"},
        {"template": "logs", "pvc": "logs-db-0", "pv": "pv-b", "nfs_server": None, "nfs_path": None}]}
    p = verify_params({"name": "db", "namespace": "ns"})
    proof = v.Proof(None, p, False)
    planned = proof.plan_markers(sts, [row], "db")["db-0"]
    assert [(m["path"], m["line"], m["read_only"], m["nfs_path"]) for m in planned] == [
        ("/var/lib/db/.stateful-nfs-verify", "stateful.nfs ns/db-0 data-db-0", False,
         "/srv/k8s/a/pgdata/.stateful-nfs-verify"),
        ("/logs/.stateful-nfs-verify", "stateful.nfs ns/db-0 logs-db-0", True, None)]
    off = verify_params({"name": "db", "storage_marker": {"enabled": False}})
    assert v.Proof(None, off, False).plan_markers(sts, [row], "db") == {"db-0": []}


def test_patterns_stand_for_the_pod_by_name():
    assert v.pod_pattern("^{pod} serves", "web-1").search("web-1 serves from NFS")
    assert not v.pod_pattern("^{pod} serves", "web-1").search("web-10 serves")  # "web-1" then " serves"
    assert not v.pod_pattern("^{pod}$", "a.b").search("axb")  # the name is escaped


@pytest.mark.parametrize(("params", "message"), [
    ({"app_check": {"exec": {"command": ["redis-cli", "ping"], "stdout": "PONG("}}},
     "app_check.exec.stdout: 'PONG(' is not a regular expression"),
    ({"app_check": {"http_get": {"port": 80, "body": "[a"}}}, "app_check.http_get.body: '[a' is not a regular"),
    ({"app_check": {"http_get": {"port": 80, "path": "x"}}}, "app_check.http_get.path: 'x' must be an absolute URL path"),
    ({"app_check": {"http_get": {"port": "Web_1"}}}, "app_check.http_get.port: 'Web_1' is not a valid DNS-1035"),
    ({"app_check": {"exec": {"command": []}}}, "app_check.exec.command: must be a non-empty list"),
    ({"storage_marker": {"file": "a/b"}}, "storage_marker.file: 'a/b' must be a file name"),
    ({"container": "Web"}, "container: 'Web' is not a valid DNS-1123 label"),
    ({"dns_timeout": -1}, "dns_timeout: must be >= 0"),
])
def test_verify_input_is_refused_naming_the_option(params, message):
    with pytest.raises(InputError) as err:
        verify_params(dict({"name": "web"}, **params))
    assert str(err.value).startswith(message)


def test_the_filter_applies_the_verify_argument_spec_too():
    from ansible_collections.stateful.nfs.plugins.filter.k8s_input_problems import k8s_input_problems
    assert k8s_input_problems({"name": "web", "app_check": {"http_get": {"port": 80}, "exec": {"command": ["x"]}}},
                              "statefulset_verify") == [
        "statefulset_verify: parameters are mutually exclusive: http_get|exec found in app_check"]
    assert k8s_input_problems({"name": "web", "app_check": {"http_get": {"port": 80, "path": "/"}}},
                              "statefulset_verify") == []


def test_stale_handles_come_first_in_the_failure_with_the_way_out():
    checks = [{"pod": "web-0", "check": "storage", "status": "pass", "detail": "own line"},
              {"pod": "web-1", "check": "storage", "status": "fail",
               "detail": "/usr/share/nginx/html/index.html: write-error: sh: 1: cannot create"
                         " /usr/share/nginx/html/index.html: Stale file handle"}]
    advice = v.stale_handle_advice(checks)
    assert advice.startswith("Stale NFS file handle in web-1: the NFS server no longer knows")
    assert "delete those pods" in advice and v.stale_handle_advice(checks[:1]) == ""


class _ExecOnly:
    """Answers one exec with the given output (the app check's command)."""

    def __init__(self, rc, stdout, stderr):
        self.answer = {"rc": rc, "stdout": stdout, "stderr": stderr, "error": None}

    def exec(self, namespace, pod, command, container=None, timeout=30):
        return dict(self.answer)


def test_app_check_stdout_pattern_sees_stdout_only_and_the_failure_shows_stderr():
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.verify import Proof
    spec = {"command": ["etcdctl", "endpoint", "health"], "rc": 0, "stdout": "is healthy"}
    proof = Proof(_ExecOnly(0, "", "127.0.0.1:2379 is healthy: took 2ms\n"), {"namespace": "ns", "exec_timeout": 5}, False)
    proof.observed["etcd-0"] = {}
    got = proof._exec_check("etcd-0", spec)
    assert got["status"] == "fail"
    assert "output '' does not match 'is healthy' (stderr, not matched: '127.0.0.1:2379 is healthy: took 2ms')" in got["detail"]
    proof = Proof(_ExecOnly(0, "127.0.0.1:2379 is healthy\n", ""), {"namespace": "ns", "exec_timeout": 5}, False)
    proof.observed["etcd-0"] = {}
    assert proof._exec_check("etcd-0", spec)["status"] == "pass"
