# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of the Kubernetes modules' parameters: the one place these rules live.

``validate_*_params`` take the module's parameters and return a validated copy (defaults
filled in, values normalised) or raise :class:`errors.InputError` naming the parameter.
Each module calls its validator once, at its entry, before any request; the runners take
the validated copy as it is. Roles ask the same functions through the filter
``stateful.nfs.k8s_input_problems``, so a role refuses bad input with the module's own
words before its first task that changes anything.

The name rules are Kubernetes' own (k8s.io/apimachinery/pkg/util/validation): DNS-1123
labels and subdomains, DNS-1035 labels (Service names), qualified names (label keys),
label values, IANA service names (port names) and resource quantities.
"""

from __future__ import annotations

import copy
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.compare import (
    BOOKKEEPING_METADATA,
    QUANTITY,
    parse_quantity,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError
from ansible_collections.stateful.nfs.plugins.module_utils.mount_options import (
    MountOptionError,
    nfs_mount_options,
)

ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
PROTOCOLS = ("TCP", "UDP", "SCTP")

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)$")

# A StatefulSet's name goes into the label controller-revision-hash=<name>-<hash>
# (<= 63 characters, hash up to 10) and into pod hostnames <name>-<ordinal>.
STATEFULSET_NAME_MAX = 52

DEFAULT_PROVISIONER_IMAGE = "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2"
DEFAULT_PROVISIONER_NAME = "fuseim.pri/ifs"
# Repositories of the retired external-storage nfs-client-provisioner. It builds claim references
# from metadata.selfLink, which Kubernetes 1.20 stopped filling in (feature gate RemoveSelfLink,
# locked on since 1.24): its claims stay Pending ("selfLink was empty, can't make reference").
LEGACY_PROVISIONER_REPOSITORIES = ("quay.io/external_storage/nfs-client-provisioner",
                                   "docker.io/fxkjnj/nfs-client-provisioner")

# --------------------------------------------------------------------------- argument specs
# The modules' options (without the connection options of module.argument_spec), shared by
# the modules and by the filter k8s_input_problems, which applies them exactly as
# AnsibleModule does before it asks validate_*_params.

# The options of the modules that apply objects (documented in stateful.nfs.k8s_auth.apply).
APPLY_OPTIONS = {
    "force_conflicts": {"type": "bool", "default": True},
    "create_namespace": {"type": "bool", "default": False},
}

# A claim template of the shorthand.
VCT_OPTIONS = {
    "name": {"type": "str", "required": True},
    "storage_class_name": {"type": "str"},
    "access_modes": {"type": "list", "elements": "str", "default": ["ReadWriteOnce"], "choices": list(ACCESS_MODES)},
    "size": {"type": "str", "required": True},
    "mount_path": {"type": "path", "required": True},
}

# The shorthand: one container and its claims, built into a definition (manifests.statefulset_manifest).
STATEFULSET_SHORTHAND_OPTIONS = {
    "service_name": {"type": "str"},
    "replicas": {"type": "int", "default": 1},
    "labels": {"type": "dict"},
    "selector": {"type": "dict"},
    "container_name": {"type": "str"},
    "image": {"type": "str"},
    "image_pull_policy": {"type": "str", "choices": ["Always", "IfNotPresent", "Never"]},
    "ports": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str"},
        "container_port": {"type": "int", "required": True},
        "protocol": {"type": "str", "choices": list(PROTOCOLS), "default": "TCP"},
    }},
    "env": {"type": "list", "elements": "dict"},
    "resources": {"type": "dict"},
    "readiness_probe": {"type": "dict"},
    "node_selector": {"type": "dict"},
    "tolerations": {"type": "list", "elements": "dict"},
    "volume_claim_templates": {"type": "list", "elements": "dict", "options": VCT_OPTIONS},
    "pod_management_policy": {"type": "str", "choices": ["OrderedReady", "Parallel"], "default": "OrderedReady"},
    "update_strategy": {"type": "str", "choices": ["RollingUpdate", "OnDelete"], "default": "RollingUpdate"},
    "partition": {"type": "int"},
    "max_unavailable": {"type": "raw"},
    "pvc_retention_policy": {"type": "dict", "options": {
        "when_deleted": {"type": "str", "choices": ["Retain", "Delete"]},
        "when_scaled": {"type": "str", "choices": ["Retain", "Delete"]},
    }},
    "min_ready_seconds": {"type": "int"},
    "ordinals_start": {"type": "int"},
}

STATEFULSET_OPTIONS = {
    **APPLY_OPTIONS,
    **STATEFULSET_SHORTHAND_OPTIONS,
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "name": {"type": "str"},
    "namespace": {"type": "str"},
    "definition": {"type": "dict"},
    "src": {"type": "path"},
    "service": {"type": "dict"},
    "create_service": {"type": "bool", "default": True},
    "check_storage_class": {"type": "bool", "default": True},
    "planned_storage_classes": {"type": "list", "elements": "str", "default": []},
    "recreate_on_immutable_change": {"type": "bool", "default": False},
    "force_rollback": {"type": "bool", "default": False},
    "return_identity": {"type": "bool", "default": False},
    "patch": {"type": "dict", "options": {
        "replicas": {"type": "int"},
        "image": {"type": "str"},
        "container": {"type": "str"},
        "partition": {"type": "int"},
    }},
    "cascade": {"type": "str", "choices": ["background", "foreground", "orphan"], "default": "background"},
    "delete_pvcs": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 300},
}
# A shorthand option with a default (replicas, ...) does not count here: defaults are set after
# this check (ansible.module_utils.common.arg_spec), so only what the task gave conflicts.
# definition and src exclude each other in the action plugin, which passes src on beside the
# definition it read from it (for messages).
STATEFULSET_RULES = {
    "mutually_exclusive": [(whole, option) for whole in ("definition", "src")
                           for option in STATEFULSET_SHORTHAND_OPTIONS],
    "required_one_of": [("name", "definition", "src")],
}

PROVISIONER_OPTIONS = {
    **APPLY_OPTIONS,
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "name": {"type": "str", "default": "nfs-client-provisioner"},
    "namespace": {"type": "str", "default": "default"},
    "provisioner_name": {"type": "str", "default": DEFAULT_PROVISIONER_NAME},
    "nfs_server": {"type": "str"},
    "nfs_path": {"type": "str"},
    "image": {"type": "str", "default": DEFAULT_PROVISIONER_IMAGE},
    "image_pull_policy": {"type": "str", "choices": ["Always", "IfNotPresent", "Never"], "default": "IfNotPresent"},
    "replicas": {"type": "int", "default": 1},
    "labels": {"type": "dict"},
    "resources": {"type": "dict"},
    "node_selector": {"type": "dict"},
    "tolerations": {"type": "list", "elements": "dict"},
    "image_pull_secrets": {"type": "list", "elements": "str", "no_log": False},
    "security_context": {"type": "dict"},
    "pod_security_context": {"type": "dict"},
    "storage_class_name": {"type": "str", "default": "managed-nfs-storage"},
    "default_class": {"type": "bool", "default": False},
    "archive_on_delete": {"type": "bool"},
    "on_delete": {"type": "str", "choices": ["delete", "retain"]},
    "path_pattern": {"type": "str"},
    "reclaim_policy": {"type": "str", "choices": ["Delete", "Retain"], "default": "Delete"},
    "volume_binding_mode": {"type": "str", "choices": ["Immediate", "WaitForFirstConsumer"], "default": "Immediate"},
    "allow_volume_expansion": {"type": "bool"},
    "mount_options": {"type": "list", "elements": "str"},
    "replace_storage_class": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 300},
    "prove_with_claim": {"type": "bool", "default": False},
}
PROVISIONER_RULES = {"required_if": [("state", "present", ("nfs_server", "nfs_path"))]}

HTTP_GET_OPTIONS = {
    "path": {"type": "str", "default": "/"},
    "port": {"type": "raw", "required": True},
}

# The StatefulSet a read or a proof is about (doc fragment stateful.nfs.k8s_auth.statefulset).
STATEFULSET_TARGET_OPTIONS = {
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str", "default": "default"},
    "cluster_domain": {"type": "str", "default": "cluster.local"},
}

VERIFY_OPTIONS = {
    **STATEFULSET_TARGET_OPTIONS,
    "container": {"type": "str"},
    "method": {"type": "str", "choices": ["exec", "api"], "default": "exec"},
    "identity_by_exec": {"type": "bool", "default": True},
    "dns": {"type": "bool", "default": True},
    "dns_timeout": {"type": "int", "default": 60},
    "exec_timeout": {"type": "int", "default": 30},
    "storage_marker": {"type": "dict", "default": {}, "options": {
        "enabled": {"type": "bool", "default": True},
        "file": {"type": "str", "default": ".stateful-nfs-verify"},
        "line": {"type": "str", "default": "stateful.nfs {namespace}/{pod} {claim}"},
    }},
    "dns_client": {"type": "dict", "default": {}, "options": {
        "enabled": {"type": "bool", "default": True},
        "name": {"type": "str", "default": "stateful-nfs-dns-client"},
        "image": {"type": "str", "default": "busybox:1.28"},
        "image_pull_policy": {"type": "str", "choices": ["Always", "IfNotPresent", "Never"], "default": "IfNotPresent"},
        "start_timeout": {"type": "int", "default": 60},
    }},
    "nfs_side": {"type": "dict", "options": {
        "host": {"type": "str", "required": True},
        "export": {"type": "str", "required": True},
        "export_directory": {"type": "str"},
        "server": {"type": "str", "default": "127.0.0.1"},
        "volumes": {"type": "list", "elements": "dict"},
    }},
    "markers_only": {"type": "bool", "default": False},
    "fail_on_failure": {"type": "bool", "default": True},
    "app_check": {"type": "dict", "options": {
        "http_get": {"type": "dict", "options": {
            **HTTP_GET_OPTIONS,
            "status": {"type": "int", "default": 200},
            "body": {"type": "str"},
        }},
        "exec": {"type": "dict", "options": {
            "command": {"type": "list", "elements": "str", "required": True},
            "container": {"type": "str"},
            "rc": {"type": "int", "default": 0},
            "stdout": {"type": "str"},
        }},
        "timeout": {"type": "int", "default": 30},
    }, "mutually_exclusive": [("http_get", "exec")], "required_one_of": [("http_get", "exec")]},
}


INFO_OPTIONS = {
    **STATEFULSET_TARGET_OPTIONS,
    "http_get": {"type": "dict", "options": HTTP_GET_OPTIONS},
}


def with_defaults(options, params):
    """Copy of ``params`` with the argument spec's defaults for what is missing, suboptions included
    (what AnsibleModule does before a module's validator runs; a validator called directly gets the same)."""
    p = dict(params)
    for key, spec in options.items():
        if p.get(key) is None:
            p[key] = copy.deepcopy(spec.get("default"))
        sub = spec.get("options")
        if sub and isinstance(p[key], list):
            p[key] = [with_defaults(sub, item) if isinstance(item, dict) else item for item in p[key]]
        elif sub and isinstance(p[key], dict):
            p[key] = with_defaults(sub, p[key])
    return p


def _check_name(param, value, kind, pattern, max_len, rule):
    if not isinstance(value, str) or not value:
        raise InputError(param, f"must be a non-empty string ({kind})")
    if len(value) > max_len or not pattern.match(value):
        raise InputError(param, f"{value!r} is not a valid {kind}: at most {max_len} characters, {rule}")
    return value


def check_dns1123_label(param, value, max_len=63):
    return _check_name(param, value, "DNS-1123 label", _DNS1123_LABEL, max_len,
                       "lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. 'web-1')")


def check_dns1035_label(param, value, max_len=63):
    """A DNS-1035 label, the rule for Service names: like DNS-1123 but starting with a letter."""
    return _check_name(param, value, "DNS-1035 label", _DNS1035_LABEL, max_len,
                       "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
                       " (e.g. 'web')")


def check_dns1123_subdomain(param, value):
    return _check_name(param, value, "DNS-1123 subdomain", _DNS1123_SUBDOMAIN, 253,
                       "lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit")


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
    if not isinstance(text, str) or not QUANTITY.match(text.strip()):
        raise InputError(param, f"{value!r} is not a Kubernetes quantity (examples: 1Gi, 500Mi, 10G, 1.5Ti)")
    text = text.strip()
    if positive and parse_quantity(text) <= 0:
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


def validate_provisioner_params(params, state="present"):
    """Validated copy of the ``nfs_provisioner`` parameters. Raises InputError."""
    p = with_defaults(PROVISIONER_OPTIONS, params)
    check_int("wait_timeout", p.get("wait_timeout"), 1)
    check_dns1123_label("namespace", p.get("namespace"))
    # the name is also the value of the pods' "app" label: a DNS-1123 label fits both
    check_dns1123_label("name", p.get("name"))
    check_dns1123_subdomain("storage_class_name", p.get("storage_class_name"))
    if state == "absent":
        return p
    check_qualified_name("provisioner_name", p.get("provisioner_name"))
    check_host("nfs_server", p["nfs_server"])
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
    if p.get("path_pattern") is not None:
        check_path_pattern(p["path_pattern"])
    _check_reclaim_combination(p)
    mount_options = p.get("mount_options") or []
    if not all(isinstance(m, str) and m and "," not in m and not any(c.isspace() for c in m)
               for m in mount_options):
        raise InputError("mount_options", "must be a list of single mount options such as 'nfsvers=4.1'"
                                          f" (no commas or spaces), got {mount_options!r}")
    try:
        p["mount_options"] = list(nfs_mount_options(mount_options))
    except MountOptionError as exc:
        raise InputError("mount_options", str(exc))
    return p


def check_path_pattern(pattern):
    """A ``pathPattern`` that keeps every claim's directory inside the share, below its root.

    The provisioner joins the expanded pattern onto its mount and onto the export path
    (nfs-subdir-external-provisioner: ``filepath.Join``, which resolves ``..``): a ``..`` segment
    leaves the share, an absolute pattern or a ``.`` segment alone names the root itself. What a
    PVC's annotations put into ``${.PVC.annotations.<key>}`` is not known here: the lab's stand-in
    cleans the expanded path as rooted at the export (a ``..`` cannot leave it); upstream's does not.
    """
    rule = " such as '${.PVC.namespace}/${.PVC.name}'"
    if not isinstance(pattern, str) or not pattern.strip():
        raise InputError("path_pattern", f"{pattern!r} must be a non-empty relative path template" + rule)
    if pattern.startswith("/"):
        raise InputError("path_pattern", f"{pattern!r} is absolute: the provisioner joins it onto the share, so it"
                                         " must be a relative path template" + rule)
    segments = pattern.split("/")
    if ".." in segments:
        raise InputError("path_pattern", f"{pattern!r} has a '..' segment: the provisioner resolves it, so the"
                                         " directory would be made outside the share (or every claim would share"
                                         " one directory). Use a relative path template" + rule)
    if all(segment in ("", ".") for segment in segments):
        raise InputError("path_pattern", f"{pattern!r} names the share's root: every claim would share it")
    return pattern


# The provisioner acts on a volume's directory (archive, delete or keep it) only when Kubernetes
# deletes the PersistentVolume, which reclaim policy Retain never does.
_RETAIN_NOTE = ("the provisioner archives, removes or keeps a volume's directory only when Kubernetes deletes the"
                " PersistentVolume, which reclaim_policy: Retain never does (PVs and directories stay until you"
                " delete them by hand, and then nothing is archived)")


def _check_reclaim_combination(p):
    """Refuse what cannot work with reclaim_policy Retain: asking the provisioner to delete directories."""
    if p.get("reclaim_policy") != "Retain":
        return
    if p.get("on_delete") == "delete":
        raise InputError("on_delete", f"'delete' cannot work with reclaim_policy: Retain: {_RETAIN_NOTE}. Set"
                                      " reclaim_policy: Delete to have the directory of a deleted claim removed,"
                                      " or leave on_delete out to keep every directory")
    if p.get("on_delete") is None and p.get("archive_on_delete") is False:
        raise InputError("archive_on_delete", f"false (remove the directory) cannot work with reclaim_policy:"
                                              f" Retain: {_RETAIN_NOTE}. Set reclaim_policy: Delete to have the"
                                              " directory of a deleted claim removed, or leave archive_on_delete"
                                              " out to keep every directory")


def provisioner_warnings(p):
    """Combinations that are accepted but do nothing, each with the way out (validated ``p``)."""
    if p.get("reclaim_policy") != "Retain":
        return []
    if p.get("on_delete") == "retain":
        option, setting, effect = "on_delete", "retain", "kept"
    elif p.get("on_delete") is None and p.get("archive_on_delete") is True:
        option, setting, effect = "archive_on_delete", "true", "archived (archived-<dir>)"
    else:
        return []
    text = (f"{option}: {setting} has no effect with reclaim_policy: Retain: {_RETAIN_NOTE}. Set reclaim_policy:"
            f" Delete to have the directory of a deleted claim {effect} by the provisioner, or leave {option} out")
    return [text]


def image_repository(image):
    """``registry/path`` of an image reference without tag or digest (Docker Hub names completed)."""
    name = image.split("@", 1)[0]
    head, sep, tail = name.rpartition(":")
    if sep and "/" not in tail:
        name = head
    first = name.split("/", 1)[0]
    if "/" not in name or not ("." in first or ":" in first or first == "localhost"):
        name = "docker.io/" + (name if "/" in name else "library/" + name)
    return name.replace("index.docker.io/", "docker.io/", 1)


def legacy_provisioner_image(image):
    """'known' for an image of the retired nfs-client-provisioner, 'named' for one named like it, else None."""
    repository = image_repository(image)
    if repository in LEGACY_PROVISIONER_REPOSITORIES:
        return "known"
    if repository.rsplit("/", 1)[-1] == "nfs-client-provisioner":
        return "named"
    return None


def _check_claim_templates(value, state):
    """The shorthand ``volume_claim_templates`` (keys, choices and required keys are the argument
    spec's), checked; a copy with access modes and sizes made canonical (with state absent only the
    names count)."""
    names = set()
    clean_vcts = []
    for i, v in enumerate(value or []):
        prefix = f"volume_claim_templates[{i}]"
        check_dns1123_label(prefix + ".name", v.get("name"))
        if v["name"] in names:
            raise InputError(prefix + ".name", "{!r} is used by two templates".format(v["name"]))
        names.add(v["name"])
        clean_vcts.append(dict(v))
        if state == "absent":
            continue
        if v.get("storage_class_name") is not None:
            check_dns1123_subdomain(prefix + ".storage_class_name", v["storage_class_name"])
        # an empty list asks for the default too, as the access modes of a claim cannot be empty
        clean_vcts[-1]["access_modes"] = list(v["access_modes"] or VCT_OPTIONS["access_modes"]["default"])
        clean_vcts[-1]["size"] = check_quantity(prefix + ".size", v["size"])
        check_absolute_path(prefix + ".mount_path", v["mount_path"])
    return clean_vcts


def _check_ports(value):
    """The shorthand ``ports`` (keys, types and protocols are the argument spec's), checked:
    ``[{name, container_port, protocol}]``."""
    ports = value or []
    clean_ports, seen = [], set()
    for i, port in enumerate(ports):
        prefix = f"ports[{i}]"
        number = check_int(prefix + ".container_port", port["container_port"], 1, 65535, allow_none=False)
        proto = port["protocol"]
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
    return clean_ports


def _check_update_strategy(p):
    """``partition`` and ``max_unavailable`` of the shorthand, and their ``update_strategy``, in place."""
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


def validate_statefulset_options(p, state="present"):
    """The shorthand options' rules (``p``: the parameters with ``namespace`` resolved), in place."""
    if not p.get("name"):
        raise InputError("name", "is required unless definition or src gives the StatefulSet")
    check_dns1123_label("name", p.get("name"), max_len=STATEFULSET_NAME_MAX)
    p["service_name"] = p.get("service_name") or p["name"]
    if p["create_service"]:
        # the headless Service's name: a DNS-1035 label (Kubernetes ValidateServiceName)
        check_dns1035_label("service_name", p["service_name"])
    else:
        check_dns1123_label("service_name", p["service_name"])
    p["volume_claim_templates"] = _check_claim_templates(p.get("volume_claim_templates"), state)
    if state == "absent":
        return p

    p["labels"] = check_labels("labels", p.get("labels") if p.get("labels") else {"app": p["name"]},
                               required=True)
    p["selector"] = check_labels("selector", p.get("selector") if p.get("selector") else dict(p["labels"]),
                                 required=True)
    for k, v in p["selector"].items():
        if p["labels"].get(k) != v:
            raise InputError("selector", "{}={} is not among labels {}: the pods would not match the selector".format(k, v, p["labels"]))
    check_int("replicas", p["replicas"], 0, allow_none=False)
    p["container_name"] = p.get("container_name") or p["name"]
    check_dns1123_label("container_name", p["container_name"])
    if p.get("image") is None:
        raise InputError("image", "is required when state=present, unless definition or src gives the StatefulSet")
    check_image("image", p["image"])
    p["ports"] = _check_ports(p.get("ports"))
    p["resources"] = check_resources("resources", p.get("resources"))
    p["readiness_probe"] = check_dict("readiness_probe", p.get("readiness_probe"))
    p["env"] = check_list_of_dicts("env", p.get("env"))
    p["node_selector"] = check_labels("node_selector", p.get("node_selector"))
    p["tolerations"] = check_list_of_dicts("tolerations", p.get("tolerations"))
    _check_update_strategy(p)
    # the module's suboptions arrive with None for what was not given
    p["pvc_retention_policy"] = {k: v for k, v in (p.get("pvc_retention_policy") or {}).items() if v is not None}
    check_int("min_ready_seconds", p.get("min_ready_seconds"), 0)
    check_int("ordinals_start", p.get("ordinals_start"), 0)
    return p


def at(where, path):
    """How a message names a field of a manifest: ``definition.spec.replicas``, or
    ``src web.yaml: spec.replicas`` for a manifest read from a file."""
    if where.startswith("src "):
        return f"{where}: {path}" if path else where
    return f"{where}.{path}" if path else where


def selector_matches(selector, labels):
    """True when ``labels`` satisfy a ``LabelSelector`` (``matchLabels`` and ``matchExpressions``
    with In, NotIn, Exists, DoesNotExist; Kubernetes docs, Labels and Selectors)."""
    labels = labels or {}
    if any(labels.get(k) != str(v) for k, v in ((selector or {}).get("matchLabels") or {}).items()):
        return False
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), [str(v) for v in expr.get("values") or []]
        present = key in labels
        if (op == "In" and (not present or labels[key] not in values)
                or op == "NotIn" and present and labels[key] in values
                or op == "Exists" and not present or op == "DoesNotExist" and present):
            return False
    return True


