# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's Kubernetes stages need to be allowed to do, and whether the credentials are.

``NEEDS`` is the one table of the requests each stage sends (read from the modules' own code
paths: ``runners``, ``wait``, ``verify``, ``dns_client``), as the attributes of a
``SelfSubjectAccessReview`` (Kubernetes docs, "Authorization", "Checking API access"): verb, API
group, resource, subresource and scope. :func:`review` asks the API server one review per
distinct need - the server's own authorizers answer (RBAC, Node, webhook), so nothing here
re-implements RBAC - and :func:`review` plus :func:`denied_message` make the one-line refusal.

A review is a ``create`` of a ``SelfSubjectAccessReview``: the API server answers it and stores
nothing (it is not a write of an object; ``kubectl auth can-i`` sends the same request).
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import ApiError, K8sError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.runners import namespace_to_create

SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SSR_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews"

# scope: "namespace" (the namespace given), "cluster" (a cluster-scoped resource) or
# "all" (a namespaced resource listed across all namespaces).
# required: False for what only enriches a failure message (events, the previous log, nodes);
# a denied one is a warning, not a refusal.
Need = namedtuple("Need", "verb group resource subresource scope required")


def _needs(spec, scope="namespace", required=True):
    """``"get,list pods"`` / ``"create pods/exec"`` / ``"get deployments.apps"`` -> Need tuples."""
    verbs, target = spec.split(" ")
    resource, subresource = (target.split("/", 1) + [""])[:2]
    resource, group = (resource.split(".", 1) + [""])[:2]
    return [Need(v, group, resource, subresource, scope, required) for v in verbs.split(",")]


def _table(*groups):
    return [need for group in groups for need in group]


# Server-side apply creates with PATCH: the API server then checks both patch and create.
NEEDS = {
    # nfs_provisioner, state present: RBAC, Deployment, StorageClass, the wait and the proof claim.
    "provisioner": _table(
        _needs("get namespaces", "cluster"),
        _needs("get,create,patch serviceaccounts"),
        _needs("get,create,patch roles.rbac.authorization.k8s.io"),
        _needs("get,create,patch rolebindings.rbac.authorization.k8s.io"),
        _needs("get,create,patch clusterroles.rbac.authorization.k8s.io", "cluster"),
        _needs("get,create,patch clusterrolebindings.rbac.authorization.k8s.io", "cluster"),
        _needs("get,create,patch deployments.apps"),
        _needs("list deployments.apps", "all"),  # one provisioner name, one Deployment cluster-wide
        _needs("get,create,patch storageclasses.storage.k8s.io", "cluster"),
        _needs("list,watch pods"),
        _needs("get,create,delete persistentvolumeclaims"),  # the claim that proves a changed class
        _needs("get persistentvolumes", "cluster"),
        _needs("list events", required=False),
    ),
    # statefulset, state present: Service, StatefulSet, the ordered wait, the claim checks.
    "statefulset": _table(
        _needs("get namespaces", "cluster"),
        _needs("get,list,create,patch statefulsets.apps"),
        _needs("get,create,patch services"),
        _needs("get,list,watch pods"),
        _needs("get,list persistentvolumeclaims"),
        _needs("get persistentvolumes", "cluster"),
        _needs("get,list storageclasses.storage.k8s.io", "cluster"),
        _needs("list events", required=False),
        _needs("get pods/log", required=False),
        _needs("get nodes", "cluster", required=False),
    ),
    # statefulset_verify, method exec: every check runs in the members.
    "verify_exec": _table(
        _needs("get,list pods"),
        _needs("get persistentvolumeclaims"),
        _needs("get persistentvolumes", "cluster"),
        _needs("create pods/exec"),
        _needs("get services", required=False),  # names a missing Service when DNS fails
    ),
    # statefulset_verify, method api: pages through the pod proxy, DNS through the kept client pod.
    "verify_api": _table(
        _needs("get,list pods"),
        _needs("get persistentvolumeclaims"),
        _needs("get persistentvolumes", "cluster"),
        _needs("get pods/proxy"),
        _needs("create,patch,delete pods"),
        _needs("get services", required=False),  # names a missing Service when DNS fails
    ),
    # statefulset, state absent (claims kept): the StatefulSet, its Service, the DNS client pod.
    "teardown": _table(
        _needs("get,list,delete statefulsets.apps"),
        _needs("get,delete services"),
        _needs("list,delete pods"),
        _needs("list persistentvolumeclaims"),
    ),
    # statefulset, state absent with delete_pvcs: the claims too.
    # teardown.yml -e purge=true: the claims deleted, after their volumes are read for the volume index
    # (pvc_restore index_only: the claims, their PVs, the class and the provisioner that names its export).
    "purge": _table(
        _needs("list,delete persistentvolumeclaims"),
        _needs("get namespaces", "cluster"),
        _needs("list persistentvolumes", "cluster"),
        _needs("get pods"),
        _needs("get storageclasses.storage.k8s.io", "cluster"),
        _needs("list deployments.apps", "all"),
    ),
    # pvc_restore (restore.yml): where archives are, the pre-bound volumes and their claims.
    "restore": _table(
        _needs("get,list namespaces", "cluster"),
        _needs("list,create,patch persistentvolumes", "cluster"),
        _needs("get,list,create,patch persistentvolumeclaims"),  # patch: a bind retry (restore.BIND_RETRY)
        _needs("get,list pods"),
        _needs("get statefulsets.apps"),  # the identity table read after binding
        _needs("get storageclasses.storage.k8s.io", "cluster"),
        _needs("list deployments.apps", "all"),  # the provisioner of a class names its export
    ),
    # pvc_restore source=migrate (migrate.yml): the old volumes set to Retain, the old claims deleted and created
    # again bound to their copies (pre-bound volumes), the StatefulSet recreated on the new class (orphan delete).
    "migrate": _table(
        _needs("get,list namespaces", "cluster"),
        _needs("list,create,patch persistentvolumes", "cluster"),
        _needs("get,list,create,patch,delete persistentvolumeclaims"),  # patch: a bind retry (restore.BIND_RETRY)
        _needs("get,list pods"),
        _needs("get,delete statefulsets.apps"),
        _needs("get storageclasses.storage.k8s.io", "cluster"),
        _needs("list deployments.apps", "all"),  # the provisioner of the new class names its export
    ),
    # migrate.yml -e prune_source=true: the old volumes (reclaim policy Retain) deleted once the move is proved.
    "prune_source": _table(_needs("delete persistentvolumes", "cluster")),
    # restore.yml -e quiesce=true: the StatefulSet scaled to 0 and back (its scale subresource, module
    # statefulset's day-2 patch: the wait watches the pods, the scale is proved from the pods and claims).
    "quiesce": _table(
        _needs("get statefulsets.apps"),
        _needs("patch statefulsets.apps/scale"),
        _needs("get,list,watch pods"),
        _needs("list persistentvolumeclaims"),
        _needs("list events", required=False),
    ),
}


