"""Module tests over HTTPS against the lab's Kubernetes cluster (`make cluster-test`).

The fixtures ``lab``, ``ns`` and ``run`` come from tests/conftest.py (tests/support/cluster.py
says how the modules run, as which identity, through which proxy, and how "no write was sent"
is read from the API server's audit log). Here: the objects these tests build on.

Pods really run here (1-3 s each on the lab): static PersistentVolumes are real NFS volumes, a
directory of the session on the lab's export each; images are the lab's (``lab.nginx``, and the
same image by its ID, ``lab.nginx_upgrade``, where a test needs a second image), pulled
IfNotPresent. Waits are bounded for that.
"""
from __future__ import annotations

import pytest

from tests.support.lab import INVENTORY, ensure_nfs_clients
from tests.support.playbook import Player
from tests.support.waiting import wait_for

ROLLOUT = 90  # seconds a module may wait for a rollout of up to 3 pods with NFS volumes


def static_storage(lab, ns, count, size="1Gi"):
    """A StorageClass (no provisioner runs for it) and ``count`` Available NFS PVs of that class,
    each on its own directory of the lab's export, so the StatefulSet's PVCs bind statically
    and its pods start. Returns the class name."""
    sc = f"static-{ns}"
    lab.create("/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": sc},
        "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate"})
    for i in range(count):
        spec = {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "storageClassName": sc,
                "persistentVolumeReclaimPolicy": "Retain",
                "nfs": {"server": lab.nfs_server, "path": lab.nfs_dir(f"{ns}-{i}")}}
        lab.create("/api/v1/persistentvolumes", {"apiVersion": "v1", "kind": "PersistentVolume",
                                                 "metadata": {"name": f"pv-{ns}-{i}"}, "spec": spec})
    return sc


def sts_args(lab, ns, name="web", replicas=3, image=None, **over):
    a = {"name": name, "namespace": ns, "replicas": replicas, "labels": {"app": name},
         "container_name": "nginx", "image": image or lab.nginx, "image_pull_policy": "IfNotPresent",
         "ports": [{"name": "web", "container_port": 80}]}
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


def settled_sts(lab, ns, name="web"):
    """The StatefulSet once its controller is done with it (status for the current generation,
    every replica counted, resourceVersion unchanged over a second): from then on a change of
    resourceVersion is someone's write, not the controller catching up."""
    path = f"/apis/apps/v1/namespaces/{ns}/statefulsets/{name}"
    last = {}

    def quiet():
        sts = lab.get(path)
        status, want = sts.get("status") or {}, sts["spec"].get("replicas", 1)
        done = (status.get("observedGeneration") == sts["metadata"]["generation"]
                and status.get("replicas", 0) == want and status.get("readyReplicas", 0) == want
                and status.get("availableReplicas", 0) == want)
        rv, last["rv"] = last.get("rv"), sts["metadata"]["resourceVersion"]
        return sts if done and rv == sts["metadata"]["resourceVersion"] else None
    return wait_for(f"StatefulSet {ns}/{name} to settle", quiet, timeout=60, interval=1)


def event_seen(lab, ns, kind, name, reason, timeout=120):
    """The first event of ``reason`` about ``kind`` ``ns``/``name``, waited for (bounded, seconds).
    A failure test whose module wait is short waits for the cause's event first: the module's message
    names the events it finds when its wait ends, and on a loaded machine a provisioner or kubelet can
    take longer than that short wait to report."""
    def seen():
        return next((e for e in lab.items(f"/api/v1/namespaces/{ns}/events") if e.get("reason") == reason
                     and (e.get("involvedObject") or {}).get("kind") == kind
                     and (e.get("involvedObject") or {}).get("name") == name), None)
    return wait_for(f"event {reason} about {kind} {ns}/{name}", seen, timeout=timeout, interval=1)


@pytest.fixture(scope="session")
def nfs_clients():
    """Every node has the NFS client (tests that deploy with --tags provisioner,statefulset need it),
    installed once per session when a node lacks it."""
    ensure_nfs_clients()


@pytest.fixture
def player():
    """ansible-playbook runs from the checkout against the lab's inventory (closed after the test)."""
    p = Player(str(INVENTORY))
    yield p
    p.close()
