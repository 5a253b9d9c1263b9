# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure functions: module parameters -> validated parameters -> list of manifests.

Nothing here talks to an API. ``validate_*`` raise :class:`errors.InputError`
naming the offending parameter; ``*_manifests`` return plain dicts in apply
order. Empty maps and lists are never emitted (the API drops them, and an
emitted-but-dropped field would defeat the no-write idempotency check), and
every defaulted key of a list element that is part of its merge key (port
``protocol``) is set explicitly.
"""

from __future__ import annotations

import re

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError

DEFAULT_PROVISIONER_IMAGE = "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2"
SEED_MIRROR_IMAGE = "fxkjnj/nfs-client-provisioner:latest"
DEFAULT_PROVISIONER_NAME = "fuseim.pri/ifs"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "stateful.nfs"

ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
PROTOCOLS = ("TCP", "UDP", "SCTP")

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)$")

# A StatefulSet's name goes into the label controller-revision-hash=<name>-<hash>
# (<= 63 characters, hash up to 10) and into pod hostnames <name>-<ordinal>.
STATEFULSET_NAME_MAX = 52


# --------------------------------------------------------------------------- validators
def check_dns1123_label(param, value, max_len=63):
    if not isinstance(value, str) or not value:
        raise InputError(param, "must be a non-empty string (DNS-1123 label)")
    if len(value) > max_len or not _DNS1123_LABEL.match(value):
        raise InputError(param, f"{value!r} is not a valid DNS-1123 label: at most {max_len} characters,"
                                " lowercase letters, digits and '-', starting and ending with a letter or digit"
                                " (e.g. 'web-1')")
    return value


def check_dns1123_subdomain(param, value):
    if not isinstance(value, str) or not value:
        raise InputError(param, "must be a non-empty string (DNS-1123 subdomain)")
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise InputError(param, f"{value!r} is not a valid DNS-1123 subdomain: at most 253 characters, lowercase letters,"
                                " digits, '-' and '.', each part starting and ending with a letter or digit")
    return value


def check_qualified_name(param, value):
    """``[prefix/]name`` as used by label keys and provisioner names."""
    if not isinstance(value, str) or not value:
        raise InputError(param, "must be a non-empty string")
    prefix, sep, name = value.rpartition("/")
    if sep and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        raise InputError(param, f"{value!r}: the prefix before '/' must be a DNS-1123 subdomain")
    if len(name) > 63 or not _QUALIFIED_NAME.match(name):
        raise InputError(param, f"{value!r} is not a qualified name: at most 63 characters of letters, digits, '-', '_'"
                                " and '.', starting and ending with a letter or digit, optionally prefixed by"
                                " a DNS subdomain and '/'")
    return value


def check_labels(param, labels, required=False):
    if labels is None:
        labels = {}
    if not isinstance(labels, dict):
        raise InputError(param, "must be a dictionary of label keys to values")
    if required and not labels:
        raise InputError(param, "must contain at least one label")
    out = {}
    for key, value in labels.items():
        check_qualified_name(f"{param} key", key)
        value = "" if value is None else value
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InputError(param, f"value of {key!r} must be a string, got {value!r}")
        value = str(value)
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            raise InputError(param, f"value {value!r} of label {key!r} is not a valid label value (at most 63 characters of"
                                    " letters, digits, '-', '_', '.', starting and ending alphanumeric)")
        out[key] = value
    return out


def check_quantity(param, value, positive=True):
    text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _QUANTITY.match(text.strip() if text else ""):
        raise InputError(param, f"{value!r} is not a Kubernetes quantity (examples: 1Gi, 500Mi, 10G, 1.5Ti)")
    text = text.strip()
    if positive:
        from ansible_collections.stateful.nfs.plugins.module_utils.k8s.apply import (
            parse_quantity,
        )

        if not parse_quantity(text) or parse_quantity(text) <= 0:
            raise InputError(param, f"{value!r} must be greater than zero")
    return text


def check_int(param, value, minimum=0, maximum=None, allow_none=True):
    if value is None:
        if allow_none:
            return None
        raise InputError(param, "is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(param, f"must be an integer, got {value!r}")
    if value < minimum:
        raise InputError(param, f"must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(param, f"must be <= {maximum}, got {value}")
    return value


def check_absolute_path(param, value):
    if not isinstance(value, str) or not value.startswith("/"):
        raise InputError(param, f"{value!r} must be an absolute path (starting with '/')")
    if "\x00" in value or "\n" in value:
        raise InputError(param, f"{value!r} contains a NUL or newline character")
    return value


def check_host(param, value):
    if not isinstance(value, str) or not value or len(value) > 253 or not _HOST.match(value):
        raise InputError(param, f"{value!r} is not a host name or IP address")
    return value


def check_image(param, value):
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise InputError(param, f"{value!r} is not a container image reference")
    return value


def check_choice(param, value, choices):
    if value not in choices:
        raise InputError(param, "{!r} is not one of {}".format(value, ", ".join(choices)))
    return value


def check_list_of_dicts(param, value):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise InputError(param, "must be a list of dictionaries")
    return value


def check_dict(param, value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(param, "must be a dictionary")
    return value


def check_resources(param, value):
    value = check_dict(param, value)
    unknown = set(value) - {"limits", "requests", "claims"}
    if unknown:
        raise InputError(param, "unknown key(s) {}: expected limits and/or requests".format(", ".join(sorted(unknown))))
    for section in ("limits", "requests"):
        for res, qty in (value.get(section) or {}).items():
            check_quantity(f"{param}.{section}.{res}", qty, positive=False)
    return value


def _prune(obj):
    """Drop None values and empty maps/lists, recursively."""
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
def provisioner_names(name):
    """Object names derived from ``name`` (the seed's names for ``nfs-client-provisioner``)."""
    return {
        "service_account": name,
        "cluster_role": f"{name}-runner",
        "cluster_role_binding": f"run-{name}",
        "role": f"leader-locking-{name}",
        "role_binding": f"leader-locking-{name}",
        "deployment": name,
    }


def validate_provisioner_params(params, state="present"):
    """Validated copy of the ``nfs_provisioner`` parameters. Raises InputError."""
    p = dict(params)
    check_dns1123_label("namespace", p.get("namespace"))
    # the name is also the value of the pods' "app" label: a DNS-1123 label fits both
    check_dns1123_label("name", p.get("name"))
    check_dns1123_subdomain("storage_class_name", p.get("storage_class_name"))
    if state == "absent":
        return p
    check_qualified_name("provisioner_name", p.get("provisioner_name"))
    if p.get("nfs_server") is None:
        raise InputError("nfs_server", "is required when state=present")
    check_host("nfs_server", p["nfs_server"])
    if p.get("nfs_path") is None:
        raise InputError("nfs_path", "is required when state=present")
    check_absolute_path("nfs_path", p["nfs_path"])
    check_image("image", p.get("image"))
    check_int("replicas", p.get("replicas"), 0, allow_none=False)
    p["labels"] = check_labels("labels", p.get("labels"))
    p["resources"] = check_resources("resources", p.get("resources"))
    p["node_selector"] = check_labels("node_selector", p.get("node_selector"))
    p["tolerations"] = check_list_of_dicts("tolerations", p.get("tolerations"))
    p["security_context"] = check_dict("security_context", p.get("security_context"))
    p["pod_security_context"] = check_dict("pod_security_context", p.get("pod_security_context"))
    secrets = p.get("image_pull_secrets") or []
    for i, s in enumerate(secrets):
        check_dns1123_subdomain(f"image_pull_secrets[{i}]", s)
    p["image_pull_secrets"] = list(secrets)
    if p.get("path_pattern") is not None and (not isinstance(p["path_pattern"], str) or not p["path_pattern"]
                                              or p["path_pattern"].startswith("/")):
        raise InputError("path_pattern", "{!r} must be a non-empty relative path template such as"
                                         " '${{.PVC.namespace}}/${{.PVC.name}}'".format(p["path_pattern"]))
    if p.get("on_delete") is not None:
        check_choice("on_delete", p["on_delete"], ("delete", "retain"))
    check_choice("reclaim_policy", p.get("reclaim_policy"), ("Delete", "Retain"))
    check_choice("volume_binding_mode", p.get("volume_binding_mode"), ("Immediate", "WaitForFirstConsumer"))
    mount_options = p.get("mount_options") or []
    if not all(isinstance(m, str) and m and "," not in m and not any(c.isspace() for c in m)
               for m in mount_options):
        raise InputError("mount_options", "must be a list of single mount options such as 'nfsvers=4.1'"
                                          f" (no commas or spaces), got {mount_options!r}")
    p["mount_options"] = list(mount_options)
    return p


def namespace_manifest(name):
    """A Namespace labelled as created by this collection (create_namespace: true)."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}}}


def provisioner_labels(p):
    labels = {"app": p["name"], MANAGED_BY_LABEL: MANAGED_BY}
    labels.update(p.get("labels") or {})
    return labels


def provisioner_manifests(p):
    """ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding, Deployment, StorageClass."""
    ns = p["namespace"]
    names = provisioner_names(p["name"])
    labels = provisioner_labels(p)
    meta_labels = {MANAGED_BY_LABEL: MANAGED_BY}
    meta_labels.update(p.get("labels") or {})

    def meta(name, namespaced=True, extra=None):
        m = {"name": name, "labels": dict(meta_labels)}
        if namespaced:
            m["namespace"] = ns
        if extra:
            m.update(extra)
        return m

    sa_subject = [{"kind": "ServiceAccount", "name": names["service_account"], "namespace": ns}]
    out = [
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
    container = {
        "name": "nfs-client-provisioner",
        "image": p["image"],
        "imagePullPolicy": p.get("image_pull_policy") or "IfNotPresent",
        "env": [
            {"name": "PROVISIONER_NAME", "value": p["provisioner_name"]},
            {"name": "NFS_SERVER", "value": p["nfs_server"]},
            {"name": "NFS_PATH", "value": p["nfs_path"]},
        ],
        "volumeMounts": [{"name": "nfs-client-root", "mountPath": "/persistentvolumes"}],
        "resources": p.get("resources") or None,
        "securityContext": p.get("security_context") or None,
    }
    selector = {"app": p["name"]}
    pod_spec = {
        "serviceAccountName": names["service_account"],
        "containers": [container],
        "volumes": [{"name": "nfs-client-root", "nfs": {"server": p["nfs_server"], "path": p["nfs_path"]}}],
        "nodeSelector": p.get("node_selector") or None,
        "tolerations": p.get("tolerations") or None,
        "imagePullSecrets": [{"name": s} for s in p.get("image_pull_secrets") or []] or None,
        "securityContext": p.get("pod_security_context") or None,
    }
    out.append(_prune({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": names["deployment"], "namespace": ns, "labels": labels},
        "spec": {
            "replicas": p["replicas"],
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }))
    # replicas: 0 must survive pruning
    out[-1]["spec"]["replicas"] = p["replicas"]
    out.append(storage_class_manifest(p))
    return out


def storage_class_manifest(p):
    parameters = {"archiveOnDelete": "true" if p.get("archive_on_delete", True) else "false"}
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
        "reclaimPolicy": p.get("reclaim_policy") or "Delete",
        "volumeBindingMode": p.get("volume_binding_mode") or "Immediate",
        "allowVolumeExpansion": p.get("allow_volume_expansion"),
        "mountOptions": p.get("mount_options") or None,
    }
    return _prune(sc)


def provisioner_refs(p):
    """(kind, name, namespaced) of every object the provisioner owns, in apply order."""
    names = provisioner_names(p["name"])
    return [
        ("ServiceAccount", names["service_account"], True),
        ("ClusterRole", names["cluster_role"], False),
        ("ClusterRoleBinding", names["cluster_role_binding"], False),
        ("Role", names["role"], True),
        ("RoleBinding", names["role_binding"], True),
        ("Deployment", names["deployment"], True),
        ("StorageClass", p["storage_class_name"], False),
    ]


# --------------------------------------------------------------------------- statefulset
def validate_statefulset_params(params, state="present"):
    """Validated copy of the ``statefulset`` parameters. Raises InputError."""
    p = dict(params)
    check_dns1123_label("namespace", p.get("namespace"))
    check_dns1123_label("name", p.get("name"), max_len=STATEFULSET_NAME_MAX)
    p["service_name"] = p.get("service_name") or p["name"]
    check_dns1123_label("service_name", p["service_name"])
    vcts = check_list_of_dicts("volume_claim_templates", p.get("volume_claim_templates"))
    names = set()
    clean_vcts = []
    for i, v in enumerate(vcts):
        prefix = f"volume_claim_templates[{i}]"
        unknown = set(v) - {"name", "storage_class_name", "access_modes", "size", "mount_path"}
        if unknown:
            raise InputError(prefix, "unknown key(s) {}".format(", ".join(sorted(unknown))))
        check_dns1123_label(prefix + ".name", v.get("name"))
        if v["name"] in names:
            raise InputError(prefix + ".name", "{!r} is used by two templates".format(v["name"]))
        names.add(v["name"])
        clean_vcts.append(dict(v))
        if state == "absent":
            continue
        if v.get("storage_class_name") is not None:
            check_dns1123_subdomain(prefix + ".storage_class_name", v["storage_class_name"])
        modes = v.get("access_modes") or ["ReadWriteOnce"]
        if not isinstance(modes, list):
            raise InputError(prefix + ".access_modes", "must be a list")
        for m in modes:
            check_choice(prefix + ".access_modes", m, ACCESS_MODES)
        clean_vcts[-1]["access_modes"] = list(modes)
        if v.get("size") is None:
            raise InputError(prefix + ".size", "is required (e.g. 1Gi)")
        clean_vcts[-1]["size"] = check_quantity(prefix + ".size", v["size"])
        if v.get("mount_path") is None:
            raise InputError(prefix + ".mount_path", "is required (e.g. /usr/share/nginx/html)")
        check_absolute_path(prefix + ".mount_path", v["mount_path"])
    p["volume_claim_templates"] = clean_vcts
    if state == "absent":
        return p

    p["labels"] = check_labels("labels", p.get("labels") if p.get("labels") else {"app": p["name"]},
                               required=True)
    p["selector"] = check_labels("selector", p.get("selector") if p.get("selector") else dict(p["labels"]),
                                 required=True)
    for k, v in p["selector"].items():
        if p["labels"].get(k) != v:
            raise InputError("selector", "{}={} is not among labels {}: the pods would not match the selector".format(k, v, p["labels"]))
    check_int("replicas", p.get("replicas"), 0, allow_none=False)
    p["container_name"] = p.get("container_name") or p["name"]
    check_dns1123_label("container_name", p["container_name"])
    if p.get("image") is None:
        raise InputError("image", "is required when state=present")
    check_image("image", p["image"])
    ports = check_list_of_dicts("ports", p.get("ports"))
    clean_ports, seen = [], set()
    for i, port in enumerate(ports):
        prefix = f"ports[{i}]"
        unknown = set(port) - {"name", "container_port", "protocol"}
        if unknown:
            raise InputError(prefix, "unknown key(s) {}".format(", ".join(sorted(unknown))))
        number = check_int(prefix + ".container_port", port.get("container_port"), 1, 65535, allow_none=False)
        proto = check_choice(prefix + ".protocol", port.get("protocol") or "TCP", PROTOCOLS)
        name = port.get("name")
        if name is not None:
            if len(name) > 15 or not _IANA_SVC_NAME.match(name) or "--" in name or not re.search("[a-z]", name):
                raise InputError(prefix + ".name", f"{name!r} is not a valid port name: at most 15 lowercase letters,"
                                                   " digits and '-', with at least one letter")
        elif len(ports) > 1:
            raise InputError(prefix + ".name", "is required when the StatefulSet exposes more than one port"
                                               " (the headless Service needs named ports)")
        if (number, proto) in seen:
            raise InputError(prefix, f"port {number}/{proto} is listed twice")
        seen.add((number, proto))
        clean_ports.append({"name": name, "container_port": number, "protocol": proto})
    p["ports"] = clean_ports
    p["resources"] = check_resources("resources", p.get("resources"))
    p["readiness_probe"] = check_dict("readiness_probe", p.get("readiness_probe"))
    p["env"] = check_list_of_dicts("env", p.get("env"))
    p["node_selector"] = check_labels("node_selector", p.get("node_selector"))
    p["tolerations"] = check_list_of_dicts("tolerations", p.get("tolerations"))
    check_choice("pod_management_policy", p.get("pod_management_policy") or "OrderedReady",
                 ("OrderedReady", "Parallel"))
    p["pod_management_policy"] = p.get("pod_management_policy") or "OrderedReady"
    check_choice("update_strategy", p.get("update_strategy") or "RollingUpdate", ("RollingUpdate", "OnDelete"))
    p["update_strategy"] = p.get("update_strategy") or "RollingUpdate"
    check_int("partition", p.get("partition"), 0)
    mu = p.get("max_unavailable")
    if mu is not None:
        if isinstance(mu, str) and re.match(r"^[0-9]+$", mu):
            mu = int(mu)
        if isinstance(mu, bool) or not (isinstance(mu, int) and mu >= 1
                                        or isinstance(mu, str) and re.match(r"^([1-9][0-9]?|100)%$", mu)):
            raise InputError("max_unavailable", f"{mu!r} must be an integer >= 1 or a percentage such as '25%'")
        p["max_unavailable"] = mu
    if p["update_strategy"] == "OnDelete" and (p.get("partition") is not None or mu is not None):
        raise InputError("partition", "partition and max_unavailable apply only to update_strategy=RollingUpdate")
    retention = check_dict("pvc_retention_policy", p.get("pvc_retention_policy"))
    for key in retention:
        check_choice("pvc_retention_policy key", key, ("when_deleted", "when_scaled"))
        check_choice(f"pvc_retention_policy.{key}", retention[key], ("Retain", "Delete"))
    p["pvc_retention_policy"] = retention
    check_int("min_ready_seconds", p.get("min_ready_seconds"), 0)
    check_int("ordinals_start", p.get("ordinals_start"), 0)
    return p


def statefulset_service_manifest(p):
    ports = [{"name": port["name"], "port": port["container_port"], "targetPort": port["container_port"],
              "protocol": port["protocol"]} for port in p["ports"]]
    return _prune({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": p["service_name"], "namespace": p["namespace"],
                     "labels": dict(p["labels"], **{MANAGED_BY_LABEL: MANAGED_BY})},
        "spec": {"clusterIP": "None", "selector": dict(p["selector"]), "ports": ports or None},
    })


def statefulset_manifest(p):
    container = {
        "name": p["container_name"],
        "image": p["image"],
        "imagePullPolicy": p.get("image_pull_policy"),
        "ports": [{"name": port["name"], "containerPort": port["container_port"], "protocol": port["protocol"]}
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
    sts = _prune({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": p["name"], "namespace": p["namespace"],
                     "labels": dict(p["labels"], **{MANAGED_BY_LABEL: MANAGED_BY})},
        "spec": spec,
    })
    # zero values that pruning must not drop
    sts["spec"]["replicas"] = p["replicas"]
    if p.get("min_ready_seconds") is not None:
        sts["spec"]["minReadySeconds"] = p["min_ready_seconds"]
    if p.get("ordinals_start") is not None:
        sts["spec"]["ordinals"] = {"start": p["ordinals_start"]}
    if p.get("partition") is not None and p["update_strategy"] == "RollingUpdate":
        sts["spec"]["updateStrategy"].setdefault("rollingUpdate", {})["partition"] = p["partition"]
    return sts


def statefulset_manifests(p):
    """[headless Service (when create_service), StatefulSet]."""
    out = []
    if p.get("create_service", True):
        out.append(statefulset_service_manifest(p))
    out.append(statefulset_manifest(p))
    return out


# Fields of an existing StatefulSet's spec that the API refuses to change.
IMMUTABLE_STATEFULSET_FIELDS = ("selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates")


def immutable_changes(desired, live):
    """Names (``spec.<field>``) of immutable StatefulSet fields that ``desired`` would change on ``live``."""
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.apply import (
        first_difference,
    )

    changed = []
    dspec, lspec = desired.get("spec") or {}, (live or {}).get("spec") or {}
    for field in IMMUTABLE_STATEFULSET_FIELDS:
        d, lv = dspec.get(field), lspec.get(field)
        if field == "podManagementPolicy":
            d, lv = d or "OrderedReady", lv or "OrderedReady"
            if d != lv:
                changed.append("spec." + field)
        elif field == "volumeClaimTemplates":
            d, lv = d or [], lv or []
            if len(d) != len(lv) or any(first_difference(_vct_essence(a), b) is not None for a, b in zip(d, lv)):
                changed.append("spec." + field)
        elif field == "selector":
            if (d or {}) != (lv or {}):
                changed.append("spec." + field)
        elif d != lv:
            changed.append("spec." + field)
    return changed


def _vct_essence(vct):
    return {"metadata": {"name": vct["metadata"]["name"]}, "spec": vct.get("spec") or {}}
