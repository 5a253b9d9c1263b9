"""Module tests over HTTP against the lab cluster TEST DOUBLE (tests/k8s_test_double).

One test double per session runs in a thread of the pytest process, on a free loopback
port, with its state dir and kubeconfig in a temp dir (no DNS, nothing persisted). The
modules are run the way users run them:

* ``via="playbook"``: ``ansible-playbook`` in a subprocess against localhost, with
  ``K8S_AUTH_KUBECONFIG`` pointing at the double's kubeconfig and the
  ``ansible.builtin.json`` stdout callback, whose task result is returned;
* ``via="inproc"``: the module's ``main()`` in-process (same arguments, same
  ``K8S_AUTH_KUBECONFIG``), for the slower multi-step scenarios; it still talks HTTP to
  the double through the official ``kubernetes`` client.

What the double saw is read from its control endpoints (``/_test_double/stats``,
``/_test_double/faults``), so "no write was sent" is checked on the server side.
Every wait is bounded; every subprocess has a timeout.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.k8s_test_double.double import Config, TestDouble

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / ".collections"
PYTHON = sys.executable
ANSIBLE_PLAYBOOK = str(Path(PYTHON).with_name("ansible-playbook"))
PLAYBOOK_TIMEOUT = 150  # seconds, per ansible-playbook run (the longest module wait used is 20 s)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Short controller delays so the suite stays fast; the ordering guarantees do not depend on them.
DOUBLE_CONFIG = {"host": "127.0.0.1", "port": 0, "dns_port": None, "pod_ready_delay": 0.25,
                 "pod_termination_delay": 0.2, "tick": 0.02, "provision_retry": 0.5, "nfs_timeout": 1.0,
                 "persist": False, "quiet": True, "check_nfs_mounts": False}


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll ``pred`` until it returns something truthy; bounded by ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Lab:
    """The running double, seen from the outside: plain HTTP with its bearer token."""

    def __init__(self, double, kubeconfig, state_dir):
        self.double = double
        self.url = double.url
        self.token = double.token
        self.kubeconfig = str(kubeconfig)
        self.state_dir = str(state_dir)

    # ------------------------------------------------------------------ raw HTTP
    def http(self, method, path, body=None, token="__default__", ctype="application/json", timeout=10):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        token = self.token if token == "__default__" else token
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw.strip().startswith(b"{") else raw.decode())
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, (json.loads(raw) if raw.strip().startswith(b"{") else raw.decode())

    def get(self, path):
        """The object at ``path`` or None on 404 (anything else fails the test)."""
        code, body = self.http("GET", path)
        if code == 404:
            return None
        assert code == 200, (path, code, body)
        return body

    def items(self, path, selector=None):
        q = f"?labelSelector={urllib.request.quote(selector)}" if selector else ""
        code, body = self.http("GET", path + q)
        assert code == 200, (path, code, body)
        return sorted(body["items"], key=lambda o: o["metadata"]["name"])

    def create(self, path, obj):
        code, body = self.http("POST", path, obj)
        assert code == 201, (path, code, body)
        return body

    # ------------------------------------------------------------------ control endpoints
    def stats(self):
        code, body = self.http("GET", "/_test_double/stats")
        assert code == 200, body
        return body

    def reset_stats(self):
        code, body = self.http("POST", "/_test_double/stats/reset")
        assert code == 200, body

    def add_fault(self, **rule):
        code, body = self.http("POST", "/_test_double/faults", rule)
        assert code == 201, body
        return body

    def faults(self):
        code, body = self.http("GET", "/_test_double/faults")
        assert code == 200, body
        return body["faults"]

    def clear_faults(self):
        code, body = self.http("DELETE", "/_test_double/faults")
        assert code == 200, body

    def write_requests(self):
        """How many write requests (any method that changes state) reached the API since the last reset."""
        by_method = self.stats()["by_method"]
        return {m: by_method[m] for m in WRITE_METHODS if by_method.get(m)}


def _start_double(tmp_dir, **over):
    state_dir, kubeconfig = tmp_dir / "state", tmp_dir / "kubeconfig"
    cfg = Config(**{**DOUBLE_CONFIG, "state_dir": str(state_dir), "kubeconfig": str(kubeconfig), **over})
    d = TestDouble(cfg).start_in_thread(timeout=15)
    assert d.url.startswith("http://127.0.0.1:"), d.url
    # the double wrote a kubeconfig the official client can use; check it names its server
    kc = yaml.safe_load(kubeconfig.read_text())
    assert kc["clusters"][0]["cluster"]["server"] == d.url
    return Lab(d, kubeconfig, state_dir)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    lab = _start_double(tmp_path_factory.mktemp("integ-double"))
    yield lab
    lab.double.stop(timeout=10)
    assert not lab.double.thread.is_alive(), "test double thread did not stop within 10 s"


@pytest.fixture(autouse=True)
def _clean_faults(request):
    """No injected fault outlives the test that set it."""
    yield
    if "lab" in request.fixturenames:
        request.getfixturevalue("lab").clear_faults()


@pytest.fixture
def ns(lab):
    """A fresh namespace per test (names of cluster-scoped objects a test creates carry it too)."""
    name = f"it-{uuid.uuid4().hex[:8]}"
    lab.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    lab.http("DELETE", f"/api/v1/namespaces/{name}")


# ---------------------------------------------------------------------- running modules
class ModuleRunner:
    def __init__(self, lab, tmp_path, capsys, monkeypatch):
        self.lab = lab
        self.tmp = tmp_path
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.count = 0

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "ANSIBLE_", "KUBECONFIG"))}
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCAL_TEMP": str(self.tmp / "ansible-tmp"),
            "K8S_AUTH_KUBECONFIG": self.lab.kubeconfig,
            "HOME": os.environ.get("HOME", str(self.tmp)),
        })
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def __call__(self, module, args, check=False, diff=False, via="playbook", env=None):
        """Run ``stateful.nfs.<module>`` with ``args``; returns the task result (``failed`` set on failure)."""
        if via == "playbook":
            return self.playbook(module, args, check=check, diff=diff, env=env or {})
        assert via == "inproc", via
        return self.inproc(module, args, check=check, diff=diff, env=env or {})

    def playbook(self, module, args, check, diff, env):
        self.count += 1
        play = [{"name": "integ", "hosts": "localhost", "gather_facts": False,
                 "tasks": [{"name": f"run {module}", f"stateful.nfs.{module}": args}]}]
        path = self.tmp / f"play-{self.count}.yml"
        path.write_text(json.dumps(play))  # JSON is YAML
        cmd = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", "-e",
               json.dumps({"ansible_python_interpreter": PYTHON}), str(path)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        p = subprocess.run(cmd, cwd=self.tmp, env=self.env(**env), capture_output=True, text=True,
                           timeout=PLAYBOOK_TIMEOUT, check=False)
        try:
            out = json.loads(p.stdout)
            res = out["plays"][0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError) as exc:
            raise AssertionError(f"ansible-playbook gave no JSON result ({exc!r}); rc={p.returncode}\n"
                                 f"stdout:\n{p.stdout[-4000:]}\nstderr:\n{p.stderr[-4000:]}") from None
        # the playbook's exit status agrees with the task result
        assert (p.returncode == 0) == (not res.get("failed")), (p.returncode, res.get("msg"))
        return res

    def inproc(self, module, args, check, diff, env):
        import importlib

        from ansible.module_utils.testing import patch_module_args
        mod = importlib.import_module(f"ansible_collections.stateful.nfs.plugins.modules.{module}")
        a = dict(args)
        a["_ansible_check_mode"] = bool(check)
        a["_ansible_diff"] = bool(diff)
        with self.monkeypatch.context() as m:
            for k in [k for k in os.environ if k.startswith("K8S_AUTH_")]:
                m.delenv(k)
            m.setenv("K8S_AUTH_KUBECONFIG", self.lab.kubeconfig)
            for k, v in env.items():
                if v is None:
                    m.delenv(k, raising=False)
                else:
                    m.setenv(k, v)
            self.capsys.readouterr()
            with patch_module_args(a):
                try:
                    mod.main()
                except SystemExit:
                    pass
            out = self.capsys.readouterr().out
        return json.loads(out)


@pytest.fixture
def run(lab, tmp_path, capsys, monkeypatch):
    return ModuleRunner(lab, tmp_path, capsys, monkeypatch)


# ---------------------------------------------------------------------- object helpers
def static_storage(lab, ns, count, size="1Gi", nfs=True):
    """A StorageClass (no provisioner runs for it) and ``count`` Available PVs of that class, so the
    double's binder binds the StatefulSet's PVCs statically and its pods can start. Returns the class name."""
    sc = f"static-{ns}"
    lab.create("/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": sc},
        "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate"})
    for i in range(count):
        spec = {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "storageClassName": sc,
                "persistentVolumeReclaimPolicy": "Retain"}
        if nfs:
            spec["nfs"] = {"server": "192.0.2.20", "path": f"/srv/nfs/{ns}-{i}"}
        else:
            spec["hostPath"] = {"path": f"/tmp/{ns}-{i}"}
        lab.create("/api/v1/persistentvolumes", {"apiVersion": "v1", "kind": "PersistentVolume",
                                                 "metadata": {"name": f"pv-{ns}-{i}"}, "spec": spec})
    return sc


def sts_args(ns, name="web", replicas=3, image="nginx:1.27", **over):
    a = {"name": name, "namespace": ns, "replicas": replicas, "labels": {"app": name},
         "container_name": "nginx", "image": image, "ports": [{"name": "web", "container_port": 80}]}
    a.update(over)
    return a


def vct(sc, size="1Gi", name="data"):
    return [{"name": name, "storage_class_name": sc, "access_modes": ["ReadWriteOnce"], "size": size,
             "mount_path": "/usr/share/nginx/html"}]


def pods_of(lab, ns, name="web"):
    return lab.items(f"/api/v1/namespaces/{ns}/pods", f"app={name}")


def is_ready(pod):
    st = pod.get("status") or {}
    return st.get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True" for c in st.get("conditions") or [])


def image_of(pod):
    return pod["spec"]["containers"][0]["image"]
