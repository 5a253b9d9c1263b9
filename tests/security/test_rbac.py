"""The nfs_provisioner module's RBAC is no wider than upstream's.

Allowed rules, copied from upstream kubernetes-sigs/nfs-subdir-external-provisioner:

* ClusterRole: ``charts/nfs-subdir-external-provisioner/templates/clusterrole.yaml``
  (commit 74123487f2409b5e62f4838afdbaa5e73f9f999f), ``rbac.create`` on, podSecurityPolicy off;
* Role: ``charts/nfs-subdir-external-provisioner/templates/role.yaml``
  (commit 1dc1b4aecbbea93f35bcad5fcb0a35a6fd744096);
* plus ONE rule the chart does not have but upstream's plain manifest does:
  ``nodes: get, list, watch`` from ``deploy/rbac.yaml`` (commit 55d05cc2359206ae2775af03672832d511f6e409).
  The module grants it; it is listed separately (``EXTRA_FROM_DEPLOY_MANIFEST``) so that dropping it
  is a one-line change here.

Checked twice: statically on ``provisioner_manifests()`` (`make unit`) and live on the objects
the module created in the lab cluster (`make cluster-test`). Any (apiGroup, resource, verb) not allowed fails; so do ``*`` in
apiGroups/resources/verbs, ``nonResourceURLs``, bindings to anything but the provisioner's own
ServiceAccount, and RBAC kinds other than one ClusterRole + one Role with their bindings.
"""
from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import validation

CHART_CLUSTERROLE = [  # templates/clusterrole.yaml
    {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["get", "list", "watch", "create", "delete"]},
    {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get", "list", "watch", "update"]},
    {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "update", "patch"]},
]
EXTRA_FROM_DEPLOY_MANIFEST = [  # deploy/rbac.yaml, not in the chart
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
]
CHART_ROLE = [  # templates/role.yaml (leader election through Endpoints)
    {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get", "list", "watch", "create", "update", "patch"]},
]
ALLOWED = {"ClusterRole": CHART_CLUSTERROLE + EXTRA_FROM_DEPLOY_MANIFEST, "Role": CHART_ROLE}
RBAC_GROUP = "rbac.authorization.k8s.io"


def _triples(rules):
    return {(g, r, v) for rule in rules for g in rule.get("apiGroups", []) for r in rule.get("resources", [])
            for v in rule.get("verbs", [])}


def rbac_problems(objects, namespace, service_account):
    """Every way ``objects`` (manifests or live objects) exceed the allowed RBAC: list of strings."""
    problems = []
    kinds = sorted(o["kind"] for o in objects if o.get("apiVersion", "").startswith(RBAC_GROUP))
    if kinds != ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]:
        problems.append(f"RBAC objects are {kinds}, expected one ClusterRole, Role and a binding of each")
    for o in objects:
        kind, name = o["kind"], o["metadata"]["name"]
        if kind in ("ClusterRole", "Role"):
            if o.get("aggregationRule"):
                problems.append(f"{kind} {name} has an aggregationRule")
            for rule in o.get("rules") or []:
                for key in ("apiGroups", "resources", "verbs"):
                    if "*" in rule.get(key, []) or any("*" in x for x in rule.get(key, [])):
                        problems.append(f"{kind} {name}: wildcard in {key}: {rule}")
                if rule.get("nonResourceURLs"):
                    problems.append(f"{kind} {name}: nonResourceURLs {rule['nonResourceURLs']}")
            extra = _triples(o.get("rules") or []) - _triples(ALLOWED[kind])
            if extra:
                problems.append(f"{kind} {name} grants beyond upstream's chart: {sorted(extra)}")
        elif kind in ("ClusterRoleBinding", "RoleBinding"):
            want = [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}]
            subjects = [{k: s.get(k) for k in ("kind", "name", "namespace")} for s in o.get("subjects") or []]
            if subjects != want:
                problems.append(f"{kind} {name} binds {subjects}, expected only {want}")
            ref_kind = "ClusterRole" if kind == "ClusterRoleBinding" else "Role"
            if o["roleRef"]["kind"] != ref_kind:
                problems.append(f"{kind} {name} refers to a {o['roleRef']['kind']}")
            if o["roleRef"]["name"] in ("cluster-admin", "admin", "edit"):
                problems.append(f"{kind} {name} binds the built-in role {o['roleRef']['name']}")
    return problems


