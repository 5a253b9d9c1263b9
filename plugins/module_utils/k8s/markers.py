# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proof's storage markers: which line each pod's claim gets, at which path in the pod and in
which directory of the NFS export (module ``statefulset_verify``, filter ``nfs_side_markers``).

Pure functions of the StatefulSet as stored and its identity table (``identity.identity_table``):
no request, and nothing that imports the ``kubernetes`` library, so a filter on the controller can
ask them without a module run.
"""

from __future__ import annotations

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import validated


def marker_line(template, pod, namespace, claim):
    """The line a pod's marker holds: ``template`` with ``{pod}``, ``{namespace}`` and ``{claim}``."""
    return template.replace("{pod}", pod).replace("{namespace}", namespace).replace("{claim}", claim)


def claim_mounts(sts, container_name):
    """``[(template, mountPath, subPath, readOnly)]`` of the claim templates mounted in the container."""
    spec = sts.get("spec") or {}
    templates = [v["metadata"]["name"] for v in spec.get("volumeClaimTemplates") or []]
    pod_spec = (spec.get("template") or {}).get("spec") or {}
    container = next((c for c in pod_spec.get("containers") or [] if c.get("name") == container_name), {})
    return [(m["name"], m["mountPath"], m.get("subPath") or "", bool(m.get("readOnly")))
            for m in container.get("volumeMounts") or [] if m.get("name") in templates]


def plan_nfs_volumes(markers, nfs_side):
    """Give each marker (of every pod) its ``nfs_volume``, what ``stateful.nfs.nfs_volume_check``
    takes (``name``, ``directory`` on ``nfs_side.host``'s disk, ``path`` as NFS clients see it,
    ``content``), or an ``nfs_problem`` when its PV has no NFS directory under ``nfs_side.export``."""
    export = "/" + nfs_side["export"].strip("/")
    disk = (nfs_side.get("export_directory") or export).rstrip("/")
    base = export.rstrip("/")
    for m in markers:
        place = m.get("nfs_directory")
        if not place:
            m["nfs_problem"] = f"claim {m['claim']} has no PV with an NFS directory"
        elif place != export and not place.startswith(base + "/"):
            m["nfs_problem"] = (f"the PV's NFS directory {m['nfs_server']}:{place} is not under nfs_side.export"
                                f" {export}")
        else:
            m["nfs_volume"] = {"name": f"{m['pod']}:{m['template']}", "path": place,
                               "directory": disk + place[len(base):], "content": m["line"]}
    return markers


def nfs_volume_check_params(markers, nfs_side):
    """What the caller hands ``stateful.nfs.nfs_volume_check`` on ``nfs_side.host`` (writing each line)."""
    return {"host": nfs_side["host"], "export": "/" + nfs_side["export"].strip("/"), "server": nfs_side["server"],
            "file": nfs_side["file"], "write": True,
            "volumes": [m["nfs_volume"] for m in markers if m.get("nfs_volume")]}


def plan_markers(sts, rows, container, marker, namespace):
    """Per pod (``{pod: [marker]}``), the markers to write: one per claim template mounted in
    ``container``. ``rows``: the identity table's pods; ``marker``: the validated ``storage_marker``."""
    out = {}
    for row in rows:
        volumes = {v["template"]: v for v in row["volumes"]}
        out[row["name"]] = []
        if not marker.get("enabled"):
            continue
        for template, mount_path, sub_path, read_only in claim_mounts(sts, container):
            vol = volumes.get(template) or {}
            nfs_dir = (vol.get("nfs_path") or "").rstrip("/")
            out[row["name"]].append({
                "pod": row["name"], "claim": vol.get("pvc"), "pv": vol.get("pv"), "template": template,
                "path": mount_path.rstrip("/") + "/" + marker["file"], "read_only": read_only,
                "line": marker_line(marker["line"], row["name"], namespace, vol.get("pvc") or ""),
                "nfs_server": vol.get("nfs_server"),
                "nfs_path": "/".join(x for x in (nfs_dir, sub_path.strip("/"), marker["file"]) if x)
                if nfs_dir else None,
                "nfs_directory": "/".join(x for x in (nfs_dir, sub_path.strip("/")) if x) if nfs_dir else None,
            })
    return out


def nfs_side_markers(statefulset, identity, verify):
    """What ``stateful.nfs.nfs_volume_check`` takes to write each pod's marker on the NFS side
    (:func:`nfs_volume_check_params`), planned as ``statefulset_verify`` with ``markers_only`` plans
    it, from what ``stateful.nfs.statefulset`` returned with ``return_identity``: ``statefulset``
    (the stored object) and ``identity`` (its identity table). ``verify``: the application's
    ``statefulset_verify`` parameters without ``name`` and ``namespace`` (the StatefulSet's),
    ``nfs_side`` among them, validated here as the module validates them (InputError names the
    option). Markers whose PV has no NFS directory under
    ``nfs_side.export`` are left out (the proof names them)."""
    meta = (statefulset or {}).get("metadata") or {}
    p = validated(dict(verify or {}, name=meta.get("name"), namespace=meta.get("namespace")), "statefulset_verify")
    if not p.get("nfs_side"):
        raise InputError("nfs_side", "is required: the markers are written on the NFS side")
    container = p.get("container") or statefulset["spec"]["template"]["spec"]["containers"][0]["name"]
    rows = (identity or {}).get("pods") or []
    markers = [m for planned in plan_markers(statefulset, rows, container, p["storage_marker"],
                                             p["namespace"]).values() for m in planned]
    return nfs_volume_check_params(plan_nfs_volumes(markers, p["nfs_side"]), p["nfs_side"])
