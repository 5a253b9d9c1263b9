# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure functions: validated parameters (see ``validation``) -> list of manifests.

Nothing here talks to an API or validates. ``*_manifests`` return plain dicts in
apply order. Empty maps and lists are never emitted (the API drops them, and an
emitted-but-dropped field would defeat the no-write idempotency check), and
every defaulted key of a list element that is part of its merge key (port
``protocol``) is set explicitly.
"""

from __future__ import annotations

import hashlib
import json

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "stateful.nfs"
COMPONENT_LABEL = "app.kubernetes.io/component"
# The provisioner's own NFS mount, as a volume of its Deployment and (with mount options) as a
# PersistentVolume and PersistentVolumeClaim labelled with this component.
ROOT_VOLUME = "nfs-client-root"
ROOT_COMPONENT = "provisioner-root"
# What the root volume claims; symbolic (an NFS volume has no size), as in the upstream chart.
ROOT_CAPACITY = "10Mi"


def _prune(obj):
    """Drop None values and empty maps/lists, recursively (zeros and False stay)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            v = _prune(v)
            if v is None or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(obj, list):
        return [_prune(x) for x in obj if x is not None]
    return obj


# --------------------------------------------------------------------------- provisioner
def provisioner_names(name, namespace):
    """Object names derived from ``name`` (the seed's names for ``nfs-client-provisioner``) and
    ``namespace``.

    The cluster-scoped RBAC objects carry the namespace (``<namespace>:<name>-runner``,
    ``<namespace>:run-<name>``; ``:`` is in neither a namespace nor a Deployment name, so two
    provisioners never share one): a second provisioner of the same name in another namespace
    cannot take over the first one's binding. 0.3.0 named them after ``name`` alone
    (:func:`legacy_rbac_names`).
    """
    return {
        "service_account": name,
        "cluster_role": f"{namespace}:{name}-runner",
        "cluster_role_binding": f"{namespace}:run-{name}",
        "role": f"leader-locking-{name}",
        "role_binding": f"leader-locking-{name}",
        "deployment": name,
    }


def legacy_rbac_names(name):
    """The ClusterRole and ClusterRoleBinding names of 0.3.0, shared by every namespace."""
    return {"cluster_role": f"{name}-runner", "cluster_role_binding": f"run-{name}"}


def _root_hash(key):
    return hashlib.sha256(json.dumps(key).encode("utf-8")).hexdigest()[:10]


def root_volume_name(p):
    """Name of the PV and PVC that carry the provisioner's own mount, or None without mount options.

    ``<name>-root-<hash>``, the hash over namespace, server, path and options: a PV's NFS source
    cannot change, so a change of any of them is a new pair (and a new pod for the Deployment),
    and two provisioners of one name in two namespaces never share the (cluster-scoped) PV.
    ``p["root_volume"]``, when set, is the name of a pair kept from 0.3.0 (:func:`legacy_root_volume_name`).
    """
    if not p.get("mount_options"):
        return None
    if p.get("root_volume"):
        return p["root_volume"]
    key = [p["namespace"], p["nfs_server"], p["nfs_path"], list(p["mount_options"])]
    return "{}-root-{}".format(p["name"], _root_hash(key))


def legacy_root_volume_name(p):
    """0.3.0's name of the root pair (the hash without the namespace), or None without mount options."""
    if not p.get("mount_options"):
        return None
    return "{}-root-{}".format(p["name"], _root_hash([p["nfs_server"], p["nfs_path"], list(p["mount_options"])]))


def root_selector(name):
    """Label selector of every root PV and PVC of the provisioner ``name``."""
    return f"app={name},{COMPONENT_LABEL}={ROOT_COMPONENT}"


