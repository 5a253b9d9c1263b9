# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity read model of a StatefulSet: per pod its names, address, claim, volume, NFS directory.

Read-only (GETs and LISTs). ``statefulset_info`` returns it; the role's report is built from it.
"""

from __future__ import annotations

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.client import pod_proxy_path
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import K8sError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.wait import (
    REVISION_LABEL,
    pod_ordinal,
    pod_ready,
    selector_string,
)


def _pv_nfs(pv):
    spec = (pv or {}).get("spec") or {}
    if spec.get("nfs"):
        return spec["nfs"].get("server"), spec["nfs"].get("path")
    csi = spec.get("csi") or {}
    attrs = csi.get("volumeAttributes") or {}
    if csi.get("driver") == "nfs.csi.k8s.io":
        return attrs.get("server"), attrs.get("share")
    return None, None


HTTP_BODY_LIMIT = 4096  # bytes of a fetched page kept in the result


def container_port(pod, port):
    """The number of ``port``: itself when a number, else the pod's container port of that name
    (as the kubelet resolves an HTTPGetAction's named port; the pod proxy does not). None when
    no container declares the name."""
    if isinstance(port, int):
        return port
    for container in (pod.get("spec") or {}).get("containers") or []:
        for declared in container.get("ports") or []:
            if declared.get("name") == port:
                return declared.get("containerPort")
    return None


def http_get(client, pod, get):
    """``{url, status, body, error}`` of one GET of ``get`` (``{port, path}``) on ``pod`` through
    the API server's pod proxy. ``body``: at most HTTP_BODY_LIMIT bytes, as text."""
    meta = pod["metadata"]
    port = container_port(pod, get["port"])
    if port is None:
        return {"url": None, "status": None, "body": None,
                "error": f"no container of pod {meta['name']} declares a port named {get['port']!r}"}
    url = pod_proxy_path(meta["namespace"], meta["name"], port, get["path"])
    try:
        body = client.proxy_get(meta["namespace"], meta["name"], port, get["path"])
    except K8sError as exc:
        return {"url": url, "status": getattr(exc, "status", None), "body": None, "error": str(exc)}
    return {"url": url, "status": 200, "body": body[:HTTP_BODY_LIMIT].decode("utf-8", "replace"), "error": None}


def read_members(client, namespace, name):
    """``(StatefulSet, {ordinal: pod})`` as stored now: the StatefulSet (None when it does not
    exist; then no pod is read) and its pods, those its selector matches whose name is
    ``<name>-<ordinal>``. Two reads."""
    sts = client.get(Ref("StatefulSet", name, namespace))
    if sts is None:
        return None, {}
    sel = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels")
    pods = {}
    for pod in client.list("Pod", namespace, label_selector=selector_string(sel)):
        ordinal = pod_ordinal(pod["metadata"]["name"], name)
        if ordinal is not None:
            pods[ordinal] = pod
    return sts, pods


def _volume_row(client, namespace, template, pod_name, pv_cache):
    """One claim of a pod: its PVC, phase, PV, class, capacity and the PV's NFS source."""
    pvc_name = f"{template}-{pod_name}"
    pvc = client.get(Ref("PersistentVolumeClaim", pvc_name, namespace))
    pv_name = ((pvc or {}).get("spec") or {}).get("volumeName")
    pv = None
    if pv_name:
        if pv_name not in pv_cache:
            pv_cache[pv_name] = client.get(Ref("PersistentVolume", pv_name))
        pv = pv_cache[pv_name]
    server, path = _pv_nfs(pv)
    return {
        "template": template,
        "pvc": pvc_name if pvc else None,
        "pvc_phase": ((pvc or {}).get("status") or {}).get("phase") if pvc else "Missing",
        "pv": pv_name,
        "storage_class": ((pvc or {}).get("spec") or {}).get("storageClassName")
        or ((pv or {}).get("spec") or {}).get("storageClassName"),
        "capacity": (((pv or {}).get("spec") or {}).get("capacity") or {}).get("storage"),
        "nfs_server": server,
        "nfs_path": path,
    }


def _pod_row(ordinal, pod, service, namespace, cluster_domain, volumes):
    meta, pspec, pstatus = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    hostname = pspec.get("hostname") or meta["name"]
    subdomain = pspec.get("subdomain")
    first = volumes[0] if volumes else {}
    return {
        "ordinal": ordinal,
        "name": meta["name"],
        "hostname": hostname,
        "subdomain": subdomain,
        "dns_name": f"{hostname}.{subdomain or service}.{namespace}.svc.{cluster_domain}"
        if (subdomain or service) else None,
        "pod_ip": pstatus.get("podIP"),
        "node": pspec.get("nodeName"),
        "phase": pstatus.get("phase"),
        "ready": pod_ready(pod),
        "revision": (meta.get("labels") or {}).get(REVISION_LABEL),
        "uid": meta.get("uid"),
        "pvc": first.get("pvc"),
        "pv": first.get("pv"),
        "storage_class": first.get("storage_class"),
        "nfs_server": first.get("nfs_server"),
        "nfs_path": first.get("nfs_path"),
        "volumes": volumes,
    }


def identity_table(client, namespace, name, cluster_domain="cluster.local", get=None, members=None):
    """The read-only identity table of a StatefulSet (one row per pod, by ordinal). With ``get``
    (``{port, path}``, Kubernetes' HTTPGetAction fields), each ready pod's page is fetched through
    the API server's pod proxy into its row's ``http_get``. ``members``: what ``read_members``
    returned, when the caller has read it already (else it is read here).

    ``namespace``, ``name``, ``cluster_domain`` and ``get`` are validated by the caller
    (``validation.validate_info_params``).
    """
    sts, pods = members if members is not None else read_members(client, namespace, name)
    if sts is None:
        return {"exists": False, "statefulset": None, "pods": [], "missing_ordinals": []}
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    service = spec.get("serviceName")
    start = (spec.get("ordinals") or {}).get("start", 0) or 0
    replicas = spec.get("replicas", 1)
    vcts = [v["metadata"]["name"] for v in spec.get("volumeClaimTemplates") or []]
    pv_cache = {}
    rows = []
    for ordinal in sorted(pods):
        pod = pods[ordinal]
        volumes = [_volume_row(client, namespace, vct, pod["metadata"]["name"], pv_cache) for vct in vcts]
        rows.append(_pod_row(ordinal, pod, service, namespace, cluster_domain, volumes))
        if get is not None:
            rows[-1]["http_get"] = http_get(client, pod, get) if pod_ready(pod) else {
                "url": None, "status": None, "body": None, "error": "the pod is not ready"}
    expected = set(range(start, start + replicas))
    return {
        "exists": True,
        "statefulset": {
            "name": name, "namespace": namespace, "service_name": service, "replicas": replicas,
            "ordinals_start": start, "ready_replicas": status.get("readyReplicas") or 0,
            "current_revision": status.get("currentRevision"), "update_revision": status.get("updateRevision"),
            "volume_claim_templates": vcts, "cluster_domain": cluster_domain,
        },
        "pods": rows,
        "missing_ordinals": sorted(expected - set(pods)),
    }


def read_identity(client, p, check_mode, outcome):
    """``statefulset_info``'s result: the identity table and the API server's version (read-only)."""
    table = identity_table(client, p["namespace"], p["name"], p["cluster_domain"], p.get("http_get"))
    table["server_version"] = client.version() or {}
    return dict(table, changed=False)
