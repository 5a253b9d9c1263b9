"""module_utils/k8s/access.py: the needs table, the review requests and the one-line refusal.

The API server's answers are given by a stand-in client that records each request body; whether
real RBAC denies what the table asks is proved on the lab (tests/integration/test_access_review.py).
"""

from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import access
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import ApiError, InputError, K8sError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.runners import Outcome
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import (
    ACCESS_REVIEW_OPTIONS,
    validate_access_review_params,
    with_defaults,
)


class AnsweringClient:
    """Answers reviews: denied when (verb, resource, subresource) is in ``deny``."""

    host = "https://192.0.2.1:6443"

    def __init__(self, deny=(), namespaces=("shop",), whoami=True):
        self.deny, self.namespaces, self.whoami = set(deny), set(namespaces), whoami
        self.bodies = []

    def request(self, method, path, what, body=None, allow_404=False, **_kw):
        assert method == "POST"
        self.bodies.append(body)
        if path == access.SSR_PATH:
            return {"status": {"userInfo": {"username": "alice", "groups": ["dev"]}}} if self.whoami else None
        attrs = body["spec"]["resourceAttributes"]
        denied = (attrs["verb"], attrs["resource"], attrs.get("subresource", "")) in self.deny
        return {"status": {"allowed": not denied, "reason": "RBAC: no rule" if denied else ""}}

    def get(self, ref):
        return {"metadata": {"name": ref.name}} if ref.name in self.namespaces else None


def params(**over):
    p = with_defaults(ACCESS_REVIEW_OPTIONS, {"namespace": "shop", "needs": ["statefulset", "verify"], "context": None})
    p.update(over)
    return validate_access_review_params(p)


def test_denied_verbs_on_one_target_are_joined():
    client = AnsweringClient(deny={("get", "clusterroles", ""), ("create", "clusterroles", ""), ("list", "deployments", "")})
    with pytest.raises(K8sError) as err:
        access.run_access_review(client, params(needs=["provisioner"]), False, Outcome())
    assert err.value.details["denied"] == ["get,create clusterroles.rbac.authorization.k8s.io (provisioner)",
                                           "list deployments.apps in all namespaces (provisioner)"]


def test_restore_and_quiesce_need_the_pre_bound_volume_and_the_scale_subresource():
    needs = {(n.verb, n.resource, n.subresource, n.scope): s for n, s in access.needs_for(["restore", "quiesce"])}
    assert needs[("create", "persistentvolumes", "", "cluster")] == ["restore"]
    assert needs[("create", "persistentvolumeclaims", "", "namespace")] == ["restore"]
    assert needs[("patch", "statefulsets", "scale", "namespace")] == ["quiesce"]
    assert needs[("get", "statefulsets", "", "namespace")] == ["restore", "quiesce"]
    assert needs[("patch", "persistentvolumeclaims", "", "namespace")] == ["restore"]  # a bind retry
    assert needs[("watch", "pods", "", "namespace")] == ["quiesce"]  # module statefulset's watch-driven wait


def test_migrate_needs_to_delete_the_old_claims_and_recreate_the_statefulset():
    needs = {(n.verb, n.resource, n.subresource, n.scope): s
             for n, s in access.needs_for(["migrate", "quiesce", "statefulset", "prune_source"])}
    assert needs[("patch", "persistentvolumes", "", "cluster")] == ["migrate"]
    assert needs[("delete", "persistentvolumeclaims", "", "namespace")] == ["migrate"]
    assert needs[("delete", "statefulsets", "", "namespace")] == ["migrate"]
    assert needs[("delete", "persistentvolumes", "", "cluster")] == ["prune_source"]


def test_needs_merge_stages_once_and_keep_required():
    rows = access.needs_for(["provisioner", "statefulset", "verify"])
    keys = [(n.verb, n.resource, n.subresource, n.scope) for n, _ in rows]
    assert len(keys) == len(set(keys)), "a request is asked once"
    by_key = {(n.verb, n.resource, n.subresource): (n, s) for n, s in rows}
    assert by_key[("list", "pods", "")][1] == ["provisioner", "statefulset", "verify_exec"]
    assert by_key[("create", "pods", "exec")][0].required is True
    assert by_key[("list", "events", "")][0].required is False
    assert ("list", "deployments", "") in by_key and by_key[("list", "deployments", "")][0].scope == "all"