def root_volume_manifests(p):
    """[PersistentVolume, PersistentVolumeClaim] of the provisioner's own mount with ``mount_options``.

    The upstream chart's way (``nfs.mountOptions``: a static PV with ``mountOptions`` and a claim
    of it), with the two bound to each other in advance (the PV's ``claimRef``, the claim's
    ``volumeName``; Kubernetes docs, Persistent Volumes, "Reserving a PersistentVolume") so that
    no other claim can take the volume and the claim binds no other one. No StorageClass (no
    dynamic provisioning, no default class), reclaim policy Retain (deleting the PV object never
    touches the export). ReadWriteMany: standby replicas may run on other nodes. [] without options.
    """
    name = root_volume_name(p)
    if name is None:
        return []
    labels = dict(provisioner_labels(p), **{COMPONENT_LABEL: ROOT_COMPONENT})
    pv = {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "capacity": {"storage": ROOT_CAPACITY},
            "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "mountOptions": list(p["mount_options"]),
            "nfs": {"server": p["nfs_server"], "path": p["nfs_path"]},
            "claimRef": {"namespace": p["namespace"], "name": name},
        },
    }
    pvc = {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": p["namespace"], "labels": dict(labels)},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            # "" (not absent): no StorageClass, so the default class's provisioner is not asked
            "storageClassName": "",
            "volumeName": name,
            "resources": {"requests": {"storage": ROOT_CAPACITY}},
        },
    }
    return [pv, pvc]


