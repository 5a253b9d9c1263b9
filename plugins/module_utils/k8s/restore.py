# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a StatefulSet's per-pod data (module ``pvc_restore``): an archived directory or a
Released PV's directory becomes the volume of claim ``<template>-<statefulset>-<ordinal>``.

The mechanism is a pre-bound static volume: a PersistentVolume whose ``spec.nfs`` names the
directory, with reclaim policy ``Retain`` and ``claimRef`` set to the claim the StatefulSet will
claim, and that claim created with ``volumeName`` set to the PV. The StatefulSet controller adopts
an existing claim of the right name, so the pod mounts the old directory; no data is copied and
no provisioner is involved (it never deletes or archives a Retain volume it did not provision).

Archives (``archived-<namespace>-<claim>-<pv>``, the NFS provisioner's archiveOnDelete) are
renamed on the NFS server to ``restored-<namespace>-<claim>-<pv>`` before they are bound: a
directory bound to a claim must not look like an archive (``archive_prune.yml`` would list and,
with ``prune=true``, remove it). A Released PV (reclaim policy Retain) is bound again in place:
its ``claimRef`` is pointed at the claim (uid cleared), so one PV keeps naming its directory.

With a class's ``pathPattern`` the provisioner archives as ``archived-<last path element>``, a name
that says no claim: such an archive is attributed by the collection's index on the NFS server
(``volume_index``, module ``nfs_volume_index``, which teardown.yml writes before it deletes claims
from the volumes ``index_only`` returns); an archive neither parsed nor indexed is listed in the
refusal, and only ``-e archive=DIR`` chooses it.

Everything here decides from what was read; :func:`plan_restore` is pure (unit-tested), and
:func:`run_restore` reads, plans, refuses (all refusals before the first write) and writes.
"""

from __future__ import annotations

import copy
import re
import time

from ansible_collections.stateful.nfs.plugins.module_utils.k8s import validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import wait as waiters
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.apply import FIELD_MANAGER, Result
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import ApiError, InputError, K8sError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.manifests import MANAGED_BY, MANAGED_BY_LABEL
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref, collection_path
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.runners import provisioner_containers

ARCHIVED = "archived-"
RESTORED = "restored-"
# The name the NFS provisioner gives a volume (and so the tail of its directory's name).
PV_NAME = r"pvc-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_DIR_RE = re.compile(rf"^(?P<prefix>{ARCHIVED}|{RESTORED})(?P<owner>.+)-(?P<pv>{PV_NAME})$")
RESTORED_FROM = "stateful.nfs/restored-from"
# What a manifest of backup.yml (module nfs_dir_copy) must say for a claim's copy to be restored.
BACKUP_KEYS = ("claim_template", "ordinal", "pvc", "list_sha256")
# What a restored claim's row says of the backup's copy.
BACKUP_SUMMARY = ("namespace", "pvc", "pv", "list_sha256", "files", "bytes", "time", "crash_consistent")

RESTORE_OPTIONS = {
    "statefulset": {"type": "dict", "required": True},
    "source": {"type": "str", "choices": ["archive", "retained", "backup", "migrate"], "default": "archive"},
    "namespace": {"type": "str"},
    "backups": {"type": "list", "elements": "dict"},
    "ordinals": {"type": "list", "elements": "int"},
    "directories": {"type": "list", "elements": "str"},
    "choose": {"type": "dict", "default": {}},
    "force_claim_mismatch": {"type": "bool", "default": False},
    "quiesce": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 60},
    "volume_index": {"type": "list", "elements": "dict", "default": []},
    "index_only": {"type": "bool", "default": False},
    "copy_host": {"type": "str"},
}


class RestoreRefused(K8sError):
    """One or more refusals: nothing was changed."""


def validate_restore_params(params):
    """Validated copy of ``pvc_restore``'s parameters; ``target`` holds what the StatefulSet's
    definition says (namespace, name, replicas, first ordinal, claim templates). Raises InputError."""
    p = validation.with_defaults(RESTORE_OPTIONS, params)
    sts_params = dict(p["statefulset"] or {})
    if sts_params.get("definition") is None and sts_params.get("src"):
        raise InputError("statefulset.src", "is read only by stateful.nfs.statefulset's action plugin: give the"
                                            " StatefulSet as statefulset.definition (the manifest) or the shorthand options")
    sts_params = {k: v for k, v in sts_params.items() if v is not None}
    problems = validation.input_problems(sts_params, "statefulset")
    if problems:
        raise InputError("statefulset", "; ".join(problems))
    checked = validation.validate_statefulset_params(sts_params, "present")
    definition = checked["definition"]
    spec = definition.get("spec") or {}
    templates = []
    for i, t in enumerate(spec.get("volumeClaimTemplates") or []):
        tspec = t.get("spec") or {}
        templates.append({
            "name": t["metadata"]["name"],
            "storage_class_name": tspec.get("storageClassName"),
            "access_modes": list(tspec.get("accessModes") or ["ReadWriteOnce"]),
            "size": ((tspec.get("resources") or {}).get("requests") or {}).get("storage"),
            "where": f"statefulset: spec.volumeClaimTemplates[{i}]",
        })
    if not templates:
        raise InputError("statefulset", f"StatefulSet {checked['namespace']}/{definition['metadata']['name']} has no"
                                        " volumeClaimTemplates: there is no claim to restore")
    for t in templates:
        if not t["storage_class_name"]:
            raise InputError(t["where"] + ".spec.storageClassName", "is required to restore (the restored PV and claim"
                                                                    " carry the class the StatefulSet's claim will ask for)")
        if not t["size"]:
            raise InputError(t["where"] + ".spec.resources.requests.storage", "is required")
    start = ((spec.get("ordinals") or {}).get("start")) or 0
    replicas = spec.get("replicas", 1)
    ordinals = p.get("ordinals")
    if ordinals is None:
        ordinals = list(range(start, start + replicas))
    bad = [o for o in ordinals if not isinstance(o, int) or o < start]
    if bad or not ordinals:
        raise InputError("ordinals", f"must be a non-empty list of ordinals of the StatefulSet (from {start}), got {ordinals!r}")
    if len(set(ordinals)) != len(ordinals):
        raise InputError("ordinals", f"names an ordinal twice: {ordinals!r}")
    if p["source"] == "backup":
        if p.get("backups") is None:
            raise InputError("backups", "is required with source=backup (the backup's manifests, as backup.yml wrote them)")
        for i, entry in enumerate(p["backups"]):
            if not isinstance(entry, dict) or not str(entry.get("path") or "").startswith("/"):
                raise InputError(f"backups[{i}].path", "must be the absolute path of a claim's copy in the backup")
            manifest = entry.get("manifest")
            if manifest is not None and not all(k in manifest for k in BACKUP_KEYS):
                raise InputError(f"backups[{i}].manifest", "is not a manifest of backup.yml (keys "
                                                           f"{', '.join(k for k in BACKUP_KEYS if k not in manifest)} missing)")
    elif p.get("backups") is not None:
        raise InputError("backups", f"is read only with source=backup (source is {p['source']})")
    if p["wait_timeout"] < 0:
        raise InputError("wait_timeout", f"must be 0 or more, got {p['wait_timeout']}")
    if p.get("directories") is not None:
        listing = {}
        for i, path in enumerate(p["directories"]):
            path = path.rstrip("/")
            if not path.startswith("/") or path.rsplit("/", 1)[-1] in ("", ".", ".."):
                raise InputError(f"directories[{i}]", f"must be the absolute path of a directory, got {path!r}")
            parent, name = path.rsplit("/", 1)
            listing.setdefault(parent or "/", []).append(name)
        p["directories"] = listing
    if p.get("namespace") is not None:
        validation.check_dns1123_label("namespace", p["namespace"])
    if p["source"] == "migrate" and p.get("namespace") is not None:
        raise InputError("namespace", "is not read with source=migrate (the claims move in the StatefulSet's namespace)")
    if p.get("copy_host") is not None and p["source"] != "migrate":
        raise InputError("copy_host", f"is read only with source=migrate (source is {p['source']})")
    p["target"] = {"namespace": p.get("namespace") or checked["namespace"], "name": definition["metadata"]["name"],
                   "templates": templates, "ordinals": sorted(ordinals), "ordinals_given": p.get("ordinals") is not None,
                   "selector": dict((spec.get("selector") or {}).get("matchLabels") or {})}
    claims = {claim_name(t["name"], p["target"]["name"], o) for t in templates for o in ordinals}
    for claim in p["choose"]:
        if claim not in claims:
            raise InputError(f"choose[{claim!r}]", f"is not a claim this run restores ({', '.join(sorted(claims))})")
    return p


def claim_name(template, statefulset, ordinal):
    return f"{template}-{statefulset}-{ordinal}"


# ------------------------------------------------------------------------------------ naming
def parse_directory(name):
    """``(prefix, owner, pv)`` of an ``archived-``/``restored-`` directory name, or None. ``owner`` is
    ``<namespace>-<claim>``, which cannot be split without knowing one of them."""
    m = _DIR_RE.match(name)
    return (m["prefix"], m["owner"], m["pv"]) if m else None


def owners(owner, namespaces):
    """The ``(namespace, claim)`` pairs ``owner`` (``<namespace>-<claim>``) can be split into whose
    namespace is one of ``namespaces``."""
    out = []
    for i, ch in enumerate(owner):
        if ch == "-" and owner[:i] in namespaces and owner[i + 1:]:
            out.append((owner[:i], owner[i + 1:]))
    return out


def restored_name(directory):
    """The collection's name for a restored archive: ``archived-X`` -> ``restored-X``."""
    return RESTORED + directory[len(ARCHIVED):] if directory.startswith(ARCHIVED) else directory


def restored_pv_name(directory, namespace, claim):
    parsed = parse_directory(directory)
    if parsed:
        return f"restored-{parsed[2]}"
    return f"restored-{namespace}-{claim}"[:253].rstrip("-.")


def _nfs_of(pv):
    spec = (pv or {}).get("spec") or {}
    if spec.get("nfs"):
        return spec["nfs"].get("server"), spec["nfs"].get("path")
    csi = spec.get("csi") or {}
    if csi.get("driver") == "nfs.csi.k8s.io":
        attrs = csi.get("volumeAttributes") or {}
        return attrs.get("server"), attrs.get("share")
    return None, None


def _claim_ref(pv):
    ref = ((pv or {}).get("spec") or {}).get("claimRef") or {}
    return ref.get("namespace"), ref.get("name")


# ------------------------------------------------------------------------------------ the plan
def plan_restore(p, live):
    """The restore of each claim, and every refusal. Pure.

    ``live``: ``claims`` {name: PVC} of the namespace, ``pvs`` [PV], ``pods`` {name: Pod} (the
    target pods that exist), ``namespaces`` (set of names, or None when they cannot be listed),
    ``namespace_exists`` (bool), ``classes`` {class: {"nfs_server", "nfs_path", "mount_options"}
    or None when not found}. Returns ``{"claims": [...], "refusals": [...], "nfs_volumes": [...]}``.
    """
    t = p["target"]
    ns, sts = t["namespace"], t["name"]
    refusals, claims = [], []
    if not live["namespace_exists"]:
        refusals.append(f"namespace {ns!r} does not exist: the claims are created in it before the StatefulSet;"
                        " create it first")
    nfs_volumes = []
    for tmpl in t["templates"]:
        klass = live["classes"].get(tmpl["storage_class_name"])
        nfs_volumes.append({"storage_class": tmpl["storage_class_name"],
                            "nfs_server": (klass or {}).get("nfs_server"), "nfs_path": (klass or {}).get("nfs_path")})
    pvs_by_name = {pv["metadata"]["name"]: pv for pv in live["pvs"]}
    for ordinal in t["ordinals"]:
        pod = f"{sts}-{ordinal}"
        for tmpl in t["templates"]:
            claim = claim_name(tmpl["name"], sts, ordinal)
            row = {"ordinal": ordinal, "pod": pod, "template": tmpl["name"], "claim": claim, "namespace": ns,
                   "storage_class": tmpl["storage_class_name"], "size": tmpl["size"],
                   "access_modes": tmpl["access_modes"], "source": p["source"]}
            where = f"claim {ns}/{claim}"
            if p["source"] == "archive":
                problems = _plan_archive(p, live, tmpl, row, pvs_by_name)
            elif p["source"] == "backup":
                problems = _plan_backup(p, live, tmpl, row, pvs_by_name)
            else:
                problems = _plan_retained(p, live, row, pvs_by_name)
            problems = [f"{where}: {m}" for m in problems]
            if not problems:
                problems = [f"{where}: {m}" for m in _check_claim(live, row, pvs_by_name)]
            if not problems and row["action"] == "restore" and pod in live["pods"] and not p["quiesce"]:
                phase = ((live["pods"][pod].get("status") or {}).get("phase")) or "unknown"
                problems.append(f"{where}: pod {ns}/{pod} exists (phase {phase}); a claim can only be given its"
                                " volume before the pod that uses it starts: stop it first, or run with"
                                " -e quiesce=true (scales the StatefulSet to 0, restores, scales it back)")
            row["pod_exists"] = pod in live["pods"]
            refusals += problems
            claims.append(row)
    return {"claims": claims, "refusals": refusals, "nfs_volumes": nfs_volumes}


def _plan_archive(p, live, tmpl, row, pvs_by_name):
    klass = live["classes"].get(tmpl["storage_class_name"])
    if not klass or not klass.get("nfs_path"):
        return [(f"StorageClass {tmpl['storage_class_name']!r} ({tmpl['where']}) is not served by an NFS provisioner of"
                " this cluster (no Deployment with its PROVISIONER_NAME and an NFS_PATH): its archives cannot be found")]
    row.update(nfs_server=klass["nfs_server"], export_path=klass["nfs_path"], mount_options=klass.get("mount_options"))
    directories = p.get("directories")
    if directories is None:
        row["action"] = "list"
        return []
    found = directories.get(klass["nfs_path"], [])
    ns, claim = row["namespace"], row["claim"]
    mine = f"{ns}-{claim}"
    indexed = indexed_archives(p["volume_index"], klass["nfs_path"])
    chosen = p["choose"].get(claim)
    if chosen is not None:
        if chosen not in found and restored_name(chosen) not in found:
            return [(f"archive {chosen!r} (-e archive=DIR) is missing: not a directory of"
                    f" {klass['nfs_server']}:{klass['nfs_path']}")]
        parsed = parse_directory(chosen)
        entry = indexed.get(chosen) or indexed.get(restored_name(chosen))
        if entry is not None:
            if (entry["namespace"], entry["claim"]) != (ns, claim) and not p["force_claim_mismatch"]:
                return [(f"archive {chosen!r} belongs to another claim ({entry['namespace']}/{entry['claim']}), not"
                         f" {ns}/{claim} (the collection's index: volume {entry['pv']}): restore it anyway with"
                         " -e force_claim_mismatch=true")]
        elif not parsed:
            pass  # neither parsed nor indexed: its claim is unknown, and -e archive=DIR chose it
        elif parsed[1] != mine and not p["force_claim_mismatch"]:
            belongs = (", ".join(f"{a}/{b}" for a, b in owners(parsed[1], live["namespaces"] or set()))
                       if parsed else "") or (parsed[1] if parsed else "no claim the name shows")
            return [(f"archive {chosen!r} belongs to another claim ({belongs}), not {ns}/{claim}"
                     f" (expected archived-{mine}-<pv>): restore it anyway with -e force_claim_mismatch=true")]
        candidates = [restored_name(chosen) if restored_name(chosen) in found else chosen]
    else:
        candidates = sorted(d for d in found if (d not in indexed and (parse_directory(d) or (None, None))[1] == mine)
                            or (d in indexed and (indexed[d]["namespace"], indexed[d]["claim"]) == (ns, claim)))
        restored = [d for d in candidates if d.startswith(RESTORED)]
        if restored:
            candidates = restored  # restored by an earlier run (perhaps interrupted): that one again
        if not candidates:
            similar = sorted(d for d in found if d.startswith(ARCHIVED) and claim in d)
            unknown = sorted(d for d in found if d.startswith(ARCHIVED) and d not in indexed and not parse_directory(d))
            return [f"no archive found: no archived-{mine}-<pv> in {klass['nfs_server']}:{klass['nfs_path']}"
                    " and none of this claim in the collection's index"
                    + (f" (archives naming {claim}: {', '.join(similar)}; choose one with -e archive=DIR)" if similar else "")
                    + (f"; archives whose claim is unknown (name not archived-<namespace>-<claim>-<pv>, not in the"
                       f" index): {', '.join(unknown)}; -e archive=DIR chooses one" if unknown else "")]
        if len(candidates) > 1:
            return [(f"ambiguous: {len(candidates)} archives in {klass['nfs_path']}: {', '.join(candidates)};"
                    " choose one with -e archive=DIR (and -e ordinals=[N])")]
        others = [o for o in owners(mine, live["namespaces"] or set()) if o != (ns, claim)]
        if others and candidates[0] not in indexed:
            return [f"ambiguous: {candidates[0]} may also be the archive of "
                    + ", ".join(f"{a}/{b}" for a, b in others)
                    + " (namespace and claim names contain '-'); choose it explicitly with -e archive=DIR"]
    source_dir = candidates[0]
    target_dir = restored_name(source_dir)
    entry = indexed.get(source_dir)
    pv = f"{RESTORED}{entry['pv']}" if entry else restored_pv_name(target_dir, ns, claim)
    if entry:
        row["indexed"] = {k: entry.get(k) for k in ("pv", "namespace", "claim", "statefulset", "ordinal", "directory")}
    row.update(source_directory=source_dir, directory=target_dir, pv=pv,
               nfs_path=f"{klass['nfs_path'].rstrip('/')}/{target_dir}",
               rename=({"from": f"{klass['nfs_path'].rstrip('/')}/{source_dir}",
                        "to": f"{klass['nfs_path'].rstrip('/')}/{target_dir}"} if source_dir != target_dir else None))
    return _planned_pv_problems(pvs_by_name, row, "restore another archive")


def indexed_archives(volume_index, export_path):
    """``{directory name: index entry}`` of the entries of ``export_path`` located at an archive (or a
    restored archive) of its top level, by module ``nfs_volume_index`` (name and inode). A name two
    entries claim is left out (attributed to neither)."""
    out, seen = {}, set()
    for entry in volume_index:
        name = entry.get("archive")
        if not name or (entry.get("share") or "").rstrip("/") != export_path.rstrip("/"):
            continue
        if name in seen:
            out.pop(name, None)
            continue
        seen.add(name)
        out[name] = entry
    return out


def claim_volumes(p, live):
    """The volumes of the StatefulSet's claims that exist and are bound now, on a class served by an NFS
    provisioner, below its export: what ``nfs_volume_index`` records (``index_only``). Pure."""
    t = p["target"]
    pvs = {pv["metadata"]["name"]: pv for pv in live["pvs"]}
    out = []
    for tmpl in t["templates"]:
        klass = live["classes"].get(tmpl["storage_class_name"]) or {}
        share = (klass.get("nfs_path") or "").rstrip("/")
        pattern = re.compile(rf"^{re.escape(tmpl['name'])}-{re.escape(t['name'])}-(0|[1-9][0-9]*)$")
        for name, pvc in sorted(live["claims"].items()):
            m = pattern.match(name)
            pv = pvs.get((pvc.get("spec") or {}).get("volumeName") or "")
            if not m or not share or pv is None or _claim_ref(pv) != (t["namespace"], name):
                continue
            _server, path = _nfs_of(pv)
            if not path or not path.startswith(share + "/"):
                continue
            out.append({"pv": pv["metadata"]["name"], "namespace": t["namespace"], "claim": name,
                        "statefulset": t["name"], "template": tmpl["name"], "ordinal": int(m.group(1)),
                        "directory": path, "share": share})
    return out


def _planned_pv_problems(pvs_by_name, row, way_out):
    """The PV a restore names exists: only for this directory and claim (an earlier run's)."""
    live_pv = pvs_by_name.get(row["pv"])
    if live_pv is None:
        return []
    row["pv_phase"] = (live_pv.get("status") or {}).get("phase")
    server, path = _nfs_of(live_pv)
    if path != row["nfs_path"] or _claim_ref(live_pv) != (row["namespace"], row["claim"]):
        return [(f"PersistentVolume {row['pv']} exists for another directory or claim ({server}:{path}, claimRef"
                 f" {'/'.join(x or '-' for x in _claim_ref(live_pv))}): remove it or {way_out}")]
    return []


def backup_directory(namespace, claim, list_sha256):
    """The fresh directory a backup's copy of ``claim`` is restored into (one per content)."""
    return f"{RESTORED}{namespace}-{claim}-backup-{list_sha256[:12]}"


def _plan_backup(p, live, tmpl, row, pvs_by_name):
    """A claim's copy in the backup, to be copied into a fresh directory of the class's export."""
    klass = live["classes"].get(tmpl["storage_class_name"])
    if not klass or not klass.get("nfs_path"):
        message = (f"StorageClass {tmpl['storage_class_name']!r} ({tmpl['where']}) is not served by an NFS provisioner"
                   " of this cluster (no Deployment with its PROVISIONER_NAME and an NFS_PATH): there is no export to"
                   " restore the backup into")
        return [message]
    entries = p["backups"]
    mine = [e for e in entries if e.get("manifest") and e["manifest"]["claim_template"] == tmpl["name"]
            and e["manifest"]["ordinal"] == row["ordinal"]]
    if not mine:
        bare = [e["path"] for e in entries if not e.get("manifest") and e["path"].rstrip("/").endswith("/" + row["claim"])]
        if bare:
            return [(f"the backup's copy {bare[0]} has no manifest ({bare[0]}.manifest.json): an unfinished copy"
                    " (run backup.yml again) or not a backup of backup.yml")]
        held = sorted({(e["manifest"]["claim_template"], e["manifest"]["ordinal"]) for e in entries if e.get("manifest")})
        return [f"the backup has no copy of ordinal {row['ordinal']} (claim template {tmpl['name']}); it holds "
                + (", ".join(f"{t} {o}" for t, o in held) or "none") + ": restore those ordinals with -e ordinals=[N]"]
    if len(mine) > 1:
        return ["ambiguous: the backup holds several copies of this claim: " + ", ".join(e["path"] for e in mine)]
    entry = mine[0]
    manifest = entry["manifest"]
    ns, claim = row["namespace"], row["claim"]
    target_dir = backup_directory(ns, claim, manifest["list_sha256"])
    row.update(nfs_server=klass["nfs_server"], export_path=klass["nfs_path"], mount_options=klass.get("mount_options"),
               source_directory=entry["path"].rstrip("/"), directory=target_dir, pv=target_dir[:253],
               nfs_path=f"{klass['nfs_path'].rstrip('/')}/{target_dir}", rename=None,
               copy={"src": entry["path"].rstrip("/"), "dest": f"{klass['nfs_path'].rstrip('/')}/{target_dir}",
                     "expect_list_sha256": manifest["list_sha256"]},
               backup={k: manifest.get(k) for k in BACKUP_SUMMARY})
    return _planned_pv_problems(pvs_by_name, row, "restore into another namespace")


def _plan_retained(p, live, row, pvs_by_name):
    ns, claim = row["namespace"], row["claim"]
    chosen = p["choose"].get(claim)
    if chosen is not None:
        pv = pvs_by_name.get(chosen)
        if pv is None:
            return [f"PersistentVolume {chosen!r} (-e archive=PV) is missing"]
        candidates = [pv]
        if _claim_ref(pv) != (ns, claim) and not p["force_claim_mismatch"]:
            return [(f"PersistentVolume {chosen} belongs to another claim ({'/'.join(x or '-' for x in _claim_ref(pv))}),"
                    f" not {ns}/{claim}: restore it anyway with -e force_claim_mismatch=true")]
    else:
        # one bound to this claim by an earlier run comes first
        bound = [pv for pv in live["pvs"] if _claim_ref(pv) == (ns, claim)
                 and (pv.get("metadata", {}).get("annotations") or {}).get(RESTORED_FROM)]
        candidates = bound or [pv for pv in live["pvs"] if _claim_ref(pv) == (ns, claim)
                               and ((pv.get("status") or {}).get("phase")) == "Released"]
        if not candidates:
            return [f"no retained volume found: no Released PersistentVolume whose claimRef is {ns}/{claim}"]
        if len(candidates) > 1:
            return [f"ambiguous: {len(candidates)} Released PersistentVolumes of this claim: "
                    + ", ".join(f"{c['metadata']['name']} ({':'.join(str(x) for x in _nfs_of(c))})" for c in candidates)
                    + "; choose one with -e archive=PV"]
    pv = candidates[0]
    server, path = _nfs_of(pv)
    if not path:
        return [f"PersistentVolume {pv['metadata']['name']} is not an NFS volume (no spec.nfs)"]
    phase = (pv.get("status") or {}).get("phase")
    if phase not in ("Released", "Available", "Bound"):
        return [f"PersistentVolume {pv['metadata']['name']} is {phase}, not Released"]
    if phase == "Bound" and _claim_ref(pv) != (ns, claim):
        return [f"PersistentVolume {pv['metadata']['name']} is bound to {'/'.join(_claim_ref(pv))}"]
    klass = (pv.get("spec") or {}).get("storageClassName") or ""
    if klass != (row["storage_class"] or ""):
        return [(f"PersistentVolume {pv['metadata']['name']} has class {klass!r} and the claim template asks for"
                 f" {row['storage_class']!r}: the claim would never bind to it")]
    policy = (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy")
    if policy != "Retain":
        return [(f"PersistentVolume {pv['metadata']['name']} has reclaim policy {policy}: only a Retain volume is"
                " restored in place (set it to Retain first)")]
    row.update(pv=pv["metadata"]["name"], nfs_server=server, nfs_path=path, source_directory=path.rsplit("/", 1)[-1],
               directory=path.rsplit("/", 1)[-1], export_path=path.rsplit("/", 1)[0], rename=None,
               pv_phase=phase)
    return []


def _check_claim(live, row, pvs_by_name):
    """The claim's own state: absent (restore), bound to the planned PV (nothing to do), else refused."""
    if row.get("action") == "list":
        return []
    pvc = live["claims"].get(row["claim"])
    pv = pvs_by_name.get(row["pv"])
    if pvc is not None and pvc["metadata"].get("deletionTimestamp"):
        # deleted, kept only while its pod runs (pvc-protection): gone once the pod is stopped
        row["claim_deleting"] = True
        pvc = None
    if pvc is None:
        row["action"] = "restore"
        return []
    volume = (pvc.get("spec") or {}).get("volumeName")
    phase = (pvc.get("status") or {}).get("phase")
    if volume == row["pv"]:
        done = pv is not None and _claim_ref(pv) == (row["namespace"], row["claim"]) and \
            ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") in (None, pvc["metadata"].get("uid"))
        row["action"] = "unchanged" if done else "restore"
        return []
    if volume:
        other = pvs_by_name.get(volume)
        server, path = _nfs_of(other)
        return [f"exists and is bound to another volume, {volume}" + (f" ({server}:{path})" if path else "")
                + ": restore.yml replaces no claim; delete it first (its data then goes where its class sends"
                  " a deleted claim's data) or restore another ordinal"]
    return [(f"exists, {phase or 'not bound'}, without a volume: delete it first (the provisioner may bind it to a"
            " new empty volume at any moment)")]


# ------------------------------------------------------------------------------------ manifests
def pv_manifest(row):
    spec = {
        "capacity": {"storage": row["size"]},
        "accessModes": list(row["access_modes"]),
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": row["storage_class"],
        "nfs": {"server": row["nfs_server"], "path": row["nfs_path"]},
        "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": row["namespace"],
                     "name": row["claim"]},
    }
    if row.get("mount_options"):
        spec["mountOptions"] = list(row["mount_options"])
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": row["pv"], "labels": {MANAGED_BY_LABEL: MANAGED_BY},
                         "annotations": {RESTORED_FROM: row["source_directory"]}},
            "spec": spec}


