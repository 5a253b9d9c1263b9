"""Server-side apply: the no-write decision, check mode, diffs, deletes."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import apply, compare, validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import ApiError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref

from tests.unit.plugins.module_utils.k8s.fakeapi import fields_v1

STS_PARAMS = {
    "name": "web", "namespace": "default", "replicas": 3, "labels": {"app": "nginx"}, "container_name": "nginx",
    "image": "nginx:1.27", "ports": [{"name": "web", "container_port": 80}],
    "volume_claim_templates": [{"name": "nginx-pvc", "storage_class_name": "managed-nfs-storage",
                                "size": "1024Mi", "mount_path": "/usr/share/nginx/html"}],
}


def sts_manifests(**over):
    return mf.statefulset_manifests(validation.validate_statefulset_params(dict(STS_PARAMS, **over)))


# ----------------------------------------------------------------------------- pure functions
@pytest.mark.parametrize("desired, live, expected", [
    ({"a": 1}, {"a": 1, "b": 2}, None),
    ({"a": 1}, {"a": 2}, ("a",)),
    ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 2], "c": 0}}, None),
    ({"a": {"b": [1, 2]}}, {"a": {"b": [1]}}, ("a", "b")),
    ({"a": [{"n": 1}]}, {"a": [{"n": 1, "x": 0}]}, None),
    ({"a": [{"n": 1}]}, {"a": [{"n": 2}]}, ("a", 0, "n")),
    ({"a": {}}, {}, None),
    ({"a": []}, {}, None),
    ({"a": "1"}, {"a": 1}, ("a",)),
    ({"a": True}, {"a": 1}, ("a",)),
    ({"requests": {"storage": "1024Mi"}}, {"requests": {"storage": "1Gi"}}, None),
    ({"limits": {"cpu": "0.5"}}, {"limits": {"cpu": "500m"}}, None),
    ({"limits": {"cpu": "1"}}, {"limits": {"cpu": "500m"}}, ("limits", "cpu")),
    ({"labels": {"v": "1024Mi"}}, {"labels": {"v": "1Gi"}}, ("labels", "v")),
])
def test_first_difference(desired, live, expected):
    assert compare.first_difference(desired, live) == expected


@pytest.mark.parametrize("text, value", [("1Gi", 2 ** 30), ("500m", 0.5), ("1e3", 1000.0), ("2", 2.0),
                                         ("1.5Ki", 1536.0), ("bogus", None), (True, None)])
def test_parse_quantity(text, value):
    assert compare.parse_quantity(text) == value


def test_owned_but_absent_walks_keys_values_and_indexes():
    desired = {"spec": {"containers": [{"name": "a", "image": "x"}], "tags": ["t1"], "list": [{"q": 1}]}}
    owned = {"f:spec": {"f:containers": {'k:{"name":"a"}': {".": {}, "f:image": {}, "f:args": {}},
                                         'k:{"name":"b"}': {".": {}}},
                        "f:tags": {'v:"t1"': {}, 'v:"t2"': {}},
                        "f:list": {"i:0": {"f:q": {}}, "i:1": {}},
                        "f:gone": {}}}
    missing = apply.owned_but_absent(owned, desired)
    assert ("spec", "containers", 'k:{"name":"a"}', "args") in missing
    assert ("spec", "containers", 'k:{"name":"b"}') in missing
    assert ("spec", "tags", 'v:"t2"') in missing
    assert ("spec", "list", "i:1") in missing
    assert ("spec", "gone") in missing
    assert len(missing) == 5


def test_key_fields_left_to_server_defaults_still_match():
    desired = {"ports": [{"containerPort": 80}]}
    owned = {"f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}
    assert apply.owned_but_absent(owned, desired) == []


def _live(desired, manager="stateful.nfs", extra=None):
    live = copy.deepcopy(desired)
    live["metadata"]["managedFields"] = [{"manager": manager, "operation": "Apply", "fieldsV1": fields_v1(desired)}]
    live["metadata"]["resourceVersion"] = "7"
    live.setdefault("spec", {}).update(extra or {})
    return live


def test_needs_apply_decisions():
    desired = sts_manifests()[1]
    assert apply.needs_apply(desired, None) == (True, "does not exist")
    assert apply.needs_apply(desired, _live(desired, extra={"revisionHistoryLimit": 10})) == (False, "matches")
    # a field removed from the input but still owned -> apply (so the server removes it)
    with_probe = sts_manifests(readiness_probe={"tcpSocket": {"port": 80}})[1]
    write, reason = apply.needs_apply(desired, _live(with_probe))
    assert write and "readinessProbe" in reason and "removed" in reason
    # owned by someone else only -> one apply to take ownership
    write, reason = apply.needs_apply(desired, _live(desired, manager="kubectl"))
    assert write and "not owned" in reason
    # server that records no managed fields: values decide
    live = copy.deepcopy(desired)
    assert apply.needs_apply(desired, live)[0] is False
    live["spec"]["replicas"] = 1
    assert apply.needs_apply(desired, live) == (True, "field spec.replicas differs")


def test_sanitize_strips_bookkeeping_and_status():
    obj = _live(sts_manifests()[1])
    obj["status"] = {"replicas": 3}
    obj["metadata"]["annotations"] = {apply.LAST_APPLIED: "{}"}
    clean = apply.sanitize(obj)
    assert "status" not in clean and "managedFields" not in clean["metadata"]
    assert "resourceVersion" not in clean["metadata"] and "annotations" not in clean["metadata"]
    assert "status" in obj  # the input is not modified


# ----------------------------------------------------------------------------- over HTTP
def test_create_then_reapply_sends_no_write(fake_api, client):
    svc, st = sts_manifests()
    r1 = [apply.apply_object(client, m) for m in (svc, st)]
    assert [r.action for r in r1] == ["create", "create"]
    patches = [r for r in fake_api.requests if r["method"] == "PATCH"]
    assert len(patches) == 2
    for p in patches:
        assert p["content_type"] == "application/apply-patch+yaml"
        assert p["query"] == {"fieldManager": "stateful.nfs", "force": "true"}
        assert p["authorization"] == "Bearer t0ken"
    # the stored object differs textually (defaults, 1024Mi -> 1Gi) and still matches
    stored = fake_api.get("StatefulSet", "web", "default")
    assert stored["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    fake_api.clear_log()
    r2 = [apply.apply_object(client, m) for m in sts_manifests()]
    assert [(r.action, r.changed) for r in r2] == [("unchanged", False), ("unchanged", False)]
    assert fake_api.writes() == []
    assert [r["method"] for r in fake_api.requests] == ["GET", "GET"]


def test_change_is_applied_with_diff(fake_api, client):
    for m in sts_manifests():
        apply.apply_object(client, m)
    fake_api.clear_log()
    res = apply.apply_object(client, sts_manifests(image="nginx:1.28", replicas=4)[1])
    assert res.changed and res.action == "update"
    assert "spec.replicas" in res.reason or "image" in res.reason
    d = res.diff()
    assert "image: nginx:1.27" in d["before"] and "image: nginx:1.28" in d["after"]
    assert "managedFields" not in d["after"] and "resourceVersion" not in d["after"]
    assert d["before_header"] == "StatefulSet default/web (live)"
    assert fake_api.get("StatefulSet", "web", "default")["spec"]["replicas"] == 4


def test_removed_field_is_applied(fake_api, client):
    apply.apply_object(client, sts_manifests(readiness_probe={"tcpSocket": {"port": 80}})[1])
    fake_api.clear_log()
    res = apply.apply_object(client, sts_manifests()[1])
    assert res.changed
    assert len(fake_api.writes()) == 1
    c = fake_api.get("StatefulSet", "web", "default")["spec"]["template"]["spec"]["containers"][0]
    assert "readinessProbe" not in c


def test_check_mode_uses_dry_run_and_persists_nothing(fake_api, client):
    svc = sts_manifests()[0]
    res = apply.apply_object(client, svc, check_mode=True)
    assert res.changed and res.action == "create"
    assert res.after["spec"]["clusterIP"] == "None"
    (patch,) = fake_api.writes()
    assert patch["query"]["dryRun"] == "All"
    assert fake_api.get("Service", "web", "default") is None
    # check mode on an up-to-date object sends nothing at all
    apply.apply_object(client, svc)
    fake_api.clear_log()
    assert apply.apply_object(client, svc, check_mode=True).changed is False
    assert fake_api.writes() == []


def test_takes_ownership_of_objects_created_by_others(fake_api, client):
    svc = sts_manifests()[0]
    fake_api.put(svc, manager="kubectl-client-side-apply")
    res = apply.apply_object(client, svc)
    assert len(fake_api.writes()) == 1
    assert res.changed is False and res.action == "unchanged"
    managers = [e["manager"] for e in fake_api.get("Service", "web", "default")["metadata"]["managedFields"]]
    assert "stateful.nfs" in managers
    fake_api.clear_log()
    apply.apply_object(client, svc)
    assert fake_api.writes() == []


def test_immutable_rejection_names_object_status_and_message(fake_api, client):
    apply.apply_object(client, sts_manifests()[1])
    with pytest.raises(ApiError) as exc:
        apply.apply_object(client, sts_manifests(service_name="other")[1])
    msg = str(exc.value)
    assert msg.startswith("apply StatefulSet default/web failed: HTTP 422 Invalid: ")
    assert "Forbidden: updates to statefulset spec" in msg


def test_delete_and_delete_absent(fake_api, client):
    svc = sts_manifests()[0]
    apply.apply_object(client, svc)
    ref = Ref.of(svc)
    dry = apply.delete_object(client, ref, check_mode=True)
    assert dry.changed and fake_api.get("Service", "web", "default") is not None
    assert fake_api.writes()[-1]["query"] == {"dryRun": "All"}
    assert fake_api.writes()[-1]["body"]["dryRun"] == ["All"]  # the API server reads it from the body
    res = apply.delete_object(client, ref, propagation_policy="Foreground")
    assert res.changed and res.action == "delete"
    assert fake_api.writes()[-1]["body"]["propagationPolicy"] == "Foreground"
    assert fake_api.get("Service", "web", "default") is None
    fake_api.clear_log()
    again = apply.delete_object(client, ref)
    assert (again.changed, again.action) == (False, "absent")
    assert fake_api.writes() == []


# ---------------------------------------------------------------- fields of other managers
def test_foreign_template_fields_names_other_managers_fields_under_the_templates_only():
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.compare import foreign_template_fields

    live = {"metadata": {"managedFields": [
        {"manager": "stateful.nfs", "operation": "Apply", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {
            "f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}}}}}}}},
        {"manager": "kubectl-patch", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {
            "f:metadata": {"f:labels": {"f:tier": {}},
                           "f:annotations": {"f:kubectl.kubernetes.io/restartedAt": {}}},
            "f:spec": {"f:containers": {'k:{"name":"web"}': {"f:args": {}}}}}}}},
        {"manager": "hpa", "operation": "Update", "subresource": "scale", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
         "fieldsV1": {"f:status": {"f:replicas": {}}}},
        {"manager": "editor", "operation": "Update", "fieldsV1": {"f:spec": {"f:volumeClaimTemplates": {}}}},
    ]}}
    assert foreign_template_fields(live, "stateful.nfs") == [
        ("editor", "spec.volumeClaimTemplates"),
        ("kubectl-patch", "spec.template.metadata.labels.tier"),
        ("kubectl-patch", "spec.template.spec.containers[name=web].args"),
    ]
    assert foreign_template_fields({"metadata": {}}, "stateful.nfs") == []
