"""Fixtures and helpers of the faults scenario's verify suite (run by verify.yml).

Every test drives real ansible-playbook runs (site.yml with stage tags, or one module)
against the scenario (NFS-Ganesha container, one node container, the lab cluster test
double), injects one fault, and asserts on the run's JSON output (callback
ansible.posix.json), the test double's API and bytes read THROUGH NFS (libnfs nfs-cat in
the node container). Each test removes the StatefulSet it created (own name each).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK_TIMEOUT = 300
DOCKER = "/usr/bin/docker"
NAMESPACE = "default"
TEMPLATE = "data"


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this suite through `molecule verify -s faults`")
    return value


class Run:
    """One ansible-playbook run: rc, the JSON callback's document, wall time."""

    def __init__(self, rc: int, stdout: str, stderr: str, seconds: float, argv: list[str]):
        self.rc, self.seconds, self.argv, self.stderr = rc, seconds, argv, stderr
        try:
            self.doc = json.loads(stdout)
        except json.JSONDecodeError:
            self.doc = {"plays": [], "stats": {}, "raw": stdout[-4000:]}

    def failure(self) -> str:
        """Every failed task's message, else the raw tail."""
        out = [f"{task['task']['name']} on {host}: {res.get('msg')}"
               for play in self.doc.get("plays", []) for task in play.get("tasks", [])
               for host, res in task["hosts"].items() if res.get("failed") or res.get("unreachable")]
        return "\n".join(out) or (str(self.doc.get("raw", ""))[-2000:] + self.stderr[-2000:])

    def results(self, task_name: str) -> dict:
        """{host: result} of every task with this name, role prefix or not (last wins)."""
        found: dict = {}
        for play in self.doc.get("plays", []):
            for task in play.get("tasks", []):
                name = task["task"]["name"]
                if name == task_name or name.endswith(" : " + task_name):
                    found.update(task["hosts"])
        return found

    def changed(self) -> dict:
        return {h: s.get("changed", 0) for h, s in self.doc.get("stats", {}).items()}

    def changed_tasks(self) -> list[str]:
        return [f"{task['task']['name']} on {host}"
                for play in self.doc.get("plays", []) for task in play.get("tasks", [])
                for host, res in task["hosts"].items() if res.get("changed")]


def names(sts: str, **more) -> dict:
    """Role variables for a StatefulSet of its own (Service, labels, claim template)."""
    return {"k8s_statefulset_nginx_name": sts, "k8s_statefulset_nginx_service_name": sts,
            "k8s_statefulset_nginx_labels": {"app": sts},
            "k8s_statefulset_nginx_volume_claim_template": TEMPLATE, **more}


@pytest.fixture(scope="session")
def inventory() -> str:
    return _env("FAULTS_INVENTORY")


@pytest.fixture(scope="session")
def ephemeral() -> Path:
    return Path(_env("MOLECULE_EPHEMERAL_DIRECTORY"))


@pytest.fixture(scope="session")
def nfs_name() -> str:
    return _env("FAULTS_NFS_HOST")


@pytest.fixture(scope="session")
def node_name() -> str:
    return _env("FAULTS_NODE_HOST")


@pytest.fixture(scope="session")
def timings():
    rows: list[tuple[str, float]] = []
    yield rows
    print("\nplaybook wall times:")
    for name, seconds in rows:
        print(f"  {seconds:7.1f} s  {name}")


def _argv_env(inventory: str, playbook: str, tags: str | None, extra: dict) -> tuple[list[str], dict]:
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, str(REPO / playbook)]
    if tags:
        argv += ["--tags", tags]
    if extra:
        argv += ["-e", json.dumps(extra)]
    # The repo's ansible.cfg (cwd), not molecule's: its profile_tasks lines would break
    # the JSON document on stdout.
    env = {k: v for k, v in os.environ.items() if k not in ("ANSIBLE_CONFIG", "ANSIBLE_CALLBACKS_ENABLED")}
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0", ANSIBLE_PIPELINING="True",
               ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".collections")))
    return argv, env


@pytest.fixture(scope="session")
def play(inventory, timings):
    """play('site.yml', tags='statefulset', **extra_vars) -> Run (bounded)."""

    def _play(playbook: str, tags: str | None = None, **extra) -> Run:
        argv, env = _argv_env(inventory, playbook, tags, extra)
        start = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False,
                              env=env, cwd=REPO)
        run = Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start, argv)
        timings.append((f"{playbook} --tags {tags} {extra.get('k8s_statefulset_nginx_name', '')}", run.seconds))
        return run

    return _play


