"""The lab (tests/lab/, `make lab-up`) as the tests see it: its kubeconfig and images, kubectl
of the pinned release, commands in its containers, the API through the official client, and
the API server's audit log.

Nothing here starts or changes the lab; ``Lab.require()`` fails with the way out when it is
not up.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Which lab, named as tests/lab/lab.sh names it: `make lab-up` makes "snfs-lab", whose inventory
# is tests/lab/inventory; LAB_NAME (and LAB_NODES, default 3) names another, whose state and
# generated inventory lie in .lab/labs/<name>/ (a trial's or the bench's lab).
LAB_NAME = os.environ.get("LAB_NAME") or "snfs-lab"
MAIN_LAB = LAB_NAME == "snfs-lab"
# The checkout's generated state (.lab: images.json, the main lab's state); SNFS_LAB_DIR points
# a second checkout (a git worktree) at the one another checkout made.
LAB_ROOT = Path(os.environ.get("SNFS_LAB_DIR") or REPO / ".lab")
LAB_DIR = LAB_ROOT if MAIN_LAB else LAB_ROOT / "labs" / LAB_NAME
IMAGES_JSON = LAB_ROOT / "images.json"  # one set of images for every lab
DOCKER = "/usr/bin/docker"
INVENTORY = REPO / "tests" / "lab" / "inventory" if MAIN_LAB else LAB_DIR / "inventory"
NFS_HOST = f"{LAB_NAME}-nfs"
CONTROL_PLANE = f"{LAB_NAME}-control-plane"
NODES = tuple(f"{LAB_NAME}-node-{n}" for n in range(1, int(os.environ.get("LAB_NODES") or 3) + 1))
EXPORT_DIR = "/srv/nfs"
ADMIN_USER = "kubernetes-admin"  # the user of .lab/kubeconfig (kubeadm's admin.conf)
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
# Reviews are creates the API server answers and never stores (access and identity questions):
# counted apart from writes (issue 21: "access reviews ... counted apart").
REVIEW_RESOURCES = frozenset({"selfsubjectaccessreviews", "selfsubjectreviews", "selfsubjectrulesreviews",
                              "subjectaccessreviews", "localsubjectaccessreviews", "tokenreviews"})


def is_write(event: dict) -> bool:
    """Whether an audit event is a write of a stored object (not a review; dry runs still count)."""
    return event.get("verb") in WRITE_VERBS and (event.get("objectRef") or {}).get("resource") not in REVIEW_RESOURCES


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
    def require(cls) -> Lab:
        kubeconfig, images = LAB_DIR / "kubeconfig", IMAGES_JSON
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
        from kubernetes import config  # only suites that use it need the package

        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def audit_mark(self) -> AuditMark:
        """Where the audit log ends now: pass it to ``audit_events`` later."""
        return AUDIT_LOG.mark()

    def api_writes(self, since: AuditMark, user: str = ADMIN_USER) -> list[str]:
        """The write requests ``user`` sent since audit mark ``since``, as "verb uri" lines."""
        return [f"{e['verb']} {e['requestURI']}" for e in self.audit_events(since)
                if is_write(e) and e.get("user", {}).get("username") == user]

    def audit_events(self, since: AuditMark | None = None) -> Iterator[dict]:
        """The API server's audit events (tests/lab/node/rootfs/etc/kubernetes/audit-policy.yaml)
        written after ``since`` (all of the current log when None)."""
        return AUDIT_LOG.events(since)


@dataclass(frozen=True)
class AuditMark:
    """A position in the audit log: the file (inode) and the byte offset in it."""

    inode: int
    offset: int


class AuditLog:
    """The API server's audit log (JSON lines), read across rotations: kube-apiserver renames a
    full log to ``audit-<time>.log`` (--audit-log-maxsize) and starts a new ``audit.log``."""

    def __init__(self, path: Path):
        self.path = path

    def mark(self) -> AuditMark:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return AuditMark(0, 0)
        return AuditMark(st.st_ino, st.st_size)

    def _files_since(self, since: AuditMark) -> list[tuple[Path, int]]:
        """(file, offset) to read, oldest first."""
        current = self.path.stat().st_ino if self.path.exists() else 0
        if since.inode in (0, current):
            return [(self.path, since.offset if since.inode else 0)]
        rotated = sorted(self.path.parent.glob(self.path.stem + "-*" + self.path.suffix), key=lambda p: p.stat().st_mtime)
        marked = [i for i, p in enumerate(rotated) if p.stat().st_ino == since.inode]
        if not marked:  # rotated away entirely: everything still there is newer
            return [(p, 0) for p in rotated] + [(self.path, 0)]
        first = marked[0]
        return [(rotated[first], since.offset)] + [(p, 0) for p in rotated[first + 1:]] + [(self.path, 0)]

    def events(self, since: AuditMark | None = None) -> Iterator[dict]:
        if not self.path.exists():
            return
        for path, offset in self._files_since(since or AuditMark(0, 0)):
            with path.open("rb") as log:
                log.seek(offset)
                for line in log:
                    if line.endswith(b"\n") and line.strip():  # a line still being written is left for later
                        yield json.loads(line)


AUDIT_LOG = AuditLog(LAB_DIR / "audit" / "audit.log")


def run_site_stages(tags: str, why: str = "") -> None:
    """site.yml's stages ``tags`` against the lab's inventory; fails with the run's tail (and ``why``)."""
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(INVENTORY), str(REPO / "site.yml"),
         "--tags", tags], capture_output=True, text=True, timeout=900, cwd=REPO, check=False)
    assert proc.returncode == 0, f"site.yml --tags {tags} failed{why}:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"


