# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Day-2 changes of a deployed StatefulSet (``stateful.nfs.statefulset`` option ``patch``) and
their proof.

Policy
------
* A day-2 change writes only the fields it names, under its own field manager
  (:data:`DAY2_FIELD_MANAGER`): ``replicas`` through the StatefulSet's ``scale`` subresource (what
  ``kubectl scale`` sends), a container's ``image`` and the rolling update ``partition`` as a
  strategic merge patch (what ``kubectl set image`` / ``kubectl patch`` send). Nothing else of the
  definition is applied.
* The definition stays the declared truth: a later apply of it (the module without ``patch``,
  role ``statefulset``, ``site.yml``) sets back every field it declares with another value, as
  ``kubectl apply -f`` does after ``kubectl scale``. :func:`undone_by_apply` names them; a
  definition that leaves ``spec.replicas`` out leaves the size to day-2 scaling.

Everything here is pure except :func:`snapshot` (two lists: the pods and the claims).
"""

from __future__ import annotations

import re

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.wait import (
    REVISION_LABEL,
    pod_ordinal,
    pod_ready,
    selector_string,
)

# The field manager of every day-2 write (managedFields shows who scaled or upgraded).
DAY2_FIELD_MANAGER = "stateful.nfs-day2"


# --------------------------------------------------------------------------- reading
def _spec(sts):
    return (sts or {}).get("spec") or {}


def start_of(sts):
    return (_spec(sts).get("ordinals") or {}).get("start") or 0


def strategy_of(sts):
    update = _spec(sts).get("updateStrategy") or {}
    return update.get("type") or "RollingUpdate", (update.get("rollingUpdate") or {}).get("partition") or 0


def containers_of(sts):
    return ((_spec(sts).get("template") or {}).get("spec") or {}).get("containers") or []


def container_image(sts, container):
    """The image of ``container`` in ``sts``'s pod template, or None."""
    for c in containers_of(sts):
        if c.get("name") == container:
            return c.get("image")
    return None


def claim_templates_of(sts):
    return [((v or {}).get("metadata") or {}).get("name") for v in _spec(sts).get("volumeClaimTemplates") or []]


