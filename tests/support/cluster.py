"""The cluster tests' view of the lab's Kubernetes API (tests/integration, tests/security,
tests/bad_input): the modules run the way users run them, against the real cluster, and what
they sent is read from the real mechanisms.

* **Identity.** The session's ServiceAccount ``snfs-it-<hex>`` in namespace ``stateful-nfs-lab``
  (bound to ``cluster-admin``, like any operator account; deleted at the end) with a
  TokenRequest token. The API server's audit policy records every request of that namespace's
  service accounts (tests/lab/node/rootfs/etc/kubernetes/audit-policy.yaml), so each request of
  the modules is attributable: "no write was sent" means no create/update/patch/delete/
  deletecollection of that user in the audit log during the run (``writes``,
  ``write_requests()``).
* **Fault proxy.** The modules reach the API through mitmproxy in reverse mode
  (tests/support/faultproxy.py), which injects 429/5xx answers and dropped connections by rule
  and counts what passed: requests by method, answers by status (401s included).
* **The harness itself** (``http``/``get``/``items``/``create``) talks to the API server
  directly as the lab's admin (kubeadm's ``kubernetes-admin``), never as the test identity.
* **Storage.** The session's directory on the lab's NFS export, ``/srv/nfs/<session>``, holds
  the directories of the static PersistentVolumes and of the provisioner (``nfs_dir``).

Names: namespaces ``snfs-it-<hex>`` (random, labelled with the session), and every
cluster-scoped object a test creates carries its namespace's name; ``ns`` removes both after the
test, the session waits (bounded) for them to be gone. A session that was killed leaves its
objects behind: the next session removes those of sessions whose token has expired (no such
session can still be running). Every wait and subprocess is bounded.
"""
from __future__ import annotations

import base64
import importlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import yaml

from tests.support.faultproxy import FaultProxy
from tests.support.lab import EXPORT_DIR, NFS_HOST, REVIEW_RESOURCES, Lab, LabNotUp, dexec, ensure_nfs_server, is_write
from tests.support.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / ".collections"
PYTHON = sys.executable
ANSIBLE_PLAYBOOK = str(Path(PYTHON).with_name("ansible-playbook"))
PLAYBOOK_TIMEOUT = 240  # seconds, per ansible-playbook run (the longest module wait used is 90 s)
PREFIX = "snfs-it-"
IDENTITY_NAMESPACE = "stateful-nfs-lab"  # its service accounts are in the audit policy
TOKEN_SECONDS = 4 * 3600  # the session's token; longer than any session (make cluster-test: 40 min)
CLEANUP_TIMEOUT = 240  # seconds for the session's namespaces and volumes to be gone
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
VERB_METHOD = {"create": "POST", "update": "PUT", "patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETE",
               "get": "GET", "list": "GET", "watch": "GET"}