PARAMS = {"name": "nfs-client-provisioner", "namespace": "storage", "provisioner_name": "fuseim.pri/ifs",
          "nfs_server": "192.0.2.20", "nfs_path": "/srv/nfs", "replicas": 1,
          "image": validation.DEFAULT_PROVISIONER_IMAGE, "image_pull_policy": "IfNotPresent",
          "storage_class_name": "managed-nfs-storage", "archive_on_delete": True, "reclaim_policy": "Delete",
          "volume_binding_mode": "Immediate", "default_class": False}


def _manifests(**over):
    p = {k: None for k in ("labels", "resources", "node_selector", "tolerations", "image_pull_secrets",
                           "security_context", "pod_security_context", "on_delete", "path_pattern",
                           "allow_volume_expansion", "mount_options")}
    p.update(PARAMS)
    p.update(over)
    return mf.provisioner_manifests(p)


def _service_account(objs):
    return next(o["metadata"]["name"] for o in objs if o["kind"] == "ServiceAccount")


def test_manifests_rbac_within_upstream_chart():
    objs = _manifests()
    assert rbac_problems(objs, "storage", _service_account(objs)) == []


def test_rbac_check_can_fail():
    """A wildcard, an extra rule or a foreign subject is caught."""
    objs = _manifests()
    sa = _service_account(objs)
    cr = next(o for o in objs if o["kind"] == "ClusterRole")
    cr["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    assert any("secrets" in p for p in rbac_problems(objs, "storage", sa))
    objs = _manifests()
    next(o for o in objs if o["kind"] == "Role")["rules"][0]["verbs"] = ["*"]
    assert any("wildcard" in p for p in rbac_problems(objs, "storage", sa))
    objs = _manifests()
    next(o for o in objs if o["kind"] == "ClusterRoleBinding")["subjects"].append(
        {"kind": "Group", "name": "system:authenticated"})
    assert any("binds" in p for p in rbac_problems(objs, "storage", sa))


@pytest.mark.parametrize("name", ["nfs-client-provisioner", "other"])
def test_live_rbac_within_upstream_chart(run, lab, ns, name):
    """The objects the module really creates (read back from the lab cluster)."""
    # a provisioner name of its own: the walkthrough's fuseim.pri/ifs may be served already (refused)
    res = run("nfs_provisioner", {"name": f"{name}-{ns}", "namespace": ns, "nfs_server": lab.nfs_server,
                                  "provisioner_name": f"example.com/{name}-{ns}",
                                  "nfs_path": lab.nfs_dir(ns), "storage_class_name": f"sc-{ns}",
                                  "image": lab.image("provisioner"), "image_pull_policy": "IfNotPresent",
                                  "wait": False})
    assert not res.get("failed"), res.get("msg")
    live = []
    for path, kind in (("/apis/rbac.authorization.k8s.io/v1/clusterroles", "ClusterRole"),
                       ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "ClusterRoleBinding"),
                       (f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", "Role"),
                       (f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", "RoleBinding")):
        for o in lab.items(path):
            if ns in o["metadata"]["name"] or o["metadata"].get("namespace") == ns:
                live.append({**o, "kind": kind, "apiVersion": "rbac.authorization.k8s.io/v1"})
    # every namespace has the ServiceAccount "default" (the ServiceAccount controller makes it)
    sa = [o["metadata"]["name"] for o in lab.items(f"/api/v1/namespaces/{ns}/serviceaccounts")
          if o["metadata"]["name"] != "default"]
    assert len(sa) == 1, sa
    assert rbac_problems(live, ns, sa[0]) == [], live
    # and the Deployment runs as that ServiceAccount
    deps = lab.items(f"/apis/apps/v1/namespaces/{ns}/deployments")
    assert [d["spec"]["template"]["spec"]["serviceAccountName"] for d in deps] == sa
    for path in ("/apis/rbac.authorization.k8s.io/v1/clusterroles",
                 "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"):
        for o in lab.items(path):
            if ns in o["metadata"]["name"]:
                lab.http("DELETE", f"{path}/{o['metadata']['name']}")
    lab.http("DELETE", f"/apis/storage.k8s.io/v1/storageclasses/sc-{ns}")
