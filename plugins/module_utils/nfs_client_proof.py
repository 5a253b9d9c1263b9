# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What role ``nfs_client`` proves on every node, and what a node's proofs add up to.

Each StorageClass of role ``nfs_provisioner`` names an NFS server and an export path, and kubelet
mounts the class's volumes with the class's mount options. A node that can use one export may
not be admitted by another, so the client proof covers every distinct export the classes use:
(server, export path, the mount options that decide whether the mount can be made, see
``mount_options.MOUNT_ACCESS_OPTIONS``). Without classes it is the role's own export, as before.
The classes are read as role ``nfs_provisioner`` reads them (``lists.provisioner_class_plan``),
so an entry without ``nfs_server``/``nfs_path`` means the same export to both roles.
"""
from __future__ import annotations

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.lists import provisioner_class_plan
from ansible_collections.stateful.nfs.plugins.module_utils.mount_options import (
    mount_access_options,
    nfs_major_version,
)
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_libnfs_session import nfs_source

# The keys of nfs_probe's result a node's combined result carries from its first failed proof
# (else its first proof), so a single-export result reads as it always did.
_PROBE_KEYS = ("ok", "server", "export", "node", "method", "method_reason", "version", "reason",
               "message", "exports", "details")


def export_path(path):
    """``path`` with one leading slash, no trailing or doubled ones: the export it names."""
    return "/" + "/".join(part for part in str(path).split("/") if part)


def _only_beneath(path, exports):
    """Whether ``path`` is not one of ``exports`` but a directory below one of them."""
    paths = {export_path(e) for e in exports}
    return path not in paths and any(path.startswith(e.rstrip("/") + "/") for e in paths)


def proof_targets(classes, server, export, version="auto", known_exports=None):
    """The exports a node must prove, and every problem of ``classes``.

    ``classes``: StorageClass entries as role ``nfs_provisioner`` takes them
    (``nfs_provisioner_classes``, or the classes its plan published); None or [] for none.
    ``server``, ``export``: the role's own server and export, the default of an entry without
    ``nfs_server`` / ``nfs_path`` and the one target without classes. ``version``: the role's
    ``nfs_client_nfs_version`` (``auto``, ``3``, ``4``), used where a class's mount options name no
    NFS version. ``known_exports``: the export paths ``server`` is configured with, when known.

    Returns ``{"targets": [...], "problems": [...], "uses_default": bool}`` (``uses_default``:
    the role's own export is a target). Each target is ``{server, export, source ("server:/path"),
    name (``target_name``), version, mount_options (a comma-separated str), classes (StorageClass
    names, [] for the role's own export), known_exports (for nfs_probe: ``known_exports`` on ``server``
    unless the path is not one of them but a directory below one, which a client may mount too;
    else None)}``,
    in the order the classes first name them. Classes with ``state: absent`` are not proved; when
    no class is left, the role's own export is.
    """
    version = str(version)
    problems, planned = [], []
    if classes:
        plan = provisioner_class_plan(classes, {"nfs_server": server or None, "nfs_path": export or None})
        problems, planned = plan["problems"], plan["classes"]
    wanted = [] if problems else [
        (p.get("nfs_server"), p.get("nfs_path"), mount_access_options(p.get("mount_options") or ()),
         p["storage_class_name"]) for p in planned if p.get("state", "present") != "absent"]
    if not wanted and not problems:
        # No class list (or only classes being removed): the role's own export, as before.
        wanted = [(server, export, (), None)]
    targets, by_key = [], {}
    for host, path, options, class_name in wanted:
        host, path = str(host or "").strip(), export_path(path or "")
        major = nfs_major_version(options)
        target_version = str(major) if major in (3, 4) else version
        key = (host.lower(), path, options, target_version)
        if key not in by_key:
            known = (known_exports if known_exports is not None and host == str(server or "").strip()
                     and not _only_beneath(path, known_exports) else None)
            by_key[key] = {"server": host, "export": path, "source": nfs_source(host, path),
                           "version": target_version, "mount_options": ",".join(options),
                           "classes": [], "known_exports": known}
            targets.append(by_key[key])
        if class_name is not None:
            by_key[key]["classes"].append(class_name)
    for target in targets:
        target["name"] = target_name(target)
    return {"targets": targets, "problems": problems,
            "uses_default": any(not target["classes"] for target in targets)}


def target_name(target):
    """``server:/path`` of a target, with the classes that use it and the options that decide its mount."""
    extra = []
    if target.get("classes"):
        extra.append("class" + ("es " if len(target["classes"]) > 1 else " ") + ", ".join(target["classes"]))
    if target.get("mount_options"):
        extra.append("options " + target["mount_options"])
    return target["source"] + (f" ({'; '.join(extra)})" if extra else "")


def _one_proof(item):
    """A target's proof from its registered loop item: nfs_probe's result, or why there is none."""
    target = item.get("item") or {}
    name = target.get("name") or (target_name(target) if target.get("source") else "")
    base = {"server": target.get("server"), "export": target.get("export"), "target": name,
            "classes": list(target.get("classes") or [])}
    if item.get("unreachable"):
        return dict(base, ok=False, method="-", method_reason="", reason="unreachable", version=None,
                    message="unreachable: " + str(item.get("msg") or "").strip(), unreachable=True)
    if "ok" not in item:
        return dict(base, ok=False, method="-", method_reason="", reason="error", version=None,
                    message="the probe could not run: " + str(item.get("msg") or "no result").strip())
    proof = {k: item.get(k) for k in _PROBE_KEYS if k in item}
    return dict(proof, target=base["target"], classes=base["classes"], ok=bool(item["ok"]))


def proof_result(registered):
    """A node's ``nfs_client_proof_result`` from its registered loop over the targets.

    ``registered``: what the role's nfs_probe loop registered (``{"results": [item, ...]}``, each
    item nfs_probe's result with the target as ``item``). The result carries nfs_probe's keys
    (``ok``, ``method``, ``method_reason``, ``reason``, ``message``, ``version``, ``server``,
    ``export``, ``exports``, ``details``) from the first failed proof, else the first one, with
    ``ok`` true only when every export was proved, and ``proofs``: one entry per export (those keys
    plus ``target``, "server:/path (class ...)", and ``classes``). With several exports the
    ``message`` names each one that failed, or says how many passed; ``failed`` lists the
    failed exports' names; an unreachable node also gets ``unreachable`` and ``msg``.
    """
    items = (registered or {}).get("results")
    if not isinstance(items, list) or not items:
        return {"ok": False, "method": "-", "method_reason": "", "reason": "no_result", "version": None,
                "message": "no proof ran on this node", "proofs": [], "failed": []}
    proofs = [_one_proof(item if isinstance(item, dict) else {}) for item in items]
    failed = [p for p in proofs if not p["ok"]]
    result = {k: v for k, v in (failed or proofs)[0].items() if k not in ("target", "classes", "unreachable")}
    result.update(ok=not failed, proofs=proofs, failed=[p["target"] for p in failed])
    if len(proofs) > 1:
        if failed:
            result["message"] = (f"{len(failed)} of {len(proofs)} exports failed: "
                                 + "; ".join(f"{p['target']}: {p['message']}" for p in failed))
        else:
            result["message"] = (f"{len(proofs)} exports proved ({', '.join(p['target'] for p in proofs)}): "
                                 + proofs[0]["message"])
    unreachable = [p for p in proofs if p.get("unreachable")]
    if unreachable:
        result.update(unreachable=True, msg=unreachable[0]["message"].partition("unreachable: ")[2])
    return result


def gate(results):
    """The preflight gate over every node: ``results`` maps each node to its
    ``nfs_client_proof_result`` (None where it has none).

    Returns ``{ran, proven, unproven, problems}``: ``ran`` is whether any node has a result (the
    client stage ran in this run); ``unproven`` the nodes without a passed proof, in order;
    ``problems`` one line per such node naming each export it did not prove and why, e.g.
    ``node-3: 10.0.0.5:/srv/nfs/b (class nfs-b): export_not_allowed: ...``.
    """
    results = results or {}
    proven, unproven, problems = [], [], []
    for node, result in results.items():
        if isinstance(result, dict) and result.get("ok") is True:
            proven.append(node)
            continue
        unproven.append(node)
        if not isinstance(result, dict) or not result:
            problems.append(f"{node}: no proof (the node failed or was unreachable before it)")
            continue
        failed = [p for p in result.get("proofs") or [] if not p.get("ok")]
        if failed:
            problems.append(f"{node}: " + "; ".join(f"{p.get('target') or p.get('export')}: {p.get('message')}"
                                                    for p in failed))
        else:
            where = nfs_source(str(result.get("server") or "?"), str(result.get("export") or "?"))
            problems.append(f"{node}: {where}: {result.get('message') or result.get('msg') or 'failed'}")
    return {"ran": any(isinstance(r, dict) and r for r in results.values()), "proven": proven,
            "unproven": unproven, "problems": problems}