def pvc_manifest(row, selector):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": row["claim"], "namespace": row["namespace"], "labels": dict(selector),
                         "annotations": {RESTORED_FROM: row["source_directory"]}},
            "spec": {"storageClassName": row["storage_class"], "accessModes": list(row["access_modes"]),
                     "resources": {"requests": {"storage": row["size"]}}, "volumeName": row["pv"]}}


# ------------------------------------------------------------------------------------ reads
def _class_volumes(client, templates):
    classes = {}
    deployments = None
    for tmpl in templates:
        name = tmpl["storage_class_name"]
        if name in classes:
            continue
        sc = client.get(Ref("StorageClass", name))
        if sc is None:
            classes[name] = None
            continue
        if deployments is None:
            deployments = client.list("Deployment")
        served = None
        for where, env in provisioner_containers(deployments):
            if env["PROVISIONER_NAME"] == sc.get("provisioner") and env.get("NFS_PATH"):
                served = {"nfs_server": env.get("NFS_SERVER"), "nfs_path": env["NFS_PATH"].rstrip("/") or "/",
                          "mount_options": sc.get("mountOptions") or [], "deployment": where}
        classes[name] = served
    return classes


def read_live(client, p):
    t = p["target"]
    ns = t["namespace"]
    namespace_exists = client.get(Ref("Namespace", ns)) is not None
    claims = {c["metadata"]["name"]: c for c in (client.list("PersistentVolumeClaim", ns) if namespace_exists else [])}
    pods = {}
    if namespace_exists:
        for ordinal in t["ordinals"]:
            pod = client.get(Ref("Pod", f"{t['name']}-{ordinal}", ns))
            if pod is not None:
                pods[pod["metadata"]["name"]] = pod
    try:
        namespaces = {n["metadata"]["name"] for n in client.list("Namespace")}
    except ApiError as exc:
        if exc.status != 403:
            raise
        namespaces = None
    return {"namespace_exists": namespace_exists, "claims": claims, "pods": pods, "namespaces": namespaces,
            "pvs": client.list("PersistentVolume"), "classes": _class_volumes(client, t["templates"])}