def _mapping(where, path, value, required=True):
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InputError(at(where, path), "must be a mapping" + ("" if value is not None else " (missing)"))
    return value


def _without_server_fields(manifest):
    """``manifest`` without ``status`` and the metadata the server writes (``kubectl get -o yaml``
    output is accepted as a manifest, as ``kubectl apply`` accepts it)."""
    out = {k: v for k, v in manifest.items() if k != "status"}
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = {k: v for k, v in out["metadata"].items() if k not in BOOKKEEPING_METADATA}
    return out


def _check_kind(where, manifest, api_version, kind):
    manifest = _mapping(where, "", manifest)
    if manifest.get("kind") != kind or manifest.get("apiVersion") != api_version:
        raise InputError(at(where, "kind"), "{got!r} (apiVersion {version!r}) is not a {kind}: expected apiVersion:"
                                            " {api_version}, kind: {kind}".format(
                                                got=manifest.get("kind"), version=manifest.get("apiVersion"),
                                                kind=kind, api_version=api_version))
    return _without_server_fields(manifest)


def _check_volume_mounts(where, pod_spec, claim_names):
    """Every volumeMount of every container names a volume of the pod or a claim template."""
    volumes = {v.get("name") for v in pod_spec.get("volumes") or [] if isinstance(v, dict)}
    for field in ("initContainers", "containers"):
        for i, container in enumerate(pod_spec.get(field) or []):
            for j, mount in enumerate((container or {}).get("volumeMounts") or []):
                name = (mount or {}).get("name")
                if name not in volumes and name not in claim_names:
                    raise InputError(at(where, f"spec.template.spec.{field}[{i}].volumeMounts[{j}].name"),
                                     "{!r} names no volume of spec.template.spec.volumes ({}) and no claim template of"
                                     " spec.volumeClaimTemplates ({})".format(
                                         name, ", ".join(sorted(v for v in volumes if v)) or "none",
                                         ", ".join(claim_names) or "none"))


