# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Move a StatefulSet's per-pod data to another StorageClass (module ``pvc_restore``,
``source=migrate``): each claim's live directory is copied into a fresh directory of the new
class's export and the claim is created again, bound to its copy by a pre-bound static volume
(the mechanism of :mod:`restore`).

The claim's directory is its PersistentVolume's ``spec.nfs`` (server, path), the path read as
the NFS server's disk path, as :mod:`restore` reads it. The copy is
``<new class's NFS_PATH>/migrated-<namespace>-<claim>-<old pv>`` and its volume
``migrated-<old pv>`` (reclaim policy Retain, class of the inventory's claim template).

The steps, each a separate call so that an interruption anywhere re-runs to the same end:

1. ``directories`` not given: every refusal, then each old volume is set to reclaim policy
   ``Retain`` and marked ``stateful.nfs/migrate-to: <new class>`` (one merge patch) - before
   any claim is deleted, so that its directory outlives its claim and a re-run finds it again
   (a Released volume whose claimRef names the claim and whose mark names the class).
2. The caller stops the pods and copies each directory (module ``nfs_dir_copy``: the copy
   appears under its name only when finished, with its manifest beside it).
3. ``directories`` given (the finished copies, as listed on the NFS server): a copy not in the
   list, a pod that still exists or an old volume that is not Retain is refused before any
   write; then each old claim is deleted (its volume and directory stay), the new volume and
   claim are created and the claims waited for until Bound. A claim is never bound to a copy
   that is not finished, and the old directory is never removed here.

:func:`plan_migrate` is pure (unit-tested); :func:`run_pvc_restore` is the module's runner.
"""

from __future__ import annotations

import re

from ansible_collections.stateful.nfs.plugins.module_utils.k8s import restore
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import wait as waiters
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.apply import FIELD_MANAGER, Result
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref

MIGRATED = "migrated-"
MIGRATE_TO = "stateful.nfs/migrate-to"
MIGRATE_DEST = "stateful.nfs/migrate-dest"


def migrated_directory(namespace, claim, old_pv):
    """The fresh directory, under the new class's export, a claim's data is copied into."""
    return f"{MIGRATED}{namespace}-{claim}-{old_pv}"


def migrated_pv_name(old_pv):
    return f"{MIGRATED}{old_pv}"[:253].rstrip("-.")


def _meta(obj, key):
    return ((obj or {}).get("metadata") or {}).get(key) or {}


def _spec(obj):
    return (obj or {}).get("spec") or {}


def _marked(pv, namespace, claim, new_class):
    """An old volume an earlier run set to Retain for moving ``claim`` to ``new_class``."""
    return (restore._claim_ref(pv) == (namespace, claim) and _meta(pv, "annotations").get(MIGRATE_TO) == new_class
            and not pv["metadata"]["name"].startswith(MIGRATED))


# ------------------------------------------------------------------------------------ the plan
def plan_migrate(p, live):
    """Each claim's move to the class of its template in ``p`` (the inventory's), and every refusal. Pure.

    ``live`` as :func:`restore.plan_restore` reads it, plus ``statefulset`` (the live StatefulSet or
    None) and ``pods`` holding every pod of the StatefulSet. Each row's ``action``: ``migrate``
    (to copy and bind), ``unchanged`` (the claim is on the new class already), ``none`` (no claim and
    no old volume: nothing to move). Returns ``{"claims", "refusals", "nfs_volumes", "apply_statefulset",
    "live_classes", "sources"}``.
    """
    t = p["target"]
    ns, sts = t["namespace"], t["name"]
    refusals = []
    if not live["namespace_exists"]:
        refusals.append(f"namespace {ns!r} does not exist: there is no claim to move")
    live_sts = live.get("statefulset")
    live_classes = {v["metadata"]["name"]: _spec(v).get("storageClassName")
                    for v in _spec(live_sts).get("volumeClaimTemplates") or []}
    mine = [tmpl["name"] for tmpl in t["templates"]]
    other = sorted(set(live_classes) - set(mine))
    if other:
        refusals.append(f"StatefulSet {ns}/{sts} has claim template(s) {', '.join(other)} that the inventory's entry does"
                        f" not declare ({', '.join(mine)}): their claims would be left behind on the old class;"
                        " declare every claim template in the entry first")
    ordinals = set(t["ordinals"])
    if not t["ordinals_given"]:  # the claims of ordinals beyond the replicas (scaled down) move too
        for tmpl in t["templates"]:
            pattern = re.compile(rf"^{re.escape(tmpl['name'])}-{re.escape(sts)}-(0|[1-9][0-9]*)$")
            names = list(live["claims"]) + [restore._claim_ref(pv)[1] or "" for pv in live["pvs"]
                                            if restore._claim_ref(pv)[0] == ns
                                            and _meta(pv, "annotations").get(MIGRATE_TO)]
            ordinals |= {int(m.group(1)) for m in map(pattern.match, names) if m}
    pvs_by_name = {pv["metadata"]["name"]: pv for pv in live["pvs"]}
    claims = []
    for ordinal in sorted(ordinals):
        pod = f"{sts}-{ordinal}"
        for tmpl in t["templates"]:
            claim = restore.claim_name(tmpl["name"], sts, ordinal)
            row = {"ordinal": ordinal, "pod": pod, "template": tmpl["name"], "claim": claim, "namespace": ns,
                   "storage_class": tmpl["storage_class_name"], "size": tmpl["size"],
                   "access_modes": tmpl["access_modes"], "source": "migrate", "rename": None, "action": None}
            problems = _plan_claim(p, live, tmpl, row, pvs_by_name)
            row["pod_exists"] = pod in live["pods"]
            refusals += [f"claim {ns}/{claim}: {m}" for m in problems]
            claims.append(row)
    moved = any(r["action"] == "migrate" or str(r.get("pv") or "").startswith(MIGRATED) for r in claims)
    if live_sts is not None:
        apply = any(live_classes.get(tmpl["name"]) != tmpl["storage_class_name"] for tmpl in t["templates"])
    else:
        apply = moved  # deleted by an interrupted recreate: deploy it again on the moved claims
    nfs_volumes = [{"storage_class": tmpl["storage_class_name"],
                    "nfs_server": (live["classes"].get(tmpl["storage_class_name"]) or {}).get("nfs_server"),
                    "nfs_path": (live["classes"].get(tmpl["storage_class_name"]) or {}).get("nfs_path")}
                   for tmpl in t["templates"]]
    sources = [{"claim": r["claim"], "pv": r["old_pv"], "nfs_path": r["source_nfs_path"]}
               for r in claims if r.get("old_pv")]
    return {"claims": claims, "refusals": refusals, "nfs_volumes": nfs_volumes, "apply_statefulset": apply,
            "live_classes": live_classes, "sources": sources}


def _plan_claim(p, live, tmpl, row, pvs_by_name):
    ns, claim, new_class = row["namespace"], row["claim"], tmpl["storage_class_name"]
    pvc = live["claims"].get(claim)
    if pvc is not None and pvc["metadata"].get("deletionTimestamp"):
        row["claim_deleting"] = True  # kept only while its pod runs: gone once the pods are stopped
        pvc = None
    marked = [pv for pv in live["pvs"] if _marked(pv, ns, claim, new_class)]
    if pvc is not None:
        phase = (pvc.get("status") or {}).get("phase")
        volume = _spec(pvc).get("volumeName")
        current = _spec(pvc).get("storageClassName") or ""
        row.update(claim_class=current, claim_uid=pvc["metadata"].get("uid"))
        if phase != "Bound" and not (current == new_class and volume):
            return [(f"is {phase or 'Pending'}, not Bound: a claim without its volume has no directory to move; let it"
                     " bind, or delete it, first")]
        if current == new_class:  # moved already (or made on the new class): Bound, or binding to its volume
            server, path = restore._nfs_of(pvs_by_name.get(volume))
            row.update(action="unchanged", pv=volume, nfs_server=server, nfs_path=path)
            if len(marked) == 1:  # the old volume an earlier run moved this claim from (prune_source)
                row.update(old_pv=marked[0]["metadata"]["name"], source_nfs_path=restore._nfs_of(marked[0])[1])
            return []
        old, row["from"] = pvs_by_name.get(volume), "claim"
        if old is None:
            return [f"is bound to {volume}, which cannot be read"]
    else:
        if not marked:
            row["action"] = "none"  # no data to move: the StatefulSet makes this claim on the new class
            return []
        if len(marked) > 1:
            return ["ambiguous: several old volumes are marked for its move: "
                    + ", ".join(pv["metadata"]["name"] for pv in marked) + "; delete the wrong one's mark"
                    f" ({MIGRATE_TO})"]
        old, row["from"] = marked[0], "retained"
    server, path = restore._nfs_of(old)
    old_name = old["metadata"]["name"]
    if not path:
        return [f"its volume {old_name} is not an NFS volume (no spec.nfs): only NFS directories are moved"]
    klass = live["classes"].get(new_class)
    if not klass or not klass.get("nfs_path"):
        return [(f"StorageClass {new_class!r} ({tmpl['where']}, the class the inventory names) does not exist or is"
                 " not provisioned by an NFS provisioner of this cluster (no Deployment with its PROVISIONER_NAME and"
                 " an NFS_PATH): there is no export to move the data to; create it first (site.yml, role"
                 " nfs_provisioner)")]
    directory = migrated_directory(ns, claim, old_name)
    nfs_path = f"{klass['nfs_path'].rstrip('/')}/{directory}"
    policy = _spec(old).get("persistentVolumeReclaimPolicy")
    row.update(action="migrate", old_pv=old_name, old_storage_class=_spec(old).get("storageClassName"),
               old_reclaim_policy=policy,
               source_nfs_server=server, source_nfs_path=path, source_directory=path,
               nfs_server=klass["nfs_server"], export_path=klass["nfs_path"], mount_options=klass.get("mount_options"),
               directory=directory, pv=migrated_pv_name(old_name), nfs_path=nfs_path,
               copy={"src": path, "dest": nfs_path},
               retain=(policy != "Retain" or _meta(old, "annotations").get(MIGRATE_TO) != new_class))
    if server != klass["nfs_server"] and not p.get("copy_host"):
        return [(f"its directory is on NFS server {server} ({path}) and StorageClass {new_class!r} writes to"
                 f" {klass['nfs_server']}:{klass['nfs_path']}: the copy runs on one host, so a move between two NFS"
                 " servers is refused unless -e migrate_nfs_host=HOST names an inventory host where both"
                 f" {path} and {klass['nfs_path']} are reachable under these paths")]
    return restore._planned_pv_problems(pvs_by_name, row, "migrate to another class")


# ------------------------------------------------------------------------------------ reads
def read_live(client, p):
    live = restore.read_live(client, p)
    t = p["target"]
    live["statefulset"] = None
    if live["namespace_exists"]:
        live["statefulset"] = client.get(Ref("StatefulSet", t["name"], t["namespace"]))
        pattern = re.compile(rf"^{re.escape(t['name'])}-(0|[1-9][0-9]*)$")
        live["pods"] = {pod["metadata"]["name"]: pod for pod in client.list("Pod", t["namespace"])
                        if pattern.match(pod["metadata"]["name"])}
    return live


# ------------------------------------------------------------------------------------ writes
def _retain(client, row, check_mode, outcome):
    """Old volume: reclaim policy Retain and the mark of its move, in one merge patch."""
    ref = Ref("PersistentVolume", row["old_pv"])
    patch = {"metadata": {"annotations": {MIGRATE_TO: row["storage_class"], MIGRATE_DEST: row["nfs_path"]}},
             "spec": {"persistentVolumeReclaimPolicy": "Retain"}}
    client.patch(ref, patch, FIELD_MANAGER, dry_run=check_mode, patch_type="merge-patch")
    outcome.add(Result(ref, "update", True, before={"spec": {"persistentVolumeReclaimPolicy": row["old_reclaim_policy"]}},
                       after=patch, reason="migrate (keep the old directory)"))


def _refuse_before_binding(client, todo, p, check_mode):
    """Everything that must hold before an old claim is deleted (real run)."""
    problems = []
    for row in todo:
        where = f"claim {row['namespace']}/{row['claim']}"
        found = p["directories"].get(row["export_path"], [])
        if row["directory"] not in found:
            problems.append(f"{where}: its copy {row['nfs_path']} is not finished on the NFS server (no manifest"
                            " beside it): copy it first (migrate.yml does, with stateful.nfs.nfs_dir_copy)")
        if check_mode:
            continue
        if row["pod_exists"]:
            problems.append(f"{where}: pod {row['pod']} still exists; stop it first (migrate.yml scales the"
                            " StatefulSet to 0)")
        pv = client.get(Ref("PersistentVolume", row["old_pv"]))
        if _spec(pv).get("persistentVolumeReclaimPolicy") != "Retain":
            problems.append(f"{where}: its old volume {row['old_pv']} is not Retain: run without directories first"
                            " (the old volumes are set to Retain before any claim is deleted)")
    if problems:
        raise restore.RestoreRefused("refused, nothing was changed:\n- " + "\n- ".join(problems), refusals=problems)


def run_migrate(client, p, check_mode, outcome):
    live = read_live(client, p)
    plan = plan_migrate(p, live)
    todo = [r for r in plan["claims"] if r["action"] == "migrate"]
    outcome.extra.update(statefulset={"name": p["target"]["name"], "namespace": p["target"]["namespace"]},
                         claims=plan["claims"], nfs_volumes=plan["nfs_volumes"], renames=[],
                         copies=[r["copy"] for r in todo],
                         retains=[r["old_pv"] for r in todo if r["retain"]],
                         pods_to_stop=sorted(live["pods"]) if todo else [],
                         apply_statefulset=plan["apply_statefulset"], live_classes=plan["live_classes"],
                         sources=plan["sources"], nothing_to_do=not todo and not plan["apply_statefulset"])
    if plan["refusals"]:
        raise restore.RestoreRefused("refused, nothing was changed:\n- " + "\n- ".join(plan["refusals"]),
                                     refusals=plan["refusals"], claims=plan["claims"], nfs_volumes=plan["nfs_volumes"])
    if p.get("directories") is None:
        # step 1: the old directories outlive their claims, before any claim is deleted
        for row in todo:
            if row["retain"]:
                _retain(client, row, check_mode, outcome)
        return
    _refuse_before_binding(client, todo, p, check_mode)
    deleted = []
    for row in todo:
        if row["from"] == "claim":
            ref = Ref("PersistentVolumeClaim", row["claim"], row["namespace"])
            client.delete(ref, dry_run=check_mode, preconditions={"uid": row["claim_uid"]})
            outcome.add(Result(ref, "delete", True, before={"spec": {"volumeName": row["old_pv"]}}, after={},
                               reason=f"migrate: its old volume {row['old_pv']} (Retain) keeps the directory"))
            deleted.append(ref)
    if not check_mode:
        for ref in deleted:
            waiters.wait_deleted(client, ref, timeout=max(p["wait_timeout"], 1))
    pvs = {pv["metadata"]["name"]: pv for pv in live["pvs"]}
    for row in todo:
        if row["pv"] not in pvs:
            restore._create(client, restore.pv_manifest(row), check_mode, outcome)
        elif _spec(pvs[row["pv"]]).get("claimRef", {}).get("uid"):
            restore._rebind(client, pvs[row["pv"]], row, check_mode, outcome)
        claim = restore.pvc_manifest(row, p["target"]["selector"])
        if check_mode and row["from"] == "claim":
            # the old claim is only dry-run deleted: a dry-run create of its name would be refused as existing
            outcome.add(Result(Ref.of(claim), "create", True, before={}, after=claim, reason="migrate (bound to its copy)"))
            continue
        restore._create(client, claim, check_mode, outcome)
    if todo and not check_mode:
        restore.wait_bound_or_fail(client, todo, p["wait_timeout"], plan["claims"], "their copies",
                                   "; run migrate.yml again")


def run_pvc_restore(client, p, check_mode, outcome):
    """The runner of module ``pvc_restore``: a move with ``source=migrate``, else a restore."""
    if p["source"] == "migrate":
        return run_migrate(client, p, check_mode, outcome)
    return restore.run_restore(client, p, check_mode, outcome)