# ------------------------------------------------------------------------------------ writes
def _create(client, manifest, check_mode, outcome):
    ref = Ref.of(manifest)
    query = [("fieldManager", FIELD_MANAGER)] + ([("dryRun", "All")] if check_mode else [])
    after = client.request("POST", collection_path(ref.kind, ref.namespace),
                           "{}create {}".format("dry-run " if check_mode else "", ref), query=query, body=manifest)
    outcome.add(Result(ref, "create", True, before={}, after=manifest, reason="restore"))
    return after


def _rebind(client, pv, row, check_mode, outcome):
    """Point a Released PV's claimRef at the claim (uid and resourceVersion cleared: the binder fills them)."""
    ref = Ref("PersistentVolume", pv["metadata"]["name"])
    patch = {"metadata": {"annotations": {RESTORED_FROM: row["source_directory"]}},
             "spec": {"claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": row["namespace"],
                                   "name": row["claim"], "uid": None, "resourceVersion": None}}}
    client.patch(ref, patch, FIELD_MANAGER, dry_run=check_mode, patch_type="merge-patch")
    before = {"spec": {"claimRef": copy.deepcopy((pv.get("spec") or {}).get("claimRef"))}}
    outcome.add(Result(ref, "update", True, before=before, after=patch, reason="restore (rebind)"))


