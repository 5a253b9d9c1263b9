"""Resource table of the test double and the discovery documents built from it."""
from __future__ import annotations

from dataclasses import dataclass, field

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Res:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short: tuple = ()
    subresources: tuple = ()  # e.g. ("status", "scale")
    has_spec_generation: bool = True
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def group_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self):
        return self.group_version

    @property
    def key(self):
        return (self.group, self.plural)

    def prefix(self):
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


RESOURCES = [
    Res("", "v1", "Namespace", "namespaces", False, ("ns",), ("status",), False),
    Res("", "v1", "Node", "nodes", False, ("no",), ("status",), False),
    Res("", "v1", "Pod", "pods", True, ("po",), ("status",)),
    Res("", "v1", "Service", "services", True, ("svc",), ("status",)),
    Res("", "v1", "Endpoints", "endpoints", True, ("ep",), (), False),
    Res("", "v1", "Event", "events", True, ("ev",), (), False),
    Res("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), (), False),
    Res("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), ("status",)),
    Res("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), ("status",)),
    Res("", "v1", "ConfigMap", "configmaps", True, ("cm",), (), False),
    Res("", "v1", "Secret", "secrets", True, (), (), False),
    Res("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("status", "scale")),
    Res("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("status", "scale")),
    Res("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("status", "scale")),
    Res("apps", "v1", "ControllerRevision", "controllerrevisions", True, (), (), False),
    Res("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, (), (), False),
    Res("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, (), (), False),
    Res("rbac.authorization.k8s.io", "v1", "Role", "roles", True, (), (), False),
    Res("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, (), (), False),
    Res("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",), (), False),
    Res("coordination.k8s.io", "v1", "Lease", "leases", True, (), (), False),
]

BY_KEY = {r.key: r for r in RESOURCES}
BY_KIND = {(r.group, r.kind): r for r in RESOURCES}
GROUPS: dict[str, list[str]] = {}
for _r in RESOURCES:
    if _r.group:
        GROUPS.setdefault(_r.group, [])
        if _r.version not in GROUPS[_r.group]:
            GROUPS[_r.group].append(_r.version)


def lookup(group: str, version: str, plural: str):
    r = BY_KEY.get((group, plural))
    if r and r.version == version:
        return r
    return None


def by_api_version_kind(api_version: str, kind: str):
    group = api_version.split("/")[0] if "/" in api_version else ""
    return BY_KIND.get((group, kind))


def api_versions():
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}


def api_group_list():
    groups = []
    for g, versions in GROUPS.items():
        vs = [{"groupVersion": f"{g}/{v}", "version": v} for v in versions]
        groups.append({"name": g, "versions": vs, "preferredVersion": vs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group):
    if group not in GROUPS:
        return None
    vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in GROUPS[group]]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": vs, "preferredVersion": vs[0]}


def resource_list(group, version):
    items = []
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        verbs = list(VERBS)
        if r.plural == "namespaces":
            verbs.remove("deletecollection")
        items.append({"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced,
                      "kind": r.kind, "verbs": verbs, "shortNames": list(r.short),
                      "storageVersionHash": ""})
        for sub in r.subresources:
            if sub == "scale":
                items.append({"name": f"{r.plural}/scale", "singularName": "", "namespaced": r.namespaced,
                              "group": "autoscaling", "version": "v1", "kind": "Scale",
                              "verbs": ["get", "patch", "update"]})
            else:
                items.append({"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                              "kind": r.kind, "verbs": ["get", "patch", "update"]})
    if not items:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": items}
