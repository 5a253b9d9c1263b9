"""Every object the Kubernetes modules build validates strictly against the official schemas.

kubernetes-validate ships the OpenAPI-derived JSON schemas of each Kubernetes minor
version; ``strict=True`` uses the variants that reject unknown properties. We check
the four most recent minors it ships (at least three).
"""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import validation
from kubernetes_validate.utils import all_versions, major_minor
from packaging.version import Version

# The walkthrough's mirror of the retired nfs-client-provisioner.
SEED_MIRROR_IMAGE = "fxkjnj/nfs-client-provisioner:latest"

VERSIONS = sorted({major_minor(v) for v in all_versions()}, key=Version)[-4:]

PROVISIONER_CASES = {
    "seed": {
        "name": "nfs-client-provisioner", "namespace": "default", "provisioner_name": "fuseim.pri/ifs",
        "nfs_server": "192.0.2.20", "nfs_path": "/home/nfs", "image": SEED_MIRROR_IMAGE, "replicas": 1,
        "storage_class_name": "managed-nfs-storage", "archive_on_delete": True, "reclaim_policy": "Delete",
        "volume_binding_mode": "Immediate",
    },
    "everything": {
        "name": "nfs-prod", "namespace": "storage", "provisioner_name": "example.com/nfs-prod",
        "nfs_server": "nfs.example.com", "nfs_path": "/srv/k8s", "image": validation.DEFAULT_PROVISIONER_IMAGE,
        "image_pull_policy": "Always", "replicas": 2, "labels": {"team": "storage"},
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
        "node_selector": {"node-role.kubernetes.io/storage": ""},
        "tolerations": [{"key": "storage", "operator": "Exists", "effect": "NoSchedule"}],
        "image_pull_secrets": ["regcred"],
        "security_context": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
        "pod_security_context": {"runAsNonRoot": True, "runAsUser": 65534},
        "storage_class_name": "nfs-prod", "default_class": True, "archive_on_delete": False,
        "on_delete": "retain", "path_pattern": "${.PVC.namespace}/${.PVC.name}", "reclaim_policy": "Retain",
        "volume_binding_mode": "WaitForFirstConsumer", "allow_volume_expansion": True,
        "mount_options": ["nfsvers=4.1", "hard"],
    },
}

STS_CASES = {
    "seed": {
        "name": "web", "namespace": "default", "replicas": 3, "labels": {"app": "nginx"},
        "container_name": "nginx", "image": "nginx:1.27", "ports": [{"name": "web", "container_port": 80}],
        "volume_claim_templates": [{"name": "nginx-pvc", "storage_class_name": "managed-nfs-storage",
                                    "access_modes": ["ReadWriteOnce"], "size": "1Gi",
                                    "mount_path": "/usr/share/nginx/html"}],
    },
    "minimal": {"name": "db", "namespace": "apps", "image": "postgres:16", "replicas": 0},
    "everything": {
        "name": "kv", "namespace": "data", "service_name": "kv-headless", "replicas": 5,
        "labels": {"app": "kv", "tier": "storage"}, "selector": {"app": "kv"}, "container_name": "server",
        "image": "registry.example.com/kv:2.1", "image_pull_policy": "IfNotPresent",
        "ports": [{"name": "client", "container_port": 2379, "protocol": "TCP"},
                  {"name": "gossip", "container_port": 7946, "protocol": "UDP"}],
        "env": [{"name": "CLUSTER", "value": "kv"}],
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
        "readiness_probe": {"tcpSocket": {"port": 2379}, "periodSeconds": 5},
        "node_selector": {"disk": "ssd"}, "tolerations": [{"key": "dedicated", "operator": "Equal",
                                                           "value": "kv", "effect": "NoSchedule"}],
        "volume_claim_templates": [
            {"name": "data", "storage_class_name": "nfs-prod", "access_modes": ["ReadWriteOnce"], "size": "10Gi",
             "mount_path": "/var/lib/kv"},
            {"name": "wal", "access_modes": ["ReadWriteOncePod"], "size": "512Mi", "mount_path": "/var/lib/wal"}],
        "pod_management_policy": "Parallel", "update_strategy": "RollingUpdate", "partition": 2,
        "max_unavailable": 2, "pvc_retention_policy": {"when_deleted": "Retain", "when_scaled": "Delete"},
        "min_ready_seconds": 10, "ordinals_start": 1,
    },
    "on_delete": {"name": "legacy", "namespace": "default", "image": "busybox:1.36", "replicas": 1,
                  "update_strategy": "OnDelete"},
}


def built_objects():
    for case, params in PROVISIONER_CASES.items():
        for obj in mf.provisioner_manifests(validation.validate_provisioner_params(params)):
            yield f"provisioner-{case}", obj
    for case, params in STS_CASES.items():
        for obj in mf.statefulset_manifests(validation.validate_statefulset_params(params)):
            yield f"statefulset-{case}", obj


OBJECTS = list(built_objects())


def test_versions_are_recent_and_enough():
    assert len(VERSIONS) >= 3
    assert Version(VERSIONS[-1]) >= Version("1.34")


def test_every_kind_is_covered():
    kinds = {o["kind"] for _c, o in OBJECTS}
    assert kinds == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment",
                     "StorageClass", "Service", "StatefulSet", "PersistentVolume", "PersistentVolumeClaim"}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case, obj", OBJECTS, ids=["{}-{}-{}".format(c, o["kind"], o["metadata"]["name"])
                                                    for c, o in OBJECTS])
def test_strictly_valid(case, obj, version):
    assert kubernetes_validate.validate(obj, version, strict=True) == version


@pytest.mark.parametrize("version", VERSIONS)
def test_strict_validation_rejects_a_typo(version):
    """Guard: proves the strict schemas are in use (an unknown field must fail)."""
    sts = copy.deepcopy(next(o for _c, o in OBJECTS if o["kind"] == "StatefulSet"))
    sts["spec"]["volumeClaimTemplate"] = sts["spec"].pop("volumeClaimTemplates", [])
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(sts, version, strict=True)