# A pre-bound claim the PV controller has not bound within this many seconds is touched once (annotation
# BIND_RETRY), so that the controller syncs it again at once. Its claim and volume workers race on the
# volume's status when a pre-bound pair arrives together; the claim worker's sync then fails with a
# conflict and is retried only at the next resync of claims (kube-controller-manager
# --pvclaimbinder-sync-period, 15 s by default): seen in the lab's v1.35.4 at --v=4 as "Could not sync
# claim ... the object has been modified", the claim Bound 11-14 s later.
BIND_RETRY_AFTER = 2.0
BIND_RETRY = "stateful.nfs/bind-retry"


def _wait_bound(client, rows, timeout, clock=time.monotonic, sleep=time.sleep):
    """``{claim: phase as last read}`` once every claim of ``rows`` is Bound or ``timeout`` seconds
    passed (one deadline for all of them). A claim still unbound after ``BIND_RETRY_AFTER`` seconds is
    annotated once (``BIND_RETRY``: the time) to have the PV controller sync it again."""
    deadline = clock() + timeout

    def left():
        return max(0.0, deadline - clock())

    phases = {}
    for row in rows:
        ref = Ref("PersistentVolumeClaim", row["claim"], row["namespace"])
        bound, claim, _seconds = waiters.wait_claim_bound(client, ref, timeout=min(left(), BIND_RETRY_AFTER),
                                                          clock=clock, sleep=sleep)
        row["bind_retried"] = not bound and bool(claim) and left() > 0
        if row["bind_retried"]:
            client.patch(ref, {"metadata": {"annotations": {BIND_RETRY: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}},
                         FIELD_MANAGER, patch_type="merge-patch")
            bound, claim, _seconds = waiters.wait_claim_bound(client, ref, timeout=left(), clock=clock, sleep=sleep)
        phases[row["claim"]] = (claim.get("status") or {}).get("phase")
    return phases


def _wait_claims_gone(client, p, live, clock=time.monotonic, sleep=time.sleep):
    """Claims being deleted whose pod is gone disappear within seconds (pvc-protection lets go): wait for
    them (bounded by wait_timeout), so that the real run creates the claim anew."""
    t = p["target"]
    ns = t["namespace"]
    targets = {claim_name(tmpl["name"], t["name"], o) for tmpl in t["templates"] for o in t["ordinals"]}
    deadline = clock() + p["wait_timeout"]
    while True:
        waiting = [name for name, c in live["claims"].items()
                   if name in targets and c["metadata"].get("deletionTimestamp")]
        if not waiting or clock() >= deadline:
            return live
        sleep(1)
        live = dict(live, claims={c["metadata"]["name"]: c for c in client.list("PersistentVolumeClaim", ns)},
                    pvs=client.list("PersistentVolume"))


def run_restore(client, p, check_mode, outcome):
    live = read_live(client, p)
    if p["index_only"]:
        nfs_volumes = []
        for tmpl in p["target"]["templates"]:
            klass = live["classes"].get(tmpl["storage_class_name"]) or {}
            nfs_volumes.append({"storage_class": tmpl["storage_class_name"], "nfs_server": klass.get("nfs_server"),
                                "nfs_path": klass.get("nfs_path")})
        outcome.extra.update(statefulset={"name": p["target"]["name"], "namespace": p["target"]["namespace"]},
                             claims=[], nfs_volumes=nfs_volumes, renames=[], copies=[], pods_to_stop=[],
                             volumes=claim_volumes(p, live))
        return
    if not check_mode and not live["pods"]:
        live = _wait_claims_gone(client, p, live)
    plan = plan_restore(p, live)
    outcome.extra.update(statefulset={"name": p["target"]["name"], "namespace": p["target"]["namespace"]},
                         claims=plan["claims"], nfs_volumes=plan["nfs_volumes"],
                         renames=[r["rename"] for r in plan["claims"] if r.get("rename") and r.get("action") == "restore"],
                         copies=[r["copy"] for r in plan["claims"] if r.get("copy") and r.get("action") == "restore"],
                         pods_to_stop=sorted({r["pod"] for r in plan["claims"]
                                              if r.get("action") == "restore" and r["pod_exists"]}))
    if plan["refusals"]:
        raise RestoreRefused("refused, nothing was changed:\n- " + "\n- ".join(plan["refusals"]),
                             refusals=plan["refusals"], claims=plan["claims"], nfs_volumes=plan["nfs_volumes"])
    todo = [r for r in plan["claims"] if r.get("action") == "restore"]
    if p.get("directories") is None and p["source"] == "archive":
        return  # only where to look: the caller lists the directories on the NFS server
    if not check_mode:
        # the real run binds directories that are in place: renamed already, and present
        for row in todo:
            found = p["directories"].get(row.get("export_path")) if p.get("directories") else None
            if found is not None and row["directory"] not in found:
                raise RestoreRefused(f"claim {row['namespace']}/{row['claim']}: directory {row['nfs_path']} is not on"
                                     " the NFS server yet (rename the archive first: restore.yml does)"
                                     " - nothing was changed", claims=plan["claims"])
            if row["pod_exists"]:
                raise RestoreRefused(f"claim {row['namespace']}/{row['claim']}: pod {row['pod']} still exists; stop it"
                                     " before the claim is created (-e quiesce=true) - nothing was changed",
                                     claims=plan["claims"])
    pvs = {pv["metadata"]["name"]: pv for pv in live["pvs"]}
    for row in todo:
        if row["pv"] in pvs:
            if ((pvs[row["pv"]].get("spec") or {}).get("claimRef") or {}).get("uid"):
                # bound before, its claim deleted since (Released): free it for the new claim
                _rebind(client, pvs[row["pv"]], row, check_mode, outcome)
        else:
            _create(client, pv_manifest(row), check_mode, outcome)
        if row["claim"] not in live["claims"]:
            _create(client, pvc_manifest(row, p["target"]["selector"]), check_mode, outcome)
    if todo and not check_mode:
        wait_bound_or_fail(client, todo, p["wait_timeout"], plan["claims"], "their restored volumes")


def wait_bound_or_fail(client, todo, timeout, claims, what, hint=""):
    """Wait (``timeout`` seconds, 0 - not at all) for the claims of ``todo`` to be Bound, noting each row's
    phase; a K8sError naming those that are not (bound to ``what``)."""
    if not timeout:
        return
    phases = _wait_bound(client, todo, timeout)
    for row in todo:
        row["phase"] = phases.get(row["claim"])
    unbound = [r["claim"] for r in todo if r["phase"] != "Bound"]
    if unbound:
        raise K8sError(f"claims not Bound to {what} after {timeout}s: {', '.join(unbound)}"
                       f" (kubectl describe pvc names the reason){hint}", claims=claims)