def needs_for(stages, verify_method="exec"):
    """The distinct needs of ``stages`` (keys of ``NEEDS``; ``verify`` means ``verify_<verify_method>``),
    in table order, each with the stages that need it: a list of ``(Need, [stage, ...])``.
    Raises KeyError for an unknown stage."""
    out = {}
    for stage in stages:
        key = f"verify_{verify_method}" if stage == "verify" else stage
        for need in NEEDS[key]:
            plain = need._replace(required=True)
            known = out.get(plain)
            if known is None:
                out[plain] = [need, [key]]
            else:
                if key not in known[1]:
                    known[1].append(key)
                if need.required:
                    known[0] = need
    return [tuple(pair) for pair in out.values()]


def review_body(need, namespace):
    """The ``SelfSubjectAccessReview`` that asks for ``need`` in ``namespace``."""
    return _review({"verb": need.verb, "resource": need.resource, "group": need.group,
                    "subresource": need.subresource, "namespace": namespace if need.scope == "namespace" else ""})


def _review(attrs):
    """A ``SelfSubjectAccessReview`` of resource attributes ``attrs`` (empty ones left out)."""
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {k: v for k, v in attrs.items() if v not in (None, "")}}}


def who_am_i(client):
    """The user the credentials authenticate as (``SelfSubjectReview``, ``kubectl auth whoami``):
    ``{username, groups}``, or None when the server does not offer the API (before v1.28) or forbids it."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    try:
        answer = client.request("POST", SSR_PATH, "SelfSubjectReview (who the credentials are)", body=body,
                                allow_404=True)
    except ApiError as exc:
        if exc.status == 403:
            return None
        raise
    user = ((answer or {}).get("status") or {}).get("userInfo") or {}
    return {"username": user.get("username"), "groups": user.get("groups") or []} if user else None


def review(client, namespace, stages, verify_method="exec", extra=()):
    """Ask the API server whether the credentials may do what ``stages`` need in ``namespace``.

    ``extra``: more resource attributes (dicts with verb, resource and optionally group,
    subresource, namespace, name), asked as given. Returns one row per review, in order:
    ``{verb, group, resource, subresource, namespace, name, scope, allowed, required, needed_by, reason}``
    (scope: ``namespace``, ``cluster`` or ``all`` namespaces).
    A 401 (credentials not accepted) raises ``ApiError`` (its message says so).
    """
    rows = []
    asked = [(review_body(need, namespace), need.scope, need.required, stages_)
             for need, stages_ in needs_for(stages, verify_method)]
    for attrs in extra:
        asked.append((_review(attrs), "namespace" if attrs.get("namespace") else "cluster", True, ["resource_attributes"]))
    for body, scope, required, stages_ in asked:
        attrs = body["spec"]["resourceAttributes"]
        answer = client.request("POST", SSAR_PATH, "SelfSubjectAccessReview", body=body)
        status = answer.get("status") or {}
        rows.append({"verb": attrs["verb"], "group": attrs.get("group", ""), "resource": attrs["resource"],
                     "subresource": attrs.get("subresource", ""), "namespace": attrs.get("namespace", ""),
                     "name": attrs.get("name", ""), "scope": scope, "allowed": bool(status.get("allowed")),
                     "required": required, "needed_by": list(stages_),
                     "reason": status.get("reason") or status.get("evaluationError") or ""})
    return rows


def row_text(row, verbs=None):
    """How a message names one reviewed request (``verbs``: several verbs on the same target)."""
    what = row["resource"] + (f"/{row['subresource']}" if row["subresource"] else "") + (
        f".{row['group']}" if row["group"] else "") + (f" {row['name']!r}" if row.get("name") else "")
    where = f" in namespace {row['namespace']!r}" if row["namespace"] else (
        " in all namespaces" if row.get("scope") == "all" else "")
    return f"{verbs or row['verb']} {what}{where} ({', '.join(row['needed_by'])})"


def denied_texts(rows):
    """The required requests denied, verbs on the same target and stages joined:
    ``get,create,patch serviceaccounts in namespace 'shop' (provisioner)``."""
    targets = {}
    for row in rows:
        if row["required"] and not row["allowed"]:
            key = row_text(dict(row, verb=""))
            targets.setdefault(key, (row, []))[1].append(row["verb"])
    return [row_text(row, ",".join(verbs)) for row, verbs in targets.values()]


def denied_message(denied, target, user=None):
    """One line naming the API server (and context), the user and every required request denied
    (``denied``: :func:`denied_texts`); None when none was."""
    if not denied:
        return None
    as_user = f" as {user['username']!r}" if user and user.get("username") else ""
    return (f"The credentials for {target}{as_user} may not do what this run needs: {'; '.join(denied)}."
            " Nothing was changed. Grant these verbs (a Role or ClusterRole bound to that user) or use other"
            " credentials (kubeconfig, context)")


def run_access_review(client, p, check_mode, outcome):
    """Runner of the ``access_review`` module (read only; the same in check mode)."""
    del check_mode  # a review stores nothing: check mode asks the same questions
    stages = list(p["needs"])
    user = who_am_i(client)
    namespace = p["namespace"]
    # a missing namespace is created by those stages (an unreadable one is taken as there, as they do)
    if any(s in ("provisioner", "statefulset") for s in stages) and namespace_to_create(client, namespace, True):
        p = dict(p, resource_attributes=list(p.get("resource_attributes") or [])
                 + [{"verb": "create", "resource": "namespaces"}])
    rows = review(client, namespace, stages, p["verify_method"], p.get("resource_attributes") or ())
    target = client.host + (f" (context {p['context']})" if p.get("context") else "")
    for row in rows:
        if not row["required"] and not row["allowed"]:
            outcome.warn(f"may not {row_text(row)}: failure messages will lack what it would have shown")
    denied = denied_texts(rows)
    message = denied_message(denied, target, user)
    result = {"changed": False, "allowed": message is None, "user": user, "reviews": rows, "denied": denied}
    if message:
        raise K8sError(message, **{k: v for k, v in result.items() if k != "changed"})
    return result