def check_statefulset_definition(definition, where="definition", create_service=True):
    """Validated copy of a StatefulSet manifest (``apps/v1``, as ``kubectl apply -f`` takes it).

    The rules the server's schema cannot state (the server checks the rest in the module's
    dry-run apply): a name that fits pod hostnames, a ``spec.serviceName`` (the governing
    Service of the pods' DNS names), a selector that matches the pod template's labels, claim
    templates with distinct names, and volume mounts that name a volume or a claim template.
    Raises InputError naming the field's JSON path under ``where``.
    """
    sts = _check_kind(where, definition, "apps/v1", "StatefulSet")
    meta = _mapping(where, "metadata", sts.get("metadata"))
    check_dns1123_label(at(where, "metadata.name"), meta.get("name"), max_len=STATEFULSET_NAME_MAX)
    if meta.get("namespace") is not None:
        check_dns1123_label(at(where, "metadata.namespace"), meta["namespace"])
    spec = _mapping(where, "spec", sts.get("spec"))
    if not spec.get("serviceName"):
        raise InputError(at(where, "spec.serviceName"), "is required: the headless Service that gives the pods their"
                                                        " DNS names <pod>.<serviceName>.<namespace>.svc.<domain>")
    service_check = check_dns1035_label if create_service else check_dns1123_label
    service_check(at(where, "spec.serviceName"), spec["serviceName"])
    check_int(at(where, "spec.replicas"), spec.get("replicas"), 0)
    selector = _mapping(where, "spec.selector", spec.get("selector"))
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        raise InputError(at(where, "spec.selector"), "must select the pods (matchLabels or matchExpressions)")
    template = _mapping(where, "spec.template", spec.get("template"))
    labels = _mapping(where, "spec.template.metadata", template.get("metadata"), required=False).get("labels") or {}
    if not selector_matches(selector, labels):
        raise InputError(at(where, "spec.selector"), f"{selector} does not match the pod template's labels {labels}"
                                                     " (spec.template.metadata.labels)")
    pod_spec = _mapping(where, "spec.template.spec", template.get("spec"))
    if not isinstance(pod_spec.get("containers"), list) or not pod_spec["containers"]:
        raise InputError(at(where, "spec.template.spec.containers"), "must list at least one container")
    claim_names = []
    for i, vct in enumerate(spec.get("volumeClaimTemplates") or []):
        name = _mapping(where, f"spec.volumeClaimTemplates[{i}].metadata", (vct or {}).get("metadata")).get("name")
        check_dns1123_label(at(where, f"spec.volumeClaimTemplates[{i}].metadata.name"), name)
        if name in claim_names:
            raise InputError(at(where, f"spec.volumeClaimTemplates[{i}].metadata.name"),
                             f"{name!r} is used by two claim templates")
        claim_names.append(name)
    _check_volume_mounts(where, pod_spec, claim_names)
    return sts


