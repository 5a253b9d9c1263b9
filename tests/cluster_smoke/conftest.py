"""Fixtures of the lab cluster's smoke suite: the walkthrough's own manifests
(tests/lab/walkthrough/), applied with kubectl as the walkthrough and the Kubernetes
"StatefulSet Basics" tutorial do, in a namespace of their own.

Cluster-scoped names get a ``lab-smoke-`` prefix so the suite never touches what the
collection deploys. The NFS export is the lab's (NFS-Ganesha on snfs-lab-nfs, configured by the
collection's nfs_server role when it is not already serving). Everything the suite creates is
removed at the end; every wait is bounded.
"""
from __future__ import annotations

import time

import pytest
import yaml

from tests.support.lab import REPO, Lab, LabNotUp, ensure_nfs_server
from tests.support.waiting import wait_for

NAMESPACE = "lab-smoke"
PREFIX = "lab-smoke-"
CLASS = "lab-smoke-nfs"
PROVISIONER = "lab-smoke.stateful-nfs/nfs"
MANIFESTS = REPO / "tests" / "lab" / "walkthrough"
ROLLOUT_TIMEOUT = 300  # seconds for web-0..2 to become Ready one after the other


@pytest.fixture(scope="session")
def lab() -> Lab:
    try:
        lab = Lab.require()
    except LabNotUp as exc:
        pytest.fail(str(exc))
    nodes = lab.get("nodes")["items"]
    ready = [n["metadata"]["name"] for n in nodes
             if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])]
    if len(ready) < 3:
        pytest.fail(f"the lab has {len(ready)} Ready nodes ({ready}); run `make lab-up`")
    return lab


@pytest.fixture(scope="session")
def nfs_export(lab: Lab) -> tuple[str, str]:
    """(server address, path) of the lab's export; configured with the nfs_server role if needed."""
    return ensure_nfs_server()


def rendered_manifests(lab: Lab, server: str, path: str) -> list[dict]:
    """The walkthrough's manifests for this suite: its namespace, prefixed cluster-scoped names,
    the lab's images, the lab's NFS server."""
    docs = []
    for name in ("rbac.yaml", "deployment.yaml", "class.yaml", "statefulset.yaml"):
        docs.extend(d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d)
    for doc in docs:
        meta = doc["metadata"]
        if doc["kind"] in ("ClusterRole", "ClusterRoleBinding", "StorageClass"):
            meta["name"] = PREFIX + meta["name"] if doc["kind"] != "StorageClass" else CLASS
        else:
            meta["namespace"] = NAMESPACE
        for subject in doc.get("subjects", []):
            subject["namespace"] = NAMESPACE
        if doc["kind"] == "ClusterRoleBinding":
            doc["roleRef"]["name"] = PREFIX + doc["roleRef"]["name"]
        if doc["kind"] == "StorageClass":
            doc["provisioner"] = PROVISIONER
        if doc["kind"] == "Deployment":
            pod = doc["spec"]["template"]["spec"]
            container = pod["containers"][0]
            container["image"] = lab.images["provisioner"]
            container["imagePullPolicy"] = "IfNotPresent"
            env = {e["name"]: e for e in container["env"]}
            env["PROVISIONER_NAME"]["value"] = PROVISIONER
            env["NFS_SERVER"]["value"] = server
            env["NFS_PATH"]["value"] = path
            pod["volumes"][0]["nfs"] = {"server": server, "path": path}
        if doc["kind"] == "StatefulSet":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            container["image"] = lab.images["nginx"]
            container["imagePullPolicy"] = "IfNotPresent"
            doc["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = CLASS
    return docs


def class_volumes(lab: Lab) -> list[str]:
    return [pv["metadata"]["name"] for pv in lab.get("pv")["items"] if pv["spec"].get("storageClassName") == CLASS]


def delete_everything(lab: Lab) -> None:
    """Remove what the suite made: claims first, while the provisioner still runs to archive
    their directories, then the namespace and the cluster-scoped objects."""
    if lab.kubectl("get", "namespace", NAMESPACE, check=False).returncode == 0:
        lab.kubectl("delete", "statefulset,pvc", "--all", "-n", NAMESPACE, "--wait=true", "--timeout=120s")
        try:
            wait_for("the provisioner to release the suite's volumes", lambda: not class_volumes(lab), timeout=120)
        finally:
            lab.kubectl("delete", "namespace", NAMESPACE, "--wait=true", "--timeout=180s")
    # Volumes left by an interrupted run have no provisioner any more: remove the objects (their
    # data stays on the export).
    for pv in class_volumes(lab):
        lab.kubectl("patch", "pv", pv, "--type=merge", "-p", '{"metadata":{"finalizers":null}}', check=False)
        lab.kubectl("delete", "pv", pv, "--ignore-not-found", "--wait=true", "--timeout=60s")
    lab.kubectl("delete", "storageclass", CLASS, "--ignore-not-found")
    for kind in ("clusterrolebinding", "clusterrole"):
        doomed = [n for n in lab.kubectl("get", kind, "-o", "name").stdout.split()
                  if n.split("/", 1)[1].startswith(PREFIX)]
        if doomed:
            lab.kubectl("delete", *doomed, "--ignore-not-found")


def pod_ready_time(pod: dict) -> str:
    return next(c["lastTransitionTime"] for c in pod["status"]["conditions"] if c["type"] == "Ready")


@pytest.fixture(scope="session")
def walkthrough(lab: Lab, nfs_export: tuple[str, str]):
    """The walkthrough applied: provisioner, class, headless Service, StatefulSet web (3 pods)."""
    server, path = nfs_export
    delete_everything(lab)
    lab.kubectl("create", "namespace", NAMESPACE)
    started = time.monotonic()
    lab.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(rendered_manifests(lab, server, path)))

    def all_ready():
        pods = lab.get("pods", "-n", NAMESPACE, "-l", "app=nginx")["items"]
        ready = [p for p in pods if p["status"].get("conditions")
                 and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"])]
        return len(ready) == 3 and ready
    wait_for("web-0..2 Ready", all_ready, timeout=ROLLOUT_TIMEOUT, interval=1)
    yield {"server": server, "path": path, "seconds": time.monotonic() - started}
    delete_everything(lab)
