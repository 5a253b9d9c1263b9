# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The walkthrough role (``k8s_statefulset_nginx``, deprecated) as one class and one application.

Role ``k8s_statefulset_nginx`` keeps its variables for 0.x and hands them to roles
``nfs_provisioner`` and ``statefulset``. This is the one rule that maps them: the class entry gives
``stateful.nfs.nfs_provisioner`` the parameters the role gave it, the application entry gives
``stateful.nfs.statefulset`` the parameters the role gave it (so the StatefulSet and Service an
existing deployment has are built again field for field, never recreated), and its ``verify``
proves what the role proved: each pod's line written into the index file of its own volume,
served back by that pod over HTTP. Its ``verify_method: nfs`` (clusters that forbid exec) is
``method: api`` with ``nfs_side`` on the NFS server host: each line written into its PV's
directory there and read back through NFS, each directory there and distinct.
"""
from __future__ import annotations

PREFIX = "k8s_statefulset_nginx_"
# The role's connection variables, as the modules' options name them.
AUTH_KEYS = ("kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert", "client_cert", "client_key")
# The role's verify_method and the statefulset_verify method that proves the same without exec.
VERIFY_METHODS = {"exec": "exec", "nfs": "api"}


def _given(value):
    """Whether a role variable is set: "", {}, [] and None mean "not set" (the role's defaults)."""
    return value not in (None, "", {}, [])


def _values(role_vars):
    """The role's variables without their prefix (keys without it are taken as they are)."""
    return {(k[len(PREFIX):] if k.startswith(PREFIX) else k): v for k, v in (role_vars or {}).items()}  # noqa: FURB188 (module_utils: Python < 3.9 targets)


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y", "t")
    return bool(value)


def _int(value):
    return int(value)


def mapped_auth(v):
    """The connection options the role's variables set; unset ones are left out."""
    return {key: v[key] for key in AUTH_KEYS if _given(v.get(key))}


def mapped_class(v, nfs_server, nfs_path):
    """The ``nfs_provisioner_classes`` entry: the provisioner and StorageClass the role deployed."""
    entry = {
        "storage_class_name": v["storage_class"],
        "name": v["provisioner_deployment_name"],
        "namespace": v["provisioner_namespace"],
        "create_namespace": _bool(v["create_namespace"]),
        "provisioner_name": v["provisioner_name"],
        "nfs_server": nfs_server,
        "nfs_path": nfs_path,
        "archive_on_delete": _bool(v["archive_on_delete"]),
        "wait": True,
        "wait_timeout": _int(v["wait_timeout"]),
        "state": "present",
    }
    if _given(v.get("provisioner_image")):
        entry["image"] = v["provisioner_image"]
    return entry


def mapped_statefulset(v):
    """The ``statefulset`` parameters of the application: those the role gave the module."""
    params = {
        "name": v["name"],
        "namespace": v["namespace"],
        "create_namespace": _bool(v["create_namespace"]),
        "service_name": v["service_name"],
        "replicas": _int(v["replicas"]),
        "labels": dict(v["labels"]),
        "pod_management_policy": v["pod_management_policy"],
        "container_name": v["container_name"],
        "image": v["image"],
        "ports": [{"name": v["port_name"], "container_port": _int(v["port"])}],
        "volume_claim_templates": [{
            "name": v["volume_claim_template"],
            "storage_class_name": v["storage_class"],
            "access_modes": list(v["access_modes"]),
            "size": v["storage_size"],
            "mount_path": v["mount_path"],
        }],
        "wait": _bool(v["wait"]),
        "wait_timeout": _int(v["wait_timeout"]),
        "state": "present",
    }
    if _given(v.get("resources")):
        params["resources"] = v["resources"]
    if _given(v.get("readiness_probe")):
        params["readiness_probe"] = v["readiness_probe"]
    return params


def mapped_nfs_side(v, nfs_path):
    """``statefulset_verify``'s ``nfs_side`` for ``verify_method: nfs``: the lines written and read
    back on the NFS server host (``nfs_server_host``), in the export's directory there
    (``nfs_export_dir``, else the export's path)."""
    side = {"host": v.get("nfs_server_host") or "", "export": nfs_path}
    if _given(v.get("nfs_export_dir")):
        side["export_directory"] = v["nfs_export_dir"]
    return side


def mapped_verify(v, nfs_path=""):
    """The ``statefulset_verify`` parameters (false when the role's verify is off): the index file
    holds the pod's line (the storage marker) and the pod serves exactly that line (the app check).
    The line is written on the NFS side (``nfs_side``) with ``verify_method: nfs``, and with exec
    too whenever the NFS server host and the export are known: each volume's directory then is
    proved to lie under the class's export (``nfs_path``) and to exist on the server, and with exec
    each pod finds that line at its mount (what the role's own NFS checks proved)."""
    if not _bool(v["verify"]):
        return False
    index = v["verify_index_file"]
    side_known = bool(v.get("nfs_server_host")) and str(nfs_path).startswith("/")
    extra = {"nfs_side": mapped_nfs_side(v, nfs_path)} if v["verify_method"] == "nfs" or side_known else {}
    return {
        "method": VERIFY_METHODS[v["verify_method"]],
        "container": v["container_name"],
        "cluster_domain": v["cluster_domain"],
        "dns_timeout": _int(v["verify_dns_wait"]),
        "dns_client": {"image": v["verify_image"], "start_timeout": _int(v["verify_pod_timeout"])},
        "storage_marker": {"file": index, "line": v["verify_content"]},
        "app_check": {"http_get": {"port": _int(v["port"]), "path": "/" + index.lstrip("/"), "body": "^{line}$"}},
        **extra,
    }


def walkthrough_mapping(role_vars, nfs_server="", nfs_path=""):
    """Role ``k8s_statefulset_nginx``'s variables (with or without their prefix) as the two lists.

    ``nfs_server`` and ``nfs_path``: the export the role worked out from the inventory (its
    ``nfs_server``/``nfs_path`` variables, else the server host's). Returns ``{"classes": [one
    nfs_provisioner_classes entry, or none when provisioner_enabled is false], "applications": [one
    statefulset_applications entry, named as the StatefulSet], "k8s_auth": {...}, "report": bool,
    "report_dir": str, "problems": [...]}``. A problem names the role's variable; the entries' own
    rules are the modules' (``lists.provisioner_class_plan`` and ``lists.application_plan`` ask them).
    """
    v = _values(role_vars)
    problems = []
    method = v.get("verify_method")
    if method not in VERIFY_METHODS:
        problems.append(f"{PREFIX}verify_method: {method!r} must be one of {', '.join(VERIFY_METHODS)}")
        v = dict(v, verify_method="exec")
    for key in ("replicas", "port", "wait_timeout", "verify_dns_wait", "verify_pod_timeout"):
        try:
            _int(v[key])
        except (TypeError, ValueError):
            problems.append(f"{PREFIX}{key}: {v[key]!r} must be an integer")
            v = dict(v, **{key: 0})
    if not isinstance(v.get("labels"), dict):
        problems.append(f"{PREFIX}labels: must be a dict of labels, got {v.get('labels')!r}")
        v = dict(v, labels={})
    if not isinstance(v.get("access_modes"), list):
        problems.append(f"{PREFIX}access_modes: must be a list, got {v.get('access_modes')!r}")
        v = dict(v, access_modes=[])
    classes = []
    if _bool(v["provisioner_enabled"]):
        if not nfs_server or not str(nfs_path).startswith("/"):
            problems.append(
                f"No NFS server for the provisioner: set {PREFIX}nfs_server and {PREFIX}nfs_path, or put the NFS"
                f" host in group nfs_server with nfs_server_exports (got server {nfs_server!r}, path {nfs_path!r})")
        classes.append(mapped_class(v, nfs_server, nfs_path))
    if method == "nfs" and _bool(v.get("verify")) and (not v.get("nfs_server_host") or not str(nfs_path).startswith("/")):
        problems.append(
            f"{PREFIX}verify_method: nfs writes each pod's line on the NFS server: put the NFS host in group nfs_server"
            f" (or set {PREFIX}nfs_server_host) and give its export ({PREFIX}nfs_path, or its nfs_server_exports); got"
            f" host {v.get('nfs_server_host')!r}, path {nfs_path!r}")
    application = {"name": v["name"], "statefulset": mapped_statefulset(v), "verify": mapped_verify(v, nfs_path),
                   "report": _bool(v["report"])}
    return {"classes": classes, "applications": [application], "k8s_auth": mapped_auth(v),
            "report": _bool(v["report"]), "report_dir": v["report_dir"], "problems": problems}