def check_service_definition(service, sts, where="service"):
    """Validated copy of a whole Service manifest for ``sts``: the headless Service of its
    ``spec.serviceName`` (``clusterIP: None``), selecting the StatefulSet's pods."""
    svc = _check_kind(where, service, "v1", "Service")
    meta = _mapping(where, "metadata", svc.get("metadata"))
    if meta.get("name") != sts["spec"]["serviceName"]:
        raise InputError(at(where, "metadata.name"), "{!r} must be the StatefulSet's spec.serviceName {!r}".format(
            meta.get("name"), sts["spec"]["serviceName"]))
    if meta.get("namespace") not in (None, sts["metadata"].get("namespace")):
        raise InputError(at(where, "metadata.namespace"), "{!r} must be the StatefulSet's namespace {!r}".format(
            meta["namespace"], sts["metadata"].get("namespace")))
    spec = _mapping(where, "spec", svc.get("spec"))
    if spec.get("clusterIP") != "None":
        raise InputError(at(where, "spec.clusterIP"), "{!r}: the governing Service of a StatefulSet is headless, set"
                                                      " clusterIP: None".format(spec.get("clusterIP")))
    template_labels = ((sts["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
    selector = spec.get("selector") or {}
    if not selector or not selector_matches({"matchLabels": selector}, template_labels):
        raise InputError(at(where, "spec.selector"), "{} does not select the StatefulSet's pods (labels {})".format(
            selector or "none", template_labels))
    return svc


def _resolve_namespace(p, sts_namespace, where):
    """The namespace: the definition's, else the ``namespace`` option, else ``default``."""
    option = p.get("namespace")
    if sts_namespace and option and option != sts_namespace:
        raise InputError("namespace", f"{option!r} differs from {at(where, 'metadata.namespace')} {sts_namespace!r}:"
                                      " leave one of them out")
    namespace = sts_namespace or option or "default"
    check_dns1123_label("namespace", namespace)
    return namespace


def validate_statefulset_params(params, state="present"):
    """Validated copy of the ``statefulset`` parameters. Raises InputError.

    One StatefulSet definition comes out, whatever went in: ``definition`` (``src`` is read
    into it by the action plugin), or the shorthand options built into one
    (:func:`manifests.statefulset_manifest`). The result also names the StatefulSet
    (``name``, ``namespace``, ``service_name``, ``claim_templates``) for the runner, and
    ``where``: how messages name the input (``definition``, ``src <path>`` or None for options).
    """
    p = with_defaults(STATEFULSET_OPTIONS, params)
    check_int("wait_timeout", p.get("wait_timeout"), 1)
    if p.get("patch") is not None:
        p["patch"] = check_patch(p["patch"], state)
        if p.get("definition") is None and not p.get("src") and p.get("image") is None:
            # no declaration: the deployed StatefulSet by name
            if not p.get("name"):
                raise InputError("name", "is required with patch unless definition or src names the StatefulSet")
            check_dns1123_label("name", p["name"], max_len=STATEFULSET_NAME_MAX)
            p["namespace"] = _resolve_namespace(p, None, "definition")
            p.update(where=None, definition=None, claim_templates=[], service_name=None)
            return p
    if p.get("definition") is None and p.get("src"):
        raise InputError("src", "is read on the controller by the module's action plugin, which this run bypassed:"
                                " call the module as stateful.nfs.statefulset from a task, or give definition")
    if p.get("definition") is None:
        p["namespace"] = _resolve_namespace(p, None, "definition")
        p = validate_statefulset_options(p, state)
        p["where"] = None
        p["definition"] = mf.statefulset_manifest(p) if state == "present" else None
        p["claim_templates"] = [v["name"] for v in p["volume_claim_templates"]]
        if p.get("service") is not None:
            raise InputError("service", "a whole Service manifest goes with definition or src; with the shorthand"
                                        " options the headless Service is made from them")
        return p
    where = f"src {p['src']}" if p.get("src") else "definition"
    sts = check_statefulset_definition(p["definition"], where, p["create_service"])
    name = sts["metadata"]["name"]
    if p.get("name") and p["name"] != name:
        raise InputError("name", f"{p['name']!r} differs from {at(where, 'metadata.name')} {name!r}: leave name out")
    p["namespace"] = _resolve_namespace(p, sts["metadata"].get("namespace"), where)
    sts["metadata"] = dict(sts["metadata"], namespace=p["namespace"])
    p.update(name=name, where=where, definition=sts, service_name=sts["spec"]["serviceName"],
             claim_templates=[v["metadata"]["name"] for v in sts["spec"].get("volumeClaimTemplates") or []])
    if p.get("service") is not None:
        if not p["create_service"]:
            raise InputError("service", "is a Service to create, but create_service is false")
        p["service"] = check_service_definition(p["service"], sts)
    elif p["create_service"] and not (sts["spec"]["selector"].get("matchLabels")):
        raise InputError(at(where, "spec.selector"), "has no matchLabels, which the headless Service's selector needs:"
                                                     " give the Service with the service option, or create_service: false")
    return p


def check_patch(patch, state="present"):
    """Validated copy of the ``statefulset`` option ``patch`` (a day-2 change: ``replicas``, or
    ``image`` with its ``container`` and/or ``partition``; module_utils/k8s/day2.py)."""
    patch = {k: v for k, v in (patch or {}).items() if v is not None}
    if state != "present":
        raise InputError("patch", "changes a deployed StatefulSet: only with state=present")
    if not {"replicas", "image", "partition"} & set(patch):
        raise InputError("patch", "names no change: give replicas, or image (with container) and/or partition")
    if "replicas" in patch and {"image", "partition", "container"} & set(patch):
        raise InputError("patch", "scales or upgrades, not both at once: give replicas alone, or image and/or"
                                  " partition")
    check_int("patch.replicas", patch.get("replicas"), 0)
    check_int("patch.partition", patch.get("partition"), 0)
    if "image" in patch:
        check_image("patch.image", patch["image"])
    if "container" in patch:
        if "image" not in patch:
            raise InputError("patch.container", "names the container whose image changes: give patch.image too")
        check_dns1123_label("patch.container", patch["container"])
    return patch


def check_http_get(param, get):
    """Validated copy of an ``HTTPGetAction``-like ``{path, port}`` (a named port is resolved later,
    from the pod's container ports)."""
    get = dict(get)
    port = get.get("port")
    if isinstance(port, str) and port.isdigit():
        port = int(port)  # "8080" from a template is a number, as in a Pod spec
    if isinstance(port, str):
        check_dns1035_label(f"{param}.port", port, max_len=15)
    else:
        get["port"] = check_int(f"{param}.port", port, 1, 65535, allow_none=False)
    if not isinstance(get.get("path"), str) or not get["path"].startswith("/") or any(
            c in get["path"] for c in "?#\n\r "):
        raise InputError(f"{param}.path", f"{get.get('path')!r} must be an absolute URL path without query, fragment "
                         "or spaces (Kubernetes HTTPGetAction.path)")
    return get


def declared_ports(pod_spec):
    """``[(name, containerPort)]`` of the ports the pod spec's containers declare (a port without
    a name counts as ``(None, number)``), in the spec's order."""
    return [(port.get("name"), port.get("containerPort")) for container in (pod_spec or {}).get("containers") or []
            for port in container.get("ports") or [] if isinstance(port, dict)]


def named_port_problem(port, pod_spec):
    """Why ``port`` (an ``http_get.port``) cannot be asked of pods of ``pod_spec``, or None: a name
    no container declares (the kubelet and this collection resolve a named port from the pod's
    containers). A number is never refused: a container may listen on a port it does not declare."""
    if not isinstance(port, str):
        return None
    ports = declared_ports(pod_spec)
    if any(name == port for name, _number in ports):
        return None
    said = ", ".join(f"{name} ({number})" if name else str(number) for name, number in ports)
    return (f"no container declares a port named {port!r}; "
            + (f"the containers declare {said}" if ports else "the containers declare no port")
            + " (give one of those names, or a port number)")


def validate_info_params(params):
    """Validated copy of the ``statefulset_info`` parameters. Raises InputError."""
    p = dict(params)
    check_dns1123_label("name", p.get("name"))
    check_dns1123_label("namespace", p.get("namespace"))
    check_dns1123_subdomain("cluster_domain", p.get("cluster_domain"))
    if p.get("http_get"):
        p["http_get"] = check_http_get("http_get", p["http_get"])
    return p


ACCESS_REVIEW_OPTIONS = {
    "namespace": {"type": "str", "default": "default"},
    "needs": {"type": "list", "elements": "str", "default": [],
              "choices": ["provisioner", "statefulset", "verify", "teardown", "purge", "restore", "quiesce", "migrate",
                          "prune_source"]},
    "verify_method": VERIFY_OPTIONS["method"],
    "resource_attributes": {"type": "list", "elements": "dict", "default": [], "options": {
        "verb": {"type": "str", "required": True},
        "group": {"type": "str", "default": ""},
        "resource": {"type": "str", "required": True},
        "subresource": {"type": "str", "default": ""},
        "namespace": {"type": "str", "default": ""},
        "name": {"type": "str", "default": ""},
    }},
}


def validate_access_review_params(params):
    """Validated copy of the ``access_review`` parameters. Raises InputError."""
    p = dict(params)
    check_dns1123_label("namespace", p.get("namespace"))
    if not p.get("needs") and not p.get("resource_attributes"):
        raise InputError("needs", "name at least one stage (provisioner, statefulset, verify, teardown, purge, restore,"
                                  " quiesce, migrate, prune_source) or give resource_attributes")
    for i, attrs in enumerate(p.get("resource_attributes") or []):
        for key in ("verb", "resource"):
            if not attrs.get(key) or not re.fullmatch(r"[a-z*][a-z0-9.*-]*", attrs[key]):
                raise InputError(f"resource_attributes[{i}].{key}", f"{attrs.get(key)!r} is not a verb or resource"
                                 " as the API names it (lower case, e.g. create, statefulsets)")
    return p


def check_pattern(param, pattern):
    """A regular expression (Python ``re``) in which ``{pod}`` stands for the pod's name."""
    try:
        re.compile(pattern.replace("{pod}", "pod"))
    except re.error as exc:
        raise InputError(param, f"{pattern!r} is not a regular expression: {exc}")
    return pattern


def validate_verify_params(params):
    """Validated copy of the ``statefulset_verify`` parameters. Raises InputError."""
    p = validate_info_params(with_defaults(VERIFY_OPTIONS, params))
    if p.get("container") is not None:
        check_dns1123_label("container", p["container"])
    check_int("dns_timeout", p["dns_timeout"], 0)
    check_int("exec_timeout", p["exec_timeout"], 1)
    marker = with_defaults(VERIFY_OPTIONS["storage_marker"]["options"], p.get("storage_marker") or {})
    if not marker["file"] or "/" in marker["file"] or marker["file"] in (".", ".."):
        raise InputError("storage_marker.file", f"{marker['file']!r} must be a file name (no '/')")
    if "\n" in marker["line"] or "\0" in marker["line"]:
        raise InputError("storage_marker.line", "must be one line")
    p["storage_marker"] = marker
    client = with_defaults(VERIFY_OPTIONS["dns_client"]["options"], p.get("dns_client") or {})
    check_dns1123_label("dns_client.name", client["name"])
    check_image("dns_client.image", client["image"])
    check_int("dns_client.start_timeout", client["start_timeout"], 1)
    p["dns_client"] = client
    side = p.get("nfs_side")
    if side:
        side = with_defaults(VERIFY_OPTIONS["nfs_side"]["options"], side)
        for key in ("export", "export_directory"):
            if side.get(key) is not None and not str(side[key]).startswith("/"):
                raise InputError(f"nfs_side.{key}", f"{side[key]!r} must be an absolute path")
        if not side["host"]:
            raise InputError("nfs_side.host", "must name the inventory host that checks the NFS side")
        if not marker["enabled"]:
            raise InputError("nfs_side", "needs storage_marker.enabled: true (the NFS side writes the markers)")
        side["file"] = marker["file"]
        p["nfs_side"] = side
    app = p.get("app_check")
    if app:
        app = dict(app)
        check_int("app_check.timeout", app.get("timeout"), 0)
        if app.get("http_get"):
            get = check_http_get("app_check.http_get", app["http_get"])
            check_int("app_check.http_get.status", get.get("status"), 100, 599)
            if get.get("body") is not None:
                check_pattern("app_check.http_get.body", get["body"])
            app["http_get"] = get
        else:
            command = app["exec"]["command"]
            if not command or not all(isinstance(c, str) and c for c in command):
                raise InputError("app_check.exec.command", "must be a non-empty list of arguments (argv, no shell"
                                                           " unless it names one)")
            if app["exec"].get("container") is not None:
                check_dns1123_label("app_check.exec.container", app["exec"]["container"])
            if app["exec"].get("stdout") is not None:
                check_pattern("app_check.exec.stdout", app["exec"]["stdout"])
        p["app_check"] = app
    return p


# module -> (options, AnsibleModule's rules between options, validator of the options' values): what AnsibleModule and then
# the module itself check at the module's entry, before any request.
MODULE_RULES = {
    "statefulset": (STATEFULSET_OPTIONS, STATEFULSET_RULES,
                    lambda p: validate_statefulset_params(p, p["state"])),
    "nfs_provisioner": (PROVISIONER_OPTIONS, PROVISIONER_RULES,
                        lambda p: validate_provisioner_params(p, p["state"])),
    "statefulset_info": (INFO_OPTIONS, {}, validate_info_params),
    "statefulset_verify": (VERIFY_OPTIONS, {}, validate_verify_params),
    "access_review": (ACCESS_REVIEW_OPTIONS, {}, validate_access_review_params),
}


def planned_definition(params):
    """The StatefulSet a ``statefulset`` module call would apply (its ``definition``, or the one
    the shorthand options make), or None when the parameters are refused or name a file (``src``)."""
    result, validate = _checked(params, "statefulset")
    if result.error_messages or result.validated_parameters.get("src") is not None:
        return None
    try:
        return validate(copy.deepcopy(result.validated_parameters)).get("definition")
    except InputError:
        return None


def _checked(params, module):
    """``module``'s argument spec applied to ``params`` (a ``None`` value counts as not given, as
    ``omit`` does), and the module's own validator."""
    options, rules, validate = MODULE_RULES[module]
    given = {k: v for k, v in (params or {}).items() if v is not None}
    return ArgumentSpecValidator(options, **rules).validate(given), validate


def input_problems(params, module):
    """The messages ``module`` would fail with for ``params``, without running it.

    ``params``: the module's parameters as a task gives them (a ``None`` value counts as not
    given, as ``omit`` does). First the argument spec (types, choices, required options,
    defaults), then the module's own rules; each message is prefixed with the module's name.
    Empty when the module would accept them. Raises KeyError for a module not in MODULE_RULES.
    """
    result, validate = _checked(params, module)
    if result.error_messages:
        return [f"{module}: {m}" for m in result.error_messages]
    try:
        validate(result.validated_parameters)
    except InputError as exc:
        return [f"{module}: {exc}"]
    return []


def validated(params, module):
    """``params`` as ``module`` has them after its entry's checks (argument spec and defaults, then
    its own rules), for a caller that plans with them without running it. Raises InputError (the
    argument spec's messages under the module's name)."""
    result, validate = _checked(params, module)
    if result.error_messages:
        raise InputError(module, "; ".join(result.error_messages))
    return validate(result.validated_parameters)