def ensure_nfs_server() -> tuple[str, str]:
    """(server address, path) of the lab's export; configured with the collection's nfs_server
    role (site.yml --tags nfs_server) when Ganesha is not serving yet."""
    active = dexec(NFS_HOST, "systemctl", "is-active", "nfs-ganesha", check=False).stdout.strip()
    if active != "active":
        run_site_stages("nfs_server")
    return address(NFS_HOST), EXPORT_DIR


def ensure_nfs_clients(nodes=NODES) -> None:
    """The NFS client on every node (role nfs_client: site.yml --tags nfs_server,nfs_client) when a
    node lacks it. A test that deploys with --tags provisioner,statefulset needs it: the provisioner
    stage probes the class's export from a node with libnfs, which a fresh lab's nodes do not have
    until an earlier test or run installed it."""
    missing = [n for n in nodes
               if dexec(n, "dpkg-query", "-W", "-f", "${Status}", "libnfs-utils", check=False).stdout.strip()
               != "install ok installed"]
    if missing:
        run_site_stages("nfs_server,nfs_client", f" (nodes without the NFS client: {missing})")


def address(container: str) -> str:
    """A lab container's address on the lab network."""
    proc = subprocess.run([DOCKER, "container", "inspect", "-f",
                           '{{ (index .NetworkSettings.Networks "stateful-nfs-lab").IPAddress }}', container],
                          capture_output=True, text=True, timeout=30, check=True)
    return proc.stdout.strip()


# The pods' images live only in each node's containerd (no registry to pull them from again).
# Once, in CI, a node lost the sandbox image mid-run and every later pod on it failed
# (FailedCreatePodSandBox); kubelet's image GC is off (kubelet.yaml), and the cause was not
# found. The suites check the nodes before each test module: a lost image is imported again
# from the lab's archive, said on stderr, and the nodes' logs kept for the diagnosis.
def node_images(node: str) -> set[str]:
    """The image names a node's containerd (namespace k8s.io) holds."""
    out = dexec(node, "ctr", "-n", "k8s.io", "images", "ls", "-q", timeout=30)
    return {line for line in out.stdout.split() if not line.startswith("sha256:")}


@functools.cache
def archive_images(archive: Path) -> frozenset[str]:
    """The image names in the lab's pod image archive (docker save's manifest.json), read once
    per archive (the check runs before every lab test module)."""
    import tarfile
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    return frozenset(tag for image in manifest for tag in image.get("RepoTags") or ())


def restore_lost_images(nodes=NODES) -> list[str]:
    """Import the lab archive again into each node that lost one of its images.

    Returns one line per node repaired (empty when none was); writes the node's containerd and
    kubelet log lines about images to ``.lab/logs/lab-images-lost-<node>.log``.
    """
    if not IMAGES_JSON.is_file():
        return []
    archive = Path(json.loads(IMAGES_JSON.read_text())["archive"])
    wanted = archive_images(archive)
    repaired = []
    for node in nodes:
        lost = sorted(wanted - node_images(node))
        if not lost:
            continue
        journal = dexec(node, "sh", "-c", "journalctl -u containerd -u kubelet --no-pager -o short-iso "
                        "| grep -i -E 'image|garbage|evict' | tail -n 300", check=False, timeout=60).stdout
        log = LAB_DIR / "logs" / f"lab-images-lost-{node}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"lost: {lost}\n\n{journal}")
        with archive.open("rb") as data:
            subprocess.run([DOCKER, "exec", "-i", node, "ctr", "-n", "k8s.io", "images", "import", "-"],
                           stdin=data, capture_output=True, timeout=300, check=True)
        repaired.append(f"{node} had lost {', '.join(lost)}: imported again from {archive.name} (log {log})")
    return repaired


if __name__ == "__main__":
    # `python -m tests.support.lab`: the check above, for the Makefile before each molecule
    # scenario (its converge needs the images before any pytest runs).
    import sys
    if (LAB_DIR / "kubeconfig").is_file():
        for line in restore_lost_images():
            print(f"LAB WARNING: {line}", file=sys.stderr)