@pytest.fixture(scope="session")
def start_play(inventory):
    """start_play(...) -> Popen in its own process group (for SIGKILL of the whole run)."""
    started: list[subprocess.Popen] = []

    def _start(playbook: str, tags: str | None = None, **extra) -> subprocess.Popen:
        argv, env = _argv_env(inventory, playbook, tags, extra)
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO,
                                start_new_session=True)
        started.append(proc)
        return proc

    yield _start
    for proc in started:  # never leave a run behind, whatever the test did
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="session")
def double(ephemeral: Path) -> dict:
    return json.loads((ephemeral / "test-double" / "launcher.json").read_text())


@pytest.fixture(scope="session")
def api(double: dict):
    import kubernetes.config

    client = kubernetes.config.new_client_from_config(config_file=double["kubeconfig"])
    yield client
    client.close()


def dexec(container: str, *cmd: str, data: bytes | None = None, timeout: int = 60, check: bool = True) -> bytes:
    """docker exec (stdin = data); stdout as bytes; raises with stderr on failure."""
    argv = [DOCKER, "exec"] + (["-i"] if data is not None else []) + [container, *cmd]
    proc = subprocess.run(argv, input=data, capture_output=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} in {container} exited {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace')[-1000:]}")
    return proc.stdout


def nfs_write(node: str, url: str, data: bytes) -> None:
    """Write bytes to nfs://server/path/file THROUGH NFS from the node (libnfs nfs-cp)."""
    dexec(node, "sh", "-c", 'f=$(mktemp) && cat > "$f" && timeout 30 nfs-cp "$f" "$1"; rc=$?; rm -f "$f"; exit $rc',
          "sh", url, data=data)


def nfs_read(node: str, url: str) -> bytes:
    """Read a file THROUGH NFS from the node (libnfs nfs-cat)."""
    return dexec(node, "timeout", "30", "nfs-cat", url)


def wait_for(what: str, predicate, timeout: float = 60, interval: float = 0.5):
    """Poll predicate() until truthy (returned) or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def core(api):
    import kubernetes.client as k

    return k.CoreV1Api(api)


def apps(api):
    import kubernetes.client as k

    return k.AppsV1Api(api)


def pods(api, sts: str) -> dict:
    return {p.metadata.name: p for p in core(api).list_namespaced_pod(NAMESPACE, label_selector=f"app={sts}").items}


def ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def claims(api, sts: str) -> dict:
    """{pvc name: pvc} of the claims made from the template for this StatefulSet."""
    prefix = f"{TEMPLATE}-{sts}-"
    return {c.metadata.name: c for c in core(api).list_namespaced_persistent_volume_claim(NAMESPACE).items
            if c.metadata.name.startswith(prefix)}


def volumes(api, sts: str) -> dict:
    """{pvc: {uid, pv, url, dir}}: where each claim's data lives on the NFS export."""
    out = {}
    for name, pvc in claims(api, sts).items():
        pv = core(api).read_persistent_volume(pvc.spec.volume_name)
        out[name] = {"uid": pvc.metadata.uid, "pv": pv.metadata.name, "dir": pv.spec.nfs.path,
                     "url": f"nfs://{pv.spec.nfs.server}{pv.spec.nfs.path}"}
    return out


def statefulset(api, sts: str):
    from kubernetes.client.exceptions import ApiException

    try:
        return apps(api).read_namespaced_stateful_set(sts, NAMESPACE)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def remove(api, sts: str) -> None:
    """Self-cleaning: delete the StatefulSet (background), its Service and its claims."""
    from kubernetes.client.exceptions import ApiException

    for call in (lambda: apps(api).delete_namespaced_stateful_set(sts, NAMESPACE, propagation_policy="Background"),
                 lambda: core(api).delete_namespaced_service(sts, NAMESPACE)):
        try:
            call()
        except ApiException as exc:
            if exc.status != 404:
                raise
    wait_for(f"the pods of {sts} to be gone", lambda: not pods(api, sts), timeout=60)
    for name in claims(api, sts):
        try:
            core(api).delete_namespaced_persistent_volume_claim(name, NAMESPACE)
        except ApiException as exc:
            if exc.status != 404:
                raise
    wait_for(f"the claims of {sts} to be gone", lambda: not claims(api, sts), timeout=60)


def ganesha(nfs: str, node: str, action: str) -> None:
    """systemctl <action> nfs-ganesha in the server; after a start, wait (bounded)
    until the node can list the export through NFS again."""
    dexec(nfs, "timeout", "60", "systemctl", action, "nfs-ganesha")
    if action in ("start", "restart"):
        server = dexec(nfs, "hostname", "-I").decode().split()[0]
        wait_for("NFS-Ganesha to serve the export again",
                 lambda: subprocess.run([DOCKER, "exec", node, "timeout", "10", "nfs-ls", f"nfs://{server}/srv/nfs"],
                                        capture_output=True, timeout=30, check=False).returncode == 0,
                 timeout=60, interval=1)
