# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static map of the kinds this collection touches to their REST paths.

All of them are core, GA kinds whose group/version/plural have not changed
since Kubernetes 1.22, so there is no discovery round trip (one less request).
"""

from __future__ import annotations

from urllib.parse import quote

# kind -> (apiVersion, plural, namespaced)
KINDS = {
    "Namespace": ("v1", "namespaces", False),
    "ServiceAccount": ("v1", "serviceaccounts", True),
    "Service": ("v1", "services", True),
    "Pod": ("v1", "pods", True),
    "Node": ("v1", "nodes", False),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims", True),
    "PersistentVolume": ("v1", "persistentvolumes", False),
    "Event": ("v1", "events", True),
    "Deployment": ("apps/v1", "deployments", True),
    "ReplicaSet": ("apps/v1", "replicasets", True),
    "StatefulSet": ("apps/v1", "statefulsets", True),
    "ControllerRevision": ("apps/v1", "controllerrevisions", True),
    "ClusterRole": ("rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "rolebindings", True),
    "StorageClass": ("storage.k8s.io/v1", "storageclasses", False),
}


class Ref:
    """Identity of one object: kind, name and (for namespaced kinds) namespace."""

    __slots__ = ("kind", "name", "namespace")

    def __init__(self, kind, name, namespace=None):
        if kind not in KINDS:
            raise ValueError(f"unsupported kind {kind!r}")
        self.kind = kind
        self.name = name
        self.namespace = namespace if KINDS[kind][2] else None

    @classmethod
    def of(cls, manifest):
        meta = manifest.get("metadata") or {}
        return cls(manifest["kind"], meta.get("name"), meta.get("namespace"))

    @property
    def api_version(self):
        return KINDS[self.kind][0]

    @property
    def namespaced(self):
        return KINDS[self.kind][2]

    def __str__(self):
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"

    def __repr__(self):
        return f"Ref({self})"

    def __eq__(self, other):
        return isinstance(other, Ref) and (self.kind, self.name, self.namespace) == (
            other.kind, other.name, other.namespace)

    def __hash__(self):
        return hash((self.kind, self.name, self.namespace))


def collection_path(kind, namespace=None):
    api_version, plural, namespaced = KINDS[kind]
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespaced:
        if not namespace:
            return f"{base}/{plural}"  # all namespaces (list only)
        return "{}/namespaces/{}/{}".format(base, quote(namespace, safe=""), plural)
    return f"{base}/{plural}"


def object_path(ref):
    if ref.namespaced and not ref.namespace:
        raise ValueError(f"{ref.kind} needs a namespace")
    return "{}/{}".format(collection_path(ref.kind, ref.namespace), quote(ref.name, safe=""))
