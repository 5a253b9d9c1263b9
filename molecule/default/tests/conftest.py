"""Fixtures of the default scenario's verify suite (run by verify.yml).

Every test drives a real ansible-playbook run (the day-2 playbooks, site.yml) against
the converged stack and asserts on its JSON output (callback ansible.posix.json; each
day-2 playbook ends with a `Summary` task whose msg is `day2_result`), on the lab
cluster test double's API and on the files in the NFS-Ganesha server container.
The tests run in file order and build on each other (one StatefulSet, one story).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import testinfra
import yaml

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK_TIMEOUT = 600


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this suite through `molecule verify -s default`")
    return value


class Run:
    """One ansible-playbook run: rc, the JSON callback's document, wall time."""

    def __init__(self, proc: subprocess.CompletedProcess, seconds: float, argv: list[str]):
        self.rc, self.seconds, self.argv = proc.returncode, seconds, argv
        self.stderr = proc.stderr
        try:
            self.doc = json.loads(proc.stdout)
        except json.JSONDecodeError:
            self.doc = {"plays": [], "stats": {}, "raw": proc.stdout[-4000:]}

    def results(self, task_name: str) -> list[dict]:
        """Host results of every task with this name, in run order."""
        out = []
        for play in self.doc.get("plays", []):
            for task in play.get("tasks", []):
                if task["task"]["name"] == task_name:
                    out.extend(task["hosts"].values())
        return out

    @property
    def day2(self) -> dict:
        summaries = self.results("Summary")
        assert summaries, f"no Summary task in {self.argv}: {self.failure()}"
        return summaries[-1]["msg"]["day2_result"]

    def failure(self) -> str:
        """The message of the first failed task, else the raw tail."""
        for play in self.doc.get("plays", []):
            for task in play.get("tasks", []):
                for host, res in task["hosts"].items():
                    if res.get("failed") or res.get("unreachable"):
                        return f"{task['task']['name']} on {host}: {res.get('msg')}"
        return str(self.doc.get("raw", ""))[-2000:] + self.stderr[-2000:]

    def failed_tasks(self) -> list[str]:
        return [task["task"]["name"] for play in self.doc.get("plays", []) for task in play.get("tasks", [])
                if any(r.get("failed") for r in task["hosts"].values())]

    def changed(self) -> dict:
        return {h: s.get("changed", 0) for h, s in self.doc.get("stats", {}).items()}


@pytest.fixture(scope="session")
def inventory() -> str:
    return _env("DEFAULT_SCENARIO_INVENTORY")


@pytest.fixture(scope="session")
def ephemeral() -> Path:
    return Path(_env("MOLECULE_EPHEMERAL_DIRECTORY"))


@pytest.fixture(scope="session")
def timings():
    rows: list[tuple[str, float]] = []
    yield rows
    print("\nplaybook wall times:")
    for name, seconds in rows:
        print(f"  {seconds:7.1f} s  {name}")


@pytest.fixture(scope="session")
def play(inventory, timings):
    """play('playbooks/scale.yml', replicas=5) -> Run (JSON output)."""

    def _play(playbook: str, **extra) -> Run:
        argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory,
                str(REPO / playbook)]
        if extra:
            argv += ["-e", json.dumps(extra)]
        # The repo's ansible.cfg (cwd), not molecule's: that one enables profile_tasks,
        # whose lines would break the JSON document on stdout.
        env = {k: v for k, v in os.environ.items() if k not in ("ANSIBLE_CONFIG", "ANSIBLE_CALLBACKS_ENABLED")}
        env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_PIPELINING="True",
                   ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".collections")))
        start = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False,
                              env=env, cwd=REPO)
        run = Run(proc, time.monotonic() - start, argv)
        timings.append((f"{playbook} {json.dumps(extra) if extra else ''}".strip(), run.seconds))
        return run

    return _play


@pytest.fixture(scope="session")
def double(ephemeral: Path) -> dict:
    return json.loads((ephemeral / "test-double" / "launcher.json").read_text())


@pytest.fixture(scope="session")
def api(double: dict):
    import kubernetes.config

    client = kubernetes.config.new_client_from_config(config_file=double["kubeconfig"])
    yield client
    client.close()


@pytest.fixture(scope="session")
def writes(double: dict):
    """writes() -> number of write requests the test double has served so far."""
    cfg = yaml.safe_load(Path(double["kubeconfig"]).read_text())
    server = cfg["clusters"][0]["cluster"]["server"]
    token = cfg["users"][0]["user"]["token"]

    def _writes() -> int:
        # S310 is fine here: an http:// URL of the loopback test double, built here.
        req = urllib.request.Request(f"{server}/_test_double/stats", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return int(json.load(resp)["writes"])

    return _writes


@pytest.fixture(scope="session")
def nfs_name() -> str:
    return _env("DEFAULT_SCENARIO_NFS_HOST")


@pytest.fixture(scope="session")
def nfs_host(nfs_name):
    """The NFS-Ganesha server container (testinfra over docker exec)."""
    return testinfra.get_host(f"docker://{nfs_name}")


def nfs_cat(nfs_host, path: str) -> str:
    """Read a file THROUGH NFS (libnfs nfs-cat against the server's own export)."""
    return nfs_host.check_output(f"timeout 30 nfs-cat nfs://127.0.0.1{path}")


def pods_by_name(api, namespace="default", selector="app=nginx") -> dict:
    import kubernetes.client as k

    return {p.metadata.name: p for p in k.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=selector).items}


def pvc_uids(api, namespace="default", prefix="nginx-pvc-web-") -> dict:
    import kubernetes.client as k

    return {c.metadata.name: c.metadata.uid
            for c in k.CoreV1Api(api).list_namespaced_persistent_volume_claim(namespace).items
            if c.metadata.name.startswith(prefix)}