def namespace_manifest(name):
    """A Namespace labelled as created by this collection (create_namespace: true)."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}}}


def provisioner_labels(p):
    labels = {"app": p["name"], MANAGED_BY_LABEL: MANAGED_BY}
    labels.update(p.get("labels") or {})
    return labels


def provisioner_manifests(p):
    """ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding, [root PV and PVC,] Deployment, StorageClass.

    The root PV and PVC (see :func:`root_volume_manifests`) are there only with ``mount_options``;
    without, the Deployment mounts the export as an inline ``nfs`` volume.
    """
    names = provisioner_names(p["name"], p["namespace"])
    out = _provisioner_rbac(p, names)
    out.extend(root_volume_manifests(p))
    out.append(_provisioner_deployment(p, names))
    out.append(storage_class_manifest(p))
    return out


def _provisioner_rbac(p, names):
    """The provisioner's ServiceAccount and the roles it needs (PVs, claims, classes, events, its lock)."""
    ns = p["namespace"]
    meta_labels = {MANAGED_BY_LABEL: MANAGED_BY}
    meta_labels.update(p.get("labels") or {})

    def meta(name, namespaced=True):
        m = {"name": name, "labels": dict(meta_labels)}
        if namespaced:
            m["namespace"] = ns
        return m

    sa_subject = [{"kind": "ServiceAccount", "name": names["service_account"], "namespace": ns}]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(names["service_account"])},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": meta(names["cluster_role"], namespaced=False),
            "rules": [
                {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["persistentvolumes"],
                 "verbs": ["get", "list", "watch", "create", "delete"]},
                {"apiGroups": [""], "resources": ["persistentvolumeclaims"],
                 "verbs": ["get", "list", "watch", "update"]},
                {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"],
                 "verbs": ["get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "update", "patch"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": meta(names["cluster_role_binding"], namespaced=False),
            "subjects": sa_subject,
            "roleRef": {"kind": "ClusterRole", "name": names["cluster_role"],
                        "apiGroup": "rbac.authorization.k8s.io"},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": meta(names["role"]),
            "rules": [{"apiGroups": [""], "resources": ["endpoints"],
                       "verbs": ["get", "list", "watch", "create", "update", "patch"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": meta(names["role_binding"]),
            "subjects": sa_subject,
            "roleRef": {"kind": "Role", "name": names["role"], "apiGroup": "rbac.authorization.k8s.io"},
        },
    ]


def _provisioner_deployment(p, names):
    """The provisioner's Deployment: one container mounting the share's root at /persistentvolumes."""
    labels = provisioner_labels(p)
    container = {
        "name": "nfs-client-provisioner",
        "image": p["image"],
        "imagePullPolicy": p["image_pull_policy"],
        "env": [
            {"name": "PROVISIONER_NAME", "value": p["provisioner_name"]},
            {"name": "NFS_SERVER", "value": p["nfs_server"]},
            {"name": "NFS_PATH", "value": p["nfs_path"]},
        ],
        "volumeMounts": [{"name": ROOT_VOLUME, "mountPath": "/persistentvolumes"}],
        "resources": p.get("resources") or None,
        "securityContext": p.get("security_context") or None,
    }
    pod_spec = {
        "serviceAccountName": names["service_account"],
        "containers": [container],
        "volumes": [root_volume(p)],
        "nodeSelector": p.get("node_selector") or None,
        "tolerations": p.get("tolerations") or None,
        "imagePullSecrets": [{"name": s} for s in p.get("image_pull_secrets") or []] or None,
        "securityContext": p.get("pod_security_context") or None,
    }
    return _prune({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": names["deployment"], "namespace": p["namespace"], "labels": labels},
        "spec": {
            "replicas": p["replicas"],
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app": p["name"]}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    })


def root_volume(p):
    """The Deployment's volume for the export: the root claim with mount options, else inline ``nfs``."""
    claim = root_volume_name(p)
    if claim:
        return {"name": ROOT_VOLUME, "persistentVolumeClaim": {"claimName": claim}}
    return {"name": ROOT_VOLUME, "nfs": {"server": p["nfs_server"], "path": p["nfs_path"]}}


def root_claim_of(deployment):
    """The claim the Deployment mounts as its root volume (a live object), or None."""
    spec = ((((deployment or {}).get("spec") or {}).get("template") or {}).get("spec") or {})
    for volume in spec.get("volumes") or []:
        if volume.get("name") == ROOT_VOLUME:
            return (volume.get("persistentVolumeClaim") or {}).get("claimName")
    return None


def storage_class_manifest(p):
    # archive_on_delete unset: "true", the walkthrough's class (StorageClass parameters cannot change)
    parameters = {"archiveOnDelete": "false" if p.get("archive_on_delete") is False else "true"}
    if p.get("on_delete"):
        parameters["onDelete"] = p["on_delete"]
    if p.get("path_pattern"):
        parameters["pathPattern"] = p["path_pattern"]
    annotations = {DEFAULT_CLASS_ANNOTATION: "true"} if p.get("default_class") else None
    sc = {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": p["storage_class_name"],
                     "labels": dict({MANAGED_BY_LABEL: MANAGED_BY}, **(p.get("labels") or {})),
                     "annotations": annotations},
        "provisioner": p["provisioner_name"],
        "parameters": parameters,
        "reclaimPolicy": p["reclaim_policy"],
        "volumeBindingMode": p["volume_binding_mode"],
        "allowVolumeExpansion": p.get("allow_volume_expansion"),
        "mountOptions": p.get("mount_options") or None,
    }
    return _prune(sc)


def provisioner_refs(p):
    """(kind, name, namespaced) of every object the provisioner owns, in apply order."""
    names = provisioner_names(p["name"], p["namespace"])
    return [
        ("ServiceAccount", names["service_account"], True),
        ("ClusterRole", names["cluster_role"], False),
        ("ClusterRoleBinding", names["cluster_role_binding"], False),
        ("Role", names["role"], True),
        ("RoleBinding", names["role_binding"], True),
        ("Deployment", names["deployment"], True),
        ("StorageClass", p["storage_class_name"], False),
    ]


def proof_claim_manifest(p):
    """The claim that proves a class: ``<deployment>-proof`` in the provisioner's namespace, 1Mi,
    ReadWriteOnce, of class ``storage_class_name``, labelled as this collection's."""
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"{p['name']}-proof", "namespace": p["namespace"],
                         "labels": {MANAGED_BY_LABEL: MANAGED_BY, COMPONENT_LABEL: "class-proof"}},
            "spec": {"storageClassName": p["storage_class_name"], "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Mi"}}}}


# --------------------------------------------------------------------------- statefulset
def owned(manifest, namespace=None):
    """Copy of ``manifest`` marked as this collection's (label ``app.kubernetes.io/managed-by``),
    in ``namespace`` when it names none."""
    out = dict(manifest)
    meta = dict(out.get("metadata") or {})
    if namespace and not meta.get("namespace"):
        meta["namespace"] = namespace
    meta["labels"] = dict(meta.get("labels") or {}, **{MANAGED_BY_LABEL: MANAGED_BY})
    out["metadata"] = meta
    return out


def headless_service_manifest(sts):
    """The headless Service (``clusterIP: None``) that governs ``sts``: named ``spec.serviceName``,
    labelled as the StatefulSet, selecting its ``spec.selector.matchLabels``, with one port per
    container port of its pod template (Kubernetes docs, StatefulSets, "Stable Network ID")."""
    spec = sts.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    ports = [{"name": port.get("name"), "port": port["containerPort"], "targetPort": port["containerPort"],
              "protocol": port.get("protocol") or "TCP"}
             for container in containers for port in container.get("ports") or []]
    meta = sts.get("metadata") or {}
    return _prune({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": spec["serviceName"], "namespace": meta.get("namespace"),
                     "labels": dict(meta.get("labels") or {})},
        "spec": {"clusterIP": "None", "selector": dict((spec.get("selector") or {}).get("matchLabels") or {}),
                 "ports": ports or None},
    })


def statefulset_manifest(p):
    """The StatefulSet the shorthand options describe (``validation.validate_statefulset_options``'
    result): one container, its ports, claim templates mounted at their ``mount_path``."""
    container = {
        "name": p["container_name"],
        "image": p["image"],
        "imagePullPolicy": p.get("image_pull_policy"),
        "ports": [{"name": port["name"], "containerPort": port["container_port"], "protocol": port.get("protocol") or "TCP"}
                  for port in p["ports"]] or None,
        "env": p.get("env") or None,
        "resources": p.get("resources") or None,
        "readinessProbe": p.get("readiness_probe") or None,
        "volumeMounts": [{"name": v["name"], "mountPath": v["mount_path"]}
                         for v in p["volume_claim_templates"]] or None,
    }
    vcts = []
    for v in p["volume_claim_templates"]:
        vcts.append({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": v["name"]},
            "spec": {
                "storageClassName": v.get("storage_class_name"),
                "accessModes": list(v["access_modes"]),
                "resources": {"requests": {"storage": v["size"]}},
            },
        })
    update = {"type": p["update_strategy"]}
    if p["update_strategy"] == "RollingUpdate":
        rolling = {}
        if p.get("partition") is not None:
            rolling["partition"] = p["partition"]
        if p.get("max_unavailable") is not None:
            rolling["maxUnavailable"] = p["max_unavailable"]
        if rolling:
            update["rollingUpdate"] = rolling
    retention = p.get("pvc_retention_policy") or {}
    spec = {
        "serviceName": p["service_name"],
        "replicas": p["replicas"],
        "selector": {"matchLabels": dict(p["selector"])},
        "podManagementPolicy": p["pod_management_policy"],
        "updateStrategy": update,
        "minReadySeconds": p.get("min_ready_seconds"),
        "ordinals": {"start": p["ordinals_start"]} if p.get("ordinals_start") is not None else None,
        "persistentVolumeClaimRetentionPolicy": {
            "whenDeleted": retention.get("when_deleted"),
            "whenScaled": retention.get("when_scaled"),
        },
        "template": {
            "metadata": {"labels": dict(p["labels"])},
            "spec": {
                "containers": [container],
                "nodeSelector": p.get("node_selector") or None,
                "tolerations": p.get("tolerations") or None,
            },
        },
        "volumeClaimTemplates": vcts or None,
    }
    return _prune({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": p["name"], "namespace": p["namespace"],
                     "labels": dict(p["labels"], **{MANAGED_BY_LABEL: MANAGED_BY})},
        "spec": spec,
    })


def statefulset_manifests(p):
    """[headless Service (unless create_service is false), StatefulSet] of validated parameters:
    ``p["definition"]`` (given, read from ``src`` or built from the shorthand) and ``p["service"]``
    (a whole Service manifest, or None for :func:`headless_service_manifest`)."""
    sts = owned(p["definition"], p["namespace"])
    out = []
    if p["create_service"]:
        out.append(owned(p["service"], p["namespace"]) if p.get("service") else headless_service_manifest(sts))
    out.append(sts)
    return out