def test_verify_method_chooses_exec_or_pod_proxy():
    exec_needs = {(n.verb, n.resource, n.subresource) for n, _ in access.needs_for(["verify"], "exec")}
    api_needs = {(n.verb, n.resource, n.subresource) for n, _ in access.needs_for(["verify"], "api")}
    assert ("create", "pods", "exec") in exec_needs and ("get", "pods", "proxy") not in exec_needs
    assert ("get", "pods", "proxy") in api_needs and ("create", "pods", "") in api_needs
    assert ("create", "pods", "exec") not in api_needs


@pytest.mark.parametrize("scope, has_namespace", [("namespace", True), ("cluster", False), ("all", False)])
def test_review_body_scopes(scope, has_namespace):
    need = access.Need("list", "apps", "deployments", "", scope, True)
    attrs = access.review_body(need, "shop")["spec"]["resourceAttributes"]
    assert attrs["group"] == "apps" and attrs["verb"] == "list" and ("namespace" in attrs) is has_namespace


def test_all_allowed_returns_rows_and_user():
    client = AnsweringClient()
    outcome = Outcome()
    res = access.run_access_review(client, params(), False, outcome)
    assert res["allowed"] is True and res["denied"] == [] and res["changed"] is False
    assert res["user"] == {"username": "alice", "groups": ["dev"]}
    assert len(res["reviews"]) == len(access.needs_for(["statefulset", "verify"]))
    assert outcome.warnings == []


def test_denied_required_fails_in_one_line_naming_server_context_user_and_requests():
    client = AnsweringClient(deny={("create", "pods", "exec"), ("watch", "pods", "")})
    with pytest.raises(K8sError) as err:
        access.run_access_review(client, params(context="staging"), False, Outcome())
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("The credentials for https://192.0.2.1:6443 (context staging) as 'alice' may not")
    assert "create pods/exec in namespace 'shop' (verify_exec)" in msg
    assert "watch pods in namespace 'shop' (statefulset)" in msg
    assert "Nothing was changed" in msg
    assert err.value.details["denied"] == ["watch pods in namespace 'shop' (statefulset)",
                                           "create pods/exec in namespace 'shop' (verify_exec)"]


def test_denied_optional_is_a_warning():
    client = AnsweringClient(deny={("get", "nodes", ""), ("get", "pods", "log")})
    outcome = Outcome()
    res = access.run_access_review(client, params(), False, outcome)
    assert res["allowed"] is True
    assert len(outcome.warnings) == 2 and "get nodes (statefulset)" in outcome.warnings[1]


def test_missing_namespace_needs_create_namespaces():
    client = AnsweringClient(namespaces=(), deny={("create", "namespaces", "")})
    with pytest.raises(K8sError, match=r"create namespaces \(resource_attributes\)"):
        access.run_access_review(client, params(needs=["statefulset"]), False, Outcome())


def test_resource_attributes_asked_as_given_and_no_user_api():
    client = AnsweringClient(whoami=False, deny={("patch", "statefulsets", "scale")})
    extra = [{"verb": "patch", "group": "apps", "resource": "statefulsets", "subresource": "scale",
              "namespace": "shop", "name": "db"}]
    with pytest.raises(K8sError) as err:
        access.run_access_review(client, params(needs=[], resource_attributes=extra), False, Outcome())
    assert "patch statefulsets/scale.apps 'db' in namespace 'shop' (resource_attributes)" in str(err.value)
    assert " as '" not in str(err.value)
    assert client.bodies[-1]["spec"]["resourceAttributes"] == extra[0]


def test_forbidden_self_subject_review_is_no_user():
    class Forbidding(AnsweringClient):
        def request(self, method, path, what, body=None, allow_404=False, **kw):
            if path == access.SSR_PATH:
                raise ApiError(what, 403, "Forbidden")
            return super().request(method, path, what, body=body, allow_404=allow_404, **kw)
    assert access.who_am_i(Forbidding()) is None


@pytest.mark.parametrize("over, param", [
    ({"namespace": "Bad_NS"}, "namespace"),
    ({"needs": [], "resource_attributes": []}, "needs"),
    ({"resource_attributes": [{"verb": "Create", "resource": "pods"}]}, "resource_attributes[0].verb"),
])
def test_bad_input_names_the_option(over, param):
    with pytest.raises(InputError) as err:
        params(**over)
    assert err.value.param == param