def snapshot(client, sts):
    """What a day-2 change is judged on: the StatefulSet's size, revisions and retention policy,
    its pods (``{name: {uid, ordinal, revision, ready, images}}``, only those it owns) and every
    claim of its claim templates in the namespace (``{name: uid}``, also those of removed pods)."""
    meta, spec, status = sts["metadata"], _spec(sts), sts.get("status") or {}
    name, namespace = meta["name"], meta["namespace"]
    pods = {}
    selector = selector_string((spec.get("selector") or {}).get("matchLabels"))
    for pod in client.list("Pod", namespace, label_selector=selector or None):
        pmeta = pod.get("metadata") or {}
        owners = pmeta.get("ownerReferences") or []
        ordinal = pod_ordinal(pmeta.get("name", ""), name)
        if ordinal is None or (owners and not any(o.get("uid") == meta.get("uid") for o in owners)):
            continue
        pods[pmeta["name"]] = {
            "uid": pmeta.get("uid"), "ordinal": ordinal, "ready": pod_ready(pod),
            "revision": (pmeta.get("labels") or {}).get(REVISION_LABEL),
            "terminating": bool(pmeta.get("deletionTimestamp")),
            "images": {c.get("name"): c.get("image") for c in (pod.get("spec") or {}).get("containers") or []}}
    templates = claim_templates_of(sts)
    claims = {}
    if templates:
        pattern = re.compile(r"^({})-{}-(\d+)$".format("|".join(re.escape(t) for t in templates), re.escape(name)))
        for claim in client.list("PersistentVolumeClaim", namespace):
            cmeta = claim.get("metadata") or {}
            if pattern.match(cmeta.get("name", "")) and not cmeta.get("deletionTimestamp"):
                claims[cmeta["name"]] = cmeta.get("uid")
    strategy, partition = strategy_of(sts)
    return {"name": name, "namespace": namespace, "replicas": spec.get("replicas", 1), "start": start_of(sts),
            "templates": templates, "strategy": strategy, "partition": partition,
            "pod_management_policy": spec.get("podManagementPolicy") or "OrderedReady",
            "when_scaled": (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") or "Retain",
            "update_revision": status.get("updateRevision"), "current_revision": status.get("currentRevision"),
            "pods": pods, "claims": claims}


# --------------------------------------------------------------------------- before any write
def resolve_patch(live, patch):
    """``patch`` with its container resolved (default: the pod template's first), checked against
    the live StatefulSet before any write. Raises InputError naming the option."""
    ref = "StatefulSet {}/{}".format(live["metadata"]["namespace"], live["metadata"]["name"])
    patch = dict(patch)
    if patch.get("image") is not None:
        names = [c.get("name") for c in containers_of(live)]
        if patch.get("container") is None:
            patch["container"] = names[0]
        elif patch["container"] not in names:
            raise InputError("patch.container", "{!r} is not a container of {}; its containers are {}".format(
                patch["container"], ref, ", ".join(names)))
    if patch.get("partition") is not None:
        strategy, _partition = strategy_of(live)
        replicas = _spec(live).get("replicas", 1)
        if strategy != "RollingUpdate":
            if patch["partition"] > 0:
                raise InputError("patch.partition", f"{ref} has updateStrategy {strategy}: its pods are updated when"
                                                    " they are deleted, there is no partition")
            patch["partition"] = None  # 0: every pod may be updated, which OnDelete says already
        elif patch["partition"] > 0 and patch["partition"] >= replicas:
            raise InputError("patch.partition", "{} would update no pod: {} has {} replicas (indexes 0..{})".format(
                patch["partition"], ref, replicas, replicas - 1))
    return patch


def template_patch(patch):
    """The strategic merge patch of ``patch``'s image and partition (None when it has neither)."""
    body = {}
    if patch.get("image") is not None:
        body["template"] = {"spec": {"containers": [{"name": patch["container"], "image": patch["image"]}]}}
    if patch.get("partition") is not None:
        body["updateStrategy"] = {"rollingUpdate": {"partition": patch["partition"]}}
    return {"spec": body} if body else None


def changes(live, patch):
    """``{field: {before, after}}`` of what ``patch`` changes on ``live`` (empty: nothing to write)."""
    out = {}
    if patch.get("replicas") is not None and _spec(live).get("replicas", 1) != patch["replicas"]:
        out["replicas"] = {"before": _spec(live).get("replicas", 1), "after": patch["replicas"]}
    if patch.get("image") is not None and container_image(live, patch["container"]) != patch["image"]:
        out["image"] = {"before": container_image(live, patch["container"]), "after": patch["image"]}
    if patch.get("partition") is not None and strategy_of(live)[1] != patch["partition"]:
        out["partition"] = {"before": strategy_of(live)[1], "after": patch["partition"]}
    return out


def declared(definition, patch):
    """What ``definition`` (the declaration the StatefulSet is applied from, or None) sets for each
    field of ``patch``: ``{field: value}``, None where it leaves the field out."""
    if definition is None:
        return {}
    out = {}
    if patch.get("replicas") is not None:
        out["replicas"] = _spec(definition).get("replicas")
    if patch.get("image") is not None:
        out["image"] = container_image(definition, patch["container"])
    if patch.get("partition") is not None:
        out["partition"] = ((_spec(definition).get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition")
    return out


_FIELD_PATHS = {"replicas": "spec.replicas", "partition": "spec.updateStrategy.rollingUpdate.partition"}


def undone_by_apply(declared_values, patch):
    """One sentence per field that a later apply of the definition sets back: it declares another value
    than ``patch`` (a field it leaves out stays as the day-2 change made it)."""
    out = []
    for field, value in declared_values.items():
        if value is None or value == patch.get(field):
            continue
        path = _FIELD_PATHS.get(field) or "spec.template.spec.containers[name={}].image".format(patch["container"])
        out.append(f"{path}: the definition says {value}, this change {patch[field]}; applying the definition again"
                   f" sets it back to {value}")
    return out


# --------------------------------------------------------------------------- after the wait
def _pod(name, ordinal):
    return f"{name}-{ordinal}"


def _first_ready_in_order(timeline, ordinals):
    """Whether the pods of ``ordinals`` first became Ready in ordinal order (the rollout's timeline;
    ties of the API's one-second timestamps count as in order). None when none of them is listed."""
    first = {}
    for entry in timeline or []:
        if entry.get("ordinal") in ordinals:
            first.setdefault(entry["ordinal"], entry.get("ready_at") or "")
    if not first:
        return None
    ordered = [o for o, _at in sorted(first.items(), key=lambda kv: (kv[1], kv[0]))]
    return ordered == sorted(ordered)


def _gone_highest_first(removed, ordinals):
    """Whether the pods of ``ordinals`` went (the rollout's ``removed``, in the order each was first
    seen going) highest ordinal first. Pods seen going in the same reading count as in order; a pod
    never seen going was gone before the first reading, so it must be above every pod that was.
    None when none of them was seen going."""
    seen, groups = set(), {}
    for entry in removed or []:
        if entry.get("ordinal") in ordinals and entry["ordinal"] not in seen:
            seen.add(entry["ordinal"])
            groups.setdefault(entry.get("observed_after_seconds"), []).append(entry["ordinal"])
    if not seen:
        return None
    order = [o for _at, group in sorted(groups.items(), key=lambda kv: kv[0] or 0) for o in sorted(group, reverse=True)]
    unseen = set(ordinals) - seen
    return order == sorted(order, reverse=True) and (not unseen or min(unseen) > max(seen))


def _replaced_highest_first(timeline, pods):
    """The replaced pods (``{pod: (ordinal, new uid)}``) in the order their new incarnation first became
    Ready (the rollout's timeline), and whether that is highest ordinal first (ties of the API's
    one-second timestamps count as in order; None when the timeline shows none of them)."""
    first = {}
    for entry in timeline or []:
        pod = entry.get("pod")
        if pod in pods and entry.get("uid") == pods[pod][1]:
            first.setdefault(pod, entry.get("ready_at") or "")
    if not first:
        return [], None
    ordered = sorted(first, key=lambda p: (first[p], -pods[p][0]))
    by_time = {}
    for p in ordered:
        by_time.setdefault(first[p], []).append(pods[p][0])
    ordinals = [o for _at, group in sorted(by_time.items()) for o in sorted(group, reverse=True)]
    return ordered, ordinals == sorted(ordinals, reverse=True)


def judge_scale(before, after=None, timeline=None, replicas=None, removals=None):
    """The outcome of a scale from ``before`` (:func:`snapshot`) to ``after`` and every broken rule, or
    (``after`` None, check mode) what it would do to ``replicas``. Returns ``(report, problems)``.

    Rules: the pods below the smaller size are kept (same uid); scale-up adds the next ordinals, each
    with a claim per template - a claim kept from an earlier scale-down is reused (same uid), the others
    are new - and with ``OrderedReady`` they become Ready in ordinal order; scale-down removes the highest
    ordinals - with ``OrderedReady`` one after the other, highest first (``removals``: the rollout's pods
    in the order they were seen going) - and keeps their claims (same uid), unless
    ``persistentVolumeClaimRetentionPolicy.whenScaled`` is Delete (then they are gone)."""
    name, start = before["name"], before["start"]
    old, new = before["replicas"], (after["replicas"] if after is not None else replicas)
    added = list(range(start + old, start + new))
    removed = list(range(start + old - 1, start + new - 1, -1))  # highest first
    kept = [_pod(name, o) for o in range(start, start + min(old, new))]
    when_scaled = before["when_scaled"]
    report = {"from": old, "to": new, "when_scaled": when_scaled,
              "pods_added": [_pod(name, o) for o in added], "pods_removed": [_pod(name, o) for o in removed],
              "pods_kept": kept, "claims_created": [], "claims_reused": {}, "claims_kept": {}, "claims_deleted": [],
              "added_ready_in_order": None, "removed_in_order": [], "removed_highest_first": None}
    problems = []
    now = after if after is not None else before
    for o in added:
        for t in before["templates"]:
            claim = f"{t}-{name}-{o}"
            if after is not None and claim not in after["claims"]:
                problems.append(f"claim {claim} of the new pod {_pod(name, o)} does not exist")
            elif claim in before["claims"]:
                if now["claims"][claim] != before["claims"][claim]:
                    problems.append(f"claim {claim} was kept from an earlier scale-down (uid {before['claims'][claim]})"
                                    f" but the new pod {_pod(name, o)} has another one (uid {now['claims'][claim]})")
                else:
                    report["claims_reused"][claim] = before["claims"][claim]
            else:
                report["claims_created"].append(claim)
    for o in removed:
        for t in before["templates"]:
            claim = f"{t}-{name}-{o}"
            if claim not in before["claims"]:
                continue
            if when_scaled == "Delete":
                if after is not None and claim in after["claims"]:
                    problems.append(f"claim {claim} of the removed pod {_pod(name, o)} still exists although"
                                    " whenScaled is Delete")
                else:
                    report["claims_deleted"].append(claim)
            elif claim not in now["claims"]:
                problems.append(f"claim {claim} of the removed pod {_pod(name, o)} is gone although whenScaled is"
                                f" {when_scaled}: its data went with it")
            elif now["claims"][claim] != before["claims"][claim]:
                problems.append(f"claim {claim} of the removed pod {_pod(name, o)} was replaced (uid"
                                f" {before['claims'][claim]} -> {now['claims'][claim]})")
            else:
                report["claims_kept"][claim] = before["claims"][claim]
    if after is None:
        return report, problems
    expected = {_pod(name, o) for o in range(start, start + new)}
    left = {p for p, pod in after["pods"].items() if not pod["terminating"]}
    if left != expected:
        problems.append("the pods are {} where the scale leaves {}".format(
            ", ".join(sorted(left, key=lambda p: pod_ordinal(p, name))) or "none",
            ", ".join(sorted(expected, key=lambda p: pod_ordinal(p, name))) or "none"))
    for p in kept:
        b, a = before["pods"].get(p), after["pods"].get(p)
        if b and a and b["uid"] != a["uid"]:
            problems.append(f"{p} was replaced during the scale (uid {b['uid']} -> {a['uid']}): a scale keeps the"
                            " pods below the new size")
    if removed:
        # the removed pods' incarnations of before, in the order the rollout saw them going
        mine = [e for e in removals or [] if e.get("uid") == (before["pods"].get(e.get("pod")) or {}).get("uid")
                and e.get("ordinal") in removed]
        report["removed_in_order"] = [e["pod"] for e in mine]
        report["removed_highest_first"] = _gone_highest_first(mine, set(removed))
        if before["pod_management_policy"] == "OrderedReady" and report["removed_highest_first"] is False:
            problems.append("the pods {} went in the order {}, not highest ordinal first (podManagementPolicy"
                            " OrderedReady)".format(", ".join(report["pods_removed"]),
                                                    ", ".join(report["removed_in_order"])))
    if added:
        report["added_ready_in_order"] = _first_ready_in_order(timeline, set(added))
        if before["pod_management_policy"] == "OrderedReady" and report["added_ready_in_order"] is False:
            problems.append("the new pods {} did not become Ready in ordinal order (podManagementPolicy"
                            " OrderedReady)".format(", ".join(report["pods_added"])))
    return report, problems


def judge_upgrade(before, after, patch, forced=(), timeline=None):
    """The outcome of an image or partition change from ``before`` to ``after`` (:func:`snapshot`) and
    every broken rule. Returns ``(report, problems)``.

    Rules (RollingUpdate): every pod whose index (ordinal minus the start) is at least the partition
    runs the update revision, with the new image in the changed container; every pod below it was not
    replaced (same uid; pods of a forced rollback ``forced`` excepted); the replaced pods' new
    incarnations became Ready highest ordinal first (the rollout's ``timeline``; the controller replaces
    one pod at a time, from the largest ordinal down; not asked after a forced rollback, which deletes
    its pods at once); every claim of the pods is the one it was (same uid): names and storage survive
    the upgrade."""
    start = after["start"]
    container = patch.get("container")
    report = {"container": container, "image": patch.get("image"), "partition": after["partition"],
              "strategy": after["strategy"], "update_revision": after["update_revision"],
              "current_revision": after["current_revision"], "pods_updated": [], "pods_not_updated": [],
              "pods_replaced": [], "images": {}, "revisions": {}, "claims": {},
              "replaced_in_order": [], "replaced_highest_first": None}
    problems = []
    for pod, info in sorted(after["pods"].items(), key=lambda kv: kv[1]["ordinal"]):
        if info["terminating"]:
            continue
        old = before["pods"].get(pod)
        report["images"][pod] = info["images"].get(container) if container else None
        report["revisions"][pod] = info["revision"]
        if old and old["uid"] != info["uid"]:
            report["pods_replaced"].append(pod)
        index = info["ordinal"] - start
        if after["strategy"] != "RollingUpdate" or index < after["partition"]:
            report["pods_not_updated"].append(pod)
            if old and old["uid"] != info["uid"] and pod not in forced and after["strategy"] == "RollingUpdate":
                problems.append(f"{pod} is below the partition {after['partition']} but was replaced")
            continue
        report["pods_updated"].append(pod)
        if info["revision"] != after["update_revision"]:
            problems.append(f"{pod} runs revision {info['revision']}, not the update revision {after['update_revision']}")
        if container and info["images"].get(container) != patch.get("image"):
            problems.append(f"{pod} runs {info['images'].get(container)} in container {container}, not"
                            f" {patch.get('image')}")
    replaced = {p: (after["pods"][p]["ordinal"], after["pods"][p]["uid"]) for p in report["pods_replaced"]}
    report["replaced_in_order"], report["replaced_highest_first"] = _replaced_highest_first(timeline, replaced)
    if after["strategy"] == "RollingUpdate" and not forced and report["replaced_highest_first"] is False:
        problems.append("the pods were replaced in the order {} (first Ready), not highest ordinal first".format(
            ", ".join(report["replaced_in_order"])))
    for claim, uid in sorted(before["claims"].items()):
        ordinal = int(claim.rsplit("-", 1)[1])
        if not start <= ordinal < start + after["replicas"]:
            continue
        if after["claims"].get(claim) != uid:
            problems.append(f"claim {claim} changed during the upgrade (uid {uid} -> {after['claims'].get(claim)})")
        else:
            report["claims"][claim] = uid
    return report, problems