# Cluster-scoped kinds the modules and tests create; a test's objects carry its namespace's name.
CLUSTER_SCOPED = ("/apis/storage.k8s.io/v1/storageclasses", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                  "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "/api/v1/persistentvolumes")


def random_name(prefix: str = PREFIX) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


class LabApi:
    """The lab's API for one test session: admin access for the harness, the test identity and
    the fault proxy for the modules, the audit log for what they sent."""

    def __init__(self, lab: Lab, workdir: Path):
        self.lab = lab
        self.workdir = workdir
        self.session = random_name()
        self.sa = self.session
        self.username = f"system:serviceaccount:{IDENTITY_NAMESPACE}:{self.sa}"
        self.namespaces: list[str] = []
        self.proxy: FaultProxy | None = None
        self._mark = None
        admin = yaml.safe_load(lab.kubeconfig.read_text())
        context = next(c["context"] for c in admin["contexts"] if c["name"] == admin["current-context"])
        cluster = next(c["cluster"] for c in admin["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in admin["users"] if u["name"] == context["user"])
        self.api_url = cluster["server"].rstrip("/")
        self.lab_ca = self._secret_file("lab-ca.crt", base64.b64decode(cluster["certificate-authority-data"]))
        self._admin_cert = (self._secret_file("admin.crt", base64.b64decode(user["client-certificate-data"])),
                            self._secret_file("admin.key", base64.b64decode(user["client-key-data"])))
        self._http = requests.Session()
        self._http.trust_env = False  # only the lab's CA, no proxy from the environment
        self._http.verify = self.lab_ca
        self.token = ""
        self.kubeconfig = ""
        self.url = ""
        self.ca_cert = ""
        self.nfs_server = ""

    def _secret_file(self, name: str, data: bytes) -> str:
        path = self.workdir / name
        path.touch(mode=0o600)
        path.write_bytes(data)
        return str(path)

    # ------------------------------------------------------------------ set-up / tear-down
    def start(self) -> LabApi:
        self.sweep_expired_sessions()
        self.nfs_server, _ = ensure_nfs_server()
        dexec(NFS_HOST, "mkdir", "-p", self.nfs_dir_path())
        if self.get(f"/api/v1/namespaces/{IDENTITY_NAMESPACE}") is None:
            # Shared by every test session (the audit policy names it): created once, never deleted.
            code, body = self.http("POST", "/api/v1/namespaces", {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": IDENTITY_NAMESPACE, "labels": {"io.stateful-nfs.lab": "1"}}})
            assert code in (201, 409), body
        self.create(f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/serviceaccounts", {
            "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": self.sa}})
        self.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": self.sa},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": self.sa, "namespace": IDENTITY_NAMESPACE}]})
        answer = self.create(f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/serviceaccounts/{self.sa}/token", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": TOKEN_SECONDS}})
        self.token = answer["status"]["token"]
        self.proxy = FaultProxy(self.api_url, Path(self.lab_ca), self.workdir / "faultproxy").start()
        self.url, self.ca_cert = self.proxy.url, str(self.proxy.ca_cert)
        self.kubeconfig = self._secret_file("kubeconfig", yaml.safe_dump(self.kubeconfig_for(self.url, self.token)).encode())
        self.reset_stats()
        return self

    def kubeconfig_for(self, server: str, token: str) -> dict:
        """A kubeconfig of the test identity (``token``) for ``server`` behind the proxy (its CA)."""
        return {"apiVersion": "v1", "kind": "Config", "current-context": "lab",
                "clusters": [{"name": "lab", "cluster": {"server": server, "certificate-authority": self.ca_cert}}],
                "users": [{"name": self.sa, "user": {"token": token}}],
                "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": self.sa}}]}

    def close(self) -> None:
        """Stop the proxy; wait for the session's namespaces and volumes to be gone; remove the
        NFS directory and the identity. Raises AssertionError naming what is left."""
        if self.proxy is not None:
            self.proxy.stop()
        left = []
        try:
            wait_for("the session's namespaces to be deleted",
                     lambda: not [n for n in self.namespaces if self.get(f"/api/v1/namespaces/{n}")],
                     timeout=CLEANUP_TIMEOUT, interval=2)
            self.sweep_cluster_scoped(self.session)
            for n in self.namespaces:
                self.sweep_cluster_scoped(n)
            wait_for("the session's PersistentVolumes to be deleted", lambda: not self.session_volumes(),
                     timeout=60, interval=1)
        except AssertionError as exc:
            left.append(str(exc))
        finally:
            dexec(NFS_HOST, "rm", "-rf", "--one-file-system", self.nfs_dir_path(), check=False)
            self.http("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{self.sa}")
            self.http("DELETE", f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/serviceaccounts/{self.sa}")
            self._http.close()
        assert not left, left

    def sweep_expired_sessions(self) -> None:
        """Remove what killed sessions left: their namespaces (and the cluster-scoped objects
        named after them), NFS directories, ServiceAccounts and bindings. Only sessions whose
        ServiceAccount is older than a token's lifetime: their tokens no longer work."""
        if self.get(f"/api/v1/namespaces/{IDENTITY_NAMESPACE}") is None:
            return
        now = datetime.now(UTC)
        for sa in self.items(f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/serviceaccounts"):
            name = sa["metadata"]["name"]
            created = datetime.fromisoformat(sa["metadata"]["creationTimestamp"])
            if not re.fullmatch(r"snfs-it-[0-9a-f]{8}", name) or (now - created).total_seconds() < TOKEN_SECONDS:
                continue
            for namespace in self.items("/api/v1/namespaces", f"io.stateful-nfs.test-session={name}"):
                self.drop_namespace(namespace["metadata"]["name"])
            dexec(NFS_HOST, "rm", "-rf", "--one-file-system", f"{EXPORT_DIR}/{name}", check=False)
            self.http("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}")
            self.http("DELETE", f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/serviceaccounts/{name}")

    def session_volumes(self) -> list[str]:
        return [pv["metadata"]["name"] for pv in self.items("/api/v1/persistentvolumes")
                if any(n in pv["metadata"]["name"] for n in [*self.namespaces, self.session])]

    def sweep_cluster_scoped(self, name: str) -> None:
        """Delete the cluster-scoped objects whose names carry ``name`` (a test namespace)."""
        for path in CLUSTER_SCOPED:
            for obj in self.items(path):
                if name in obj["metadata"]["name"]:
                    self.http("DELETE", f"{path}/{obj['metadata']['name']}")

    def new_namespace(self) -> str:
        name = random_name()
        self.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": name, "labels": {"io.stateful-nfs.test-session": self.session}}})
        self.namespaces.append(name)
        return name

    def drop_namespace(self, name: str) -> None:
        """Delete a test's namespace and its cluster-scoped objects; the session waits for them."""
        self.sweep_cluster_scoped(name)
        self.http("DELETE", f"/api/v1/namespaces/{name}")

    # ------------------------------------------------------------------ NFS export
    def nfs_dir_path(self, name: str = "") -> str:
        assert re.fullmatch(r"[a-z0-9-]*", name) and re.fullmatch(r"snfs-it-[0-9a-f]{8}", self.session), name
        return f"{EXPORT_DIR}/{self.session}" + (f"/{name}" if name else "")

    def nfs_dir(self, name: str) -> str:
        """A directory on the lab's export (created on the NFS server): its path as PVs name it."""
        path = self.nfs_dir_path(name)
        dexec(NFS_HOST, "mkdir", "-p", path)
        return path

    # ------------------------------------------------------------------ images
    @property
    def nginx(self) -> str:
        return self.lab.images["nginx"]

    @property
    def nginx_upgrade(self) -> str:
        """A second nginx image the nodes hold (Debian 13's), for template changes that are real
        new revisions with pods that really start."""
        return self.lab.images["nginx_upgrade"]

    def image(self, name: str) -> str:
        return self.lab.images[name]

    # ------------------------------------------------------------------ raw HTTP (as the admin)
    def http(self, method, path, body=None, token=None, ctype="application/json", timeout=30):
        """One request to the API server: as the lab's admin, or with the bearer ``token``.
        Returns (status, decoded JSON body or text)."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = ctype
        answer = self._http.request(method, self.api_url + path, headers=headers, timeout=timeout,
                                    data=None if body is None else json.dumps(body),
                                    cert=None if token else self._admin_cert)
        text = answer.text
        return answer.status_code, (json.loads(text) if text.strip().startswith("{") else text)

    def get(self, path):
        """The object at ``path`` or None on 404 (anything else fails the test)."""
        code, body = self.http("GET", path)
        if code == 404:
            return None
        assert code == 200, (path, code, body)
        return body

    def items(self, path, selector=None):
        code, body = self.http("GET", path + (f"?labelSelector={selector}" if selector else ""))
        assert code == 200, (path, code, body)
        return sorted(body["items"], key=lambda o: o["metadata"]["name"])

    def create(self, path, obj):
        code, body = self.http("POST", path, obj)
        assert code == 201, (path, code, body)
        return body

    # ------------------------------------------------------------------ what the modules sent
    def reset_stats(self) -> None:
        """Start counting: the proxy's counters to zero, the audit log's current end remembered."""
        self.proxy.reset_stats()
        self._mark = self.lab.audit_mark()

    def identity_events(self) -> list[dict]:
        """Audit events of the test identity since ``reset_stats`` (one per request). A fence
        request of the identity is sent first and awaited in the log, so every request that
        was answered before is in it too."""
        fence = f"audit-fence-{uuid.uuid4().hex}"
        code, _ = self.http("GET", f"/api/v1/namespaces/{IDENTITY_NAMESPACE}/configmaps/{fence}", token=self.token)
        assert code == 404, code
        seen: dict[str, dict] = {}

        def fenced():
            for event in self.lab.audit_events(self._mark):
                if (event.get("user") or {}).get("username") == self.username:
                    seen[event["auditID"]] = event
            return any(fence in e.get("requestURI", "") for e in seen.values())
        wait_for(f"the audit log to record {fence}", fenced, timeout=15, interval=0.2)
        return [e for e in seen.values() if "/configmaps/audit-fence-" not in e.get("requestURI", "")]

    def stats(self) -> dict:
        """What reached the API since ``reset_stats``:

        * ``requests``, ``by_method``, ``by_status``, ``unauthorized`` (401 answers),
          ``faults_fired``: seen by the fault proxy (every request of the modules passes it);
        * ``writes`` / ``dry_run_writes``: write requests of the test identity in the audit log,
          real ones / dry runs (``dryRun=All`` as kube-apiserver reads it, told by the proxy,
          which sees the request body); ``audit_requests``, ``by_verb``, ``user_agents``: all of its
          requests.
        """
        proxy = self.proxy.stats()
        events = self.identity_events()
        sent: dict[tuple[str, str], list[bool]] = {}
        for w in proxy["writes"]:
            sent.setdefault((w["method"], w["path"]), []).append(w["dry_run"])
        writes, dry = [], []
        for e in (e for e in events if is_write(e)):
            flags = sent.get((VERB_METHOD[e["verb"]], e["requestURI"]))
            # not through the proxy: only the URL tells (a DELETE's body may say otherwise)
            is_dry = flags.pop(0) if flags else ("dryRun=All" in e["requestURI"] and e["verb"] in ("create", "update", "patch"))
            (dry if is_dry else writes).append(f"{e['verb']} {e['requestURI']} -> {(e.get('responseStatus') or {}).get('code')}")
        return {"requests": proxy["requests"], "by_method": proxy["by_method"], "by_status": proxy["by_status"],
                "unauthorized": proxy["by_status"].get("401", 0), "faults_fired": proxy["faults_fired"],
                "audit_requests": len(events), "by_verb": dict(Counter(e["verb"] for e in events)),
                "user_agents": sorted({e.get("userAgent", "") for e in events}),
                "writes": len(writes), "dry_run_writes": len(dry), "write_events": writes,
                "reviews": sum(1 for e in events if (e.get("objectRef") or {}).get("resource") in REVIEW_RESOURCES)}

    def write_requests(self) -> dict:
        """Write requests (by HTTP method, dry runs included) since ``reset_stats``: sent through the
        proxy (whatever the answer) or recorded for the test identity in the audit log."""
        proxy = self.proxy.stats()["by_method"]
        recorded = Counter(VERB_METHOD[e["verb"]] for e in self.identity_events() if is_write(e))
        both = {m: max(proxy.get(m, 0), recorded.get(m, 0)) for m in WRITE_METHODS}
        return {m: n for m, n in both.items() if n}

    # ------------------------------------------------------------------ faults (the proxy's)
    def add_fault(self, **rule):
        return self.proxy.add_fault(**rule)

    def faults(self):
        return self.proxy.faults()

    def clear_faults(self):
        self.proxy.clear_faults()


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """The lab's API for this session (fails, with the way out, when the lab is not up)."""
    try:
        base = Lab.require()
    except LabNotUp as exc:
        pytest.fail(str(exc))
    api = LabApi(base, tmp_path_factory.mktemp("lab-api"))
    ready = [n["metadata"]["name"] for n in api.items("/api/v1/nodes")
             if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])]
    if len(ready) < 3:
        pytest.fail(f"the lab has {len(ready)} Ready nodes ({ready}); run `make lab-up`")
    try:
        yield api.start()
    finally:
        api.close()


@pytest.fixture(autouse=True)
def _clean_faults(request):
    """No injected fault outlives the test that set it."""
    yield
    if "lab" in request.fixturenames and isinstance(request.getfixturevalue("lab"), LabApi):
        request.getfixturevalue("lab").clear_faults()


@pytest.fixture
def ns(lab):
    """A fresh namespace per test; cluster-scoped objects a test creates carry its name."""
    name = lab.new_namespace()
    yield name
    lab.drop_namespace(name)


# ---------------------------------------------------------------------- running modules
class ModuleRunner:
    """Runs ``stateful.nfs.<module>`` with the test identity's kubeconfig (through the proxy):

    * ``via="playbook"``: ``ansible-playbook`` in a subprocess against localhost, with
      ``K8S_AUTH_KUBECONFIG`` and the ``ansible.builtin.json`` stdout callback, whose task
      result is returned;
    * ``via="inproc"``: the module's ``main()`` in-process (same arguments, same
      ``K8S_AUTH_KUBECONFIG``), for the slower multi-step scenarios; it still talks HTTPS to the
      API through the official ``kubernetes`` client.
    """

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

