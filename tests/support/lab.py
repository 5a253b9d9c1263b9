"""The lab (tests/lab/, `make lab-up`) as the tests see it: its kubeconfig and images, kubectl
of the pinned release, commands in its containers, the API through the official client, and
the API server's audit log.

Nothing here starts or changes the lab; ``Lab.require()`` fails with the way out when it is
not up.
"""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The lab's generated state; SNFS_LAB_DIR points a second checkout (a git worktree) at the
# lab another checkout brought up.
LAB_DIR = Path(os.environ.get("SNFS_LAB_DIR") or REPO / ".lab")
DOCKER = "/usr/bin/docker"
INVENTORY = REPO / "tests" / "lab" / "inventory"
NFS_HOST = "snfs-lab-nfs"
CONTROL_PLANE = "snfs-lab-control-plane"
NODES = ("snfs-lab-node-1", "snfs-lab-node-2", "snfs-lab-node-3")
EXPORT_DIR = "/srv/nfs"
ADMIN_USER = "kubernetes-admin"  # the user of .lab/kubeconfig (kubeadm's admin.conf)
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class LabNotUp(RuntimeError):
    """The lab is not up (or not built)."""


def dexec(container: str, *cmd: str, data: bytes | None = None, timeout: float = 60,
          check: bool = True) -> subprocess.CompletedProcess:
    """Run ``cmd`` in a lab container (docker exec); stdout/stderr as text."""
    interactive = ["-i"] if data is not None else []
    proc = subprocess.run([DOCKER, "exec", *interactive, container, *cmd],
                          input=data, capture_output=True, timeout=timeout, check=False)
    out = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(errors="replace"),
                                      proc.stderr.decode(errors="replace"))
    if check and proc.returncode != 0:
        raise AssertionError(f"{container}: {' '.join(cmd)} exited {proc.returncode}: {out.stderr.strip() or out.stdout.strip()}")
    return out


@dataclass(frozen=True)
class Lab:
    """Paths and clients of a running lab."""

    kubeconfig: Path
    images: dict

    @classmethod
    def require(cls) -> "Lab":
        kubeconfig, images = LAB_DIR / "kubeconfig", LAB_DIR / "images.json"
        if not images.is_file():
            raise LabNotUp(f"{images} is missing: run `make images` (then `make lab-up`)")
        if not kubeconfig.is_file():
            raise LabNotUp(f"{kubeconfig} is missing: the lab is not up; run `make lab-up`")
        return cls(kubeconfig, json.loads(images.read_text()))

    @property
    def kubectl_path(self) -> str:
        return str(Path(self.images["binaries"]["kubernetes"]) / "kubectl")

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 120,
                check: bool = True) -> subprocess.CompletedProcess:
        """kubectl of the lab's Kubernetes release, with the lab's kubeconfig."""
        proc = subprocess.run([self.kubectl_path, "--kubeconfig", str(self.kubeconfig), *args], input=stdin,
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc

    def get(self, *args: str) -> dict:
        """``kubectl get ... -o json`` as a dict."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def env(self) -> dict[str, str]:
        """Environment for Ansible runs against the lab's API."""
        return {**os.environ, "K8S_AUTH_KUBECONFIG": str(self.kubeconfig)}

    def api_client(self):
        """An ApiClient of the official ``kubernetes`` package for the lab's API."""
        from kubernetes import config  # noqa: PLC0415  # only suites that use it need the package

        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def audit_events(self, since_line: int = 0) -> Iterator[dict]:
        """The API server's audit events (tests/lab/node/rootfs/etc/kubernetes/audit-policy.yaml)
        from line ``since_line`` of the current log on."""
        log = LAB_DIR / "audit" / "audit.log"
        if not log.exists():
            return
        with log.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                if number >= since_line and line.strip():
                    yield json.loads(line)

    def api_writes(self, since: int, user: str = ADMIN_USER) -> list[str]:
        """The write requests ``user`` sent since audit mark ``since``, as "verb uri" lines."""
        return [f"{e['verb']} {e['requestURI']}" for e in self.audit_events(since)
                if e.get("verb") in WRITE_VERBS and e.get("user", {}).get("username") == user]

    def audit_mark(self) -> int:
        """The current length (in lines) of the audit log: pass it to ``audit_events`` later."""
        log = LAB_DIR / "audit" / "audit.log"
        if not log.exists():
            return 0
        with log.open(encoding="utf-8") as lines:
            return sum(1 for _ in lines)


def address(container: str) -> str:
    """A lab container's address on the lab network."""
    proc = subprocess.run([DOCKER, "container", "inspect", "-f",
                           '{{ (index .NetworkSettings.Networks "stateful-nfs-lab").IPAddress }}', container],
                          capture_output=True, text=True, timeout=30, check=True)
    return proc.stdout.strip()
