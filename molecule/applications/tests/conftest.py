"""Fixtures and helpers of the applications scenario's verify suite (run by verify.yml).

The tests run in file order and build on each other: the two examples converged by site.yml
(redis in namespace apps-cache, MariaDB in apps-shop), data written, a member rescheduled,
a teardown and a re-run, a scale-up, then the NFS server restarted under redis. Each
ansible-playbook run is real (site.yml and playbooks/teardown.yml on the scenario's
inventory); the members are asked through kubectl exec (redis-cli, mariadb); the files on the
NFS server are read with testinfra in its container.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from tests.support import scenario
from tests.support.lab import Lab
from tests.support.scenario import nfs_host_fixture, player_fixture, scenario_env
from tests.support.waiting import wait_for

CACHE, SHOP = "apps-cache", "apps-shop"  # the namespaces of host_vars/localhost.yml
TAGS = "provisioner,statefulset"  # the Kubernetes stages of site.yml (the NFS ones ran in converge)
ROLLOUT = 180  # seconds a member may take to come back Ready (MariaDB recovers InnoDB first)

lab, api, play = scenario.lab, scenario.api, scenario.play  # the shared fixtures
player = player_fixture("APPLICATIONS_INVENTORY", "applications", timeout=600)
nfs_host = nfs_host_fixture("APPLICATIONS_NFS_HOST", "applications")


@pytest.fixture(scope="session")
def ephemeral() -> Path:
    """Molecule's ephemeral directory: manifests/ (prepare.yml) and reports/ (the role's)."""
    return Path(scenario_env("MOLECULE_EPHEMERAL_DIRECTORY", "applications"))


def redis(ns: str, pod: str, *args: str, timeout: float = 60) -> str:
    """redis-cli in a member, its reply as text."""
    return Lab.require().kubectl("exec", "-n", ns, pod, "--", "redis-cli", *args, timeout=timeout).stdout.strip()


def replication(pod: str) -> dict:
    """A redis member's ``INFO replication`` as a dict."""
    text = redis(CACHE, pod, "info", "replication")
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def sql(pod: str, statement: str) -> str:
    return Lab.require().kubectl("exec", "-n", SHOP, pod, "--", "mariadb", "-N", "-B", "-e", statement).stdout.strip()


def replica_status(pod: str = "mariadb-1") -> dict:
    out = Lab.require().kubectl("exec", "-n", SHOP, pod, "--", "mariadb", "-e", "SHOW SLAVE STATUS\\G").stdout
    pairs = (line.strip().partition(":") for line in out.splitlines() if ":" in line)
    return {key: value.strip() for key, _sep, value in pairs}


def replicating(pod: str = "mariadb-1") -> bool:
    status = replica_status(pod)
    return status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes"


def pod(ns: str, name: str) -> dict | None:
    """The pod as the API has it, or None."""
    proc = Lab.require().kubectl("get", "pod", "-n", ns, name, "-o", "json", check=False)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout)


def ready(p: dict | None) -> bool:
    return bool(p) and any(c["type"] == "Ready" and c["status"] == "True"
                           for c in (p.get("status") or {}).get("conditions") or [])


def recreated(ns: str, name: str, old_uid: str) -> dict | None:
    """The pod when it is Ready and not the one with ``old_uid``, else None."""
    p = pod(ns, name)
    return p if ready(p) and p["metadata"]["uid"] != old_uid else None


def replication_when(member: str, test) -> dict | None:
    """The member's ``INFO replication`` when ``test(info)`` holds, else None."""
    info = replication(member)
    return info if test(info) else None


def claims(ns: str) -> dict:
    """{claim name: uid} of the namespace's claims."""
    return {c["metadata"]["name"]: c["metadata"]["uid"] for c in Lab.require().get("pvc", "-n", ns)["items"]}


def claim_dir(ns: str, claim: str) -> str:
    """The NFS directory of a claim's volume (the path on the server: the lab exports /srv/nfs as it is)."""
    lab_ = Lab.require()
    volume = lab_.get("pvc", "-n", ns, claim)["spec"]["volumeName"]
    return lab_.get("pv", volume)["spec"]["nfs"]["path"]


def reschedule(ns: str, name: str) -> tuple[str, dict]:
    """Cordon the node of pod ``name``, delete the pod, wait (bounded) until the StatefulSet
    has made it again and it is Ready, uncordon. Returns (the old node, the new pod)."""
    lab_ = Lab.require()
    before = pod(ns, name)
    node = before["spec"]["nodeName"]
    lab_.kubectl("cordon", node)
    try:
        lab_.kubectl("delete", "pod", "-n", ns, name, "--wait=true", timeout=ROLLOUT)
        after = wait_for(f"{ns}/{name} back and Ready", lambda: recreated(ns, name, before["metadata"]["uid"]),
                         timeout=ROLLOUT, interval=1)
    finally:
        lab_.kubectl("uncordon", node)
    return node, after
