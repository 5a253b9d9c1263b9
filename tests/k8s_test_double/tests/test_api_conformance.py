"""Conformance of the test double's REST surface, driven by the real `kubernetes` client."""
from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.dynamic.exceptions import NotFoundError

from .conftest import apply, sts_manifest, wait_for


def _cm(name, data=None, labels=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data or {"k": "v"}}


def test_version_declares_test_double(api, raw):
    """/version reports a gitVersion that says it is a test double.
    https://kubernetes.io/docs/reference/using-api/api-overview/"""
    v = client.VersionApi(api).get_code()
    assert v.git_version == "v1.31.0-stateful-nfs-test-double"
    assert "NOT a real cluster" in v.platform
    code, body = raw("GET", "/version", token=None)
    assert code == 200 and body["testDouble"] is True and "not a Kubernetes cluster" in body["notice"]


def test_discovery_lists_required_resources_with_scope(dyn, raw):
    """Discovery documents /api, /apis, /api/v1, /apis/<group>/<version> as the dynamic client reads them.
    https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api"""
    expect = {("v1", "Namespace"): False, ("v1", "Pod"): True, ("v1", "Service"): True,
              ("v1", "Endpoints"): True, ("v1", "Event"): True, ("v1", "ServiceAccount"): True,
              ("v1", "PersistentVolumeClaim"): True, ("v1", "PersistentVolume"): False,
              ("v1", "ConfigMap"): True, ("v1", "Secret"): True, ("apps/v1", "Deployment"): True,
              ("apps/v1", "ReplicaSet"): True, ("apps/v1", "StatefulSet"): True,
              ("apps/v1", "ControllerRevision"): True,
              ("rbac.authorization.k8s.io/v1", "ClusterRole"): False,
              ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): False,
              ("rbac.authorization.k8s.io/v1", "Role"): True, ("rbac.authorization.k8s.io/v1", "RoleBinding"): True,
              ("storage.k8s.io/v1", "StorageClass"): False, ("coordination.k8s.io/v1", "Lease"): True}
    for (av, kind), namespaced in expect.items():
        r = dyn.resources.get(api_version=av, kind=kind)
        assert r.namespaced is namespaced, (av, kind)
    code, groups = raw("GET", "/apis")
    assert code == 200 and {"apps", "rbac.authorization.k8s.io", "storage.k8s.io"} <= {
        g["name"] for g in groups["groups"]}
    code, core = raw("GET", "/api/v1")
    subs = {r["name"] for r in core["resources"]}
    assert {"pods/status", "persistentvolumeclaims/status"} <= subs


def test_bearer_token_required(raw, double):
    """Requests without a token or with a wrong one get 401 with a Status body.
    https://kubernetes.io/docs/reference/access-authn-authz/authentication/#putting-a-bearer-token-in-a-request"""
    for token in (None, "wrong-token"):
        code, body = raw("GET", "/api/v1/namespaces", token=token)
        assert code == 401
        assert body["kind"] == "Status" and body["reason"] == "Unauthorized" and body["code"] == 401
    cfg = client.Configuration()
    cfg.host = double.url
    cfg.api_key = {"authorization": "wrong"}
    cfg.api_key_prefix = {"authorization": "Bearer"}
    with pytest.raises(client.ApiException) as e:
        client.CoreV1Api(client.ApiClient(cfg)).list_namespace()
    assert e.value.status == 401


def test_create_sets_metadata(v1, ns):
    """uid, creationTimestamp, monotonically increasing resourceVersion, namespace taken from the URL.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions"""
    a = v1.create_namespaced_config_map(ns, _cm("a"))
    b = v1.create_namespaced_config_map(ns, _cm("b"))
    assert a.metadata.uid and a.metadata.uid != b.metadata.uid
    assert a.metadata.namespace == ns and a.metadata.creation_timestamp is not None
    assert int(b.metadata.resource_version) > int(a.metadata.resource_version)
    a2 = v1.patch_namespaced_config_map("a", ns, {"data": {"k": "v2"}})
    assert int(a2.metadata.resource_version) > int(b.metadata.resource_version)
    lst = v1.list_namespaced_config_map(ns)
    assert int(lst.metadata.resource_version) >= int(a2.metadata.resource_version)


def test_generation_bumps_only_on_spec_change(apps, ns):
    """metadata.generation increments on spec changes, not on metadata-only changes.
    https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/"""
    s = apps.create_namespaced_stateful_set(ns, sts_manifest("g", replicas=0))
    assert s.metadata.generation == 1
    s = apps.patch_namespaced_stateful_set("g", ns, {"metadata": {"labels": {"x": "y"}}})
    assert s.metadata.generation == 1
    s = apps.patch_namespaced_stateful_set("g", ns, {"spec": {"replicas": 0, "minReadySeconds": 3}})
    assert s.metadata.generation == 2


def test_status_codes_and_status_bodies(v1, raw, ns):
    """201 on create, 200 on get, 409 AlreadyExists, 404 NotFound, 422 Invalid — each with a Status body.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#response-codes"""
    code, _ = raw("POST", f"/api/v1/namespaces/{ns}/configmaps", _cm("c"))
    assert code == 201
    code, body = raw("POST", f"/api/v1/namespaces/{ns}/configmaps", _cm("c"))
    assert code == 409 and body["reason"] == "AlreadyExists" and body["details"]["name"] == "c"
    code, body = raw("GET", f"/api/v1/namespaces/{ns}/configmaps/nope")
    assert code == 404 and body["reason"] == "NotFound" and body["message"] == 'configmaps "nope" not found'
    code, body = raw("POST", f"/api/v1/namespaces/{ns}/configmaps", _cm("Bad_Name"))
    assert code == 422 and body["reason"] == "Invalid" and body["details"]["causes"][0]["field"] == "metadata.name"
    code, body = raw("POST", "/api/v1/namespaces/does-not-exist/configmaps", _cm("x"))
    assert code == 404 and "namespaces \"does-not-exist\" not found" in body["message"]
    with pytest.raises(client.ApiException) as e:
        v1.read_namespaced_config_map("nope", ns)
    assert e.value.status == 404 and json.loads(e.value.body)["kind"] == "Status"


def test_put_with_stale_resource_version_conflicts(v1, ns):
    """Optimistic concurrency: PUT with an old resourceVersion fails with 409 Conflict.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#conflicts"""
    cm = v1.create_namespaced_config_map(ns, _cm("p"))
    cm.data = {"k": "1"}
    updated = v1.replace_namespaced_config_map("p", ns, cm)
    assert updated.data == {"k": "1"}
    cm.data = {"k": "2"}  # still carries the old resourceVersion
    with pytest.raises(client.ApiException) as e:
        v1.replace_namespaced_config_map("p", ns, cm)
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "Conflict"
    assert v1.read_namespaced_config_map("p", ns).data == {"k": "1"}


def test_json_merge_patch_and_json_patch(v1, ns):
    """application/merge-patch+json (null deletes keys) and application/json-patch+json.
    https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/"""
    v1.create_namespaced_config_map(ns, _cm("m", {"a": "1", "b": "2"}))
    out = v1.patch_namespaced_config_map("m", ns, {"data": {"a": None, "c": "3"}},
                                         _content_type="application/merge-patch+json")
    assert out.data == {"b": "2", "c": "3"}
    out = v1.patch_namespaced_config_map("m", ns, [{"op": "replace", "path": "/data/b", "value": "9"},
                                                   {"op": "remove", "path": "/data/c"}],
                                         _content_type="application/json-patch+json")
    assert out.data == {"b": "9"}


def test_strategic_merge_patch_list_merge_keys(apps, ns):
    """Strategic merge merges containers/env/volumes/volumeMounts/ports by key instead of replacing.
    https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/#use-a-strategic-merge-patch-to-update-a-deployment"""
    body = sts_manifest("smp", replicas=0)
    c = body["spec"]["template"]["spec"]["containers"][0]
    c["env"] = [{"name": "A", "value": "1"}]
    c["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    body["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    apps.create_namespaced_stateful_set(ns, body)
    patch = {"spec": {"template": {"spec": {
        "containers": [{"name": "sidecar", "image": "busybox:1.36"},
                       {"name": "nginx", "env": [{"name": "B", "value": "2"}],
                        "ports": [{"containerPort": 8080, "name": "alt"}],
                        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}],
        "volumes": [{"name": "cache", "emptyDir": {}}]}}}}
    out = apps.patch_namespaced_stateful_set("smp", ns, patch,
                                             _content_type="application/strategic-merge-patch+json")
    cs = {x.name: x for x in out.spec.template.spec.containers}
    assert set(cs) == {"nginx", "sidecar"}
    assert [e.name for e in cs["nginx"].env] == ["A", "B"]
    assert sorted(p.container_port for p in cs["nginx"].ports) == [80, 8080]
    assert sorted(m.mount_path for m in cs["nginx"].volume_mounts) == ["/cache", "/data"]
    assert sorted(v.name for v in out.spec.template.spec.volumes) == ["cache", "data"]
    out = apps.patch_namespaced_stateful_set("smp", ns, {"spec": {"template": {"spec": {"containers": [
        {"name": "sidecar", "$patch": "delete"}]}}}}, _content_type="application/strategic-merge-patch+json")
    assert [x.name for x in out.spec.template.spec.containers] == ["nginx"]


def test_server_side_apply_creates_and_is_idempotent(apps, ns):
    """Apply creates the object when absent, records managedFields for the manager, and re-applying the
    same configuration changes nothing (same resourceVersion).
    https://kubernetes.io/docs/reference/using-api/server-side-apply/"""
    body = sts_manifest("ssa", replicas=0)
    a = apply(apps.patch_namespaced_stateful_set, "ssa", ns, body)
    assert a.metadata.managed_fields[0].manager == "stateful.nfs"
    assert a.metadata.managed_fields[0].operation == "Apply"
    assert "f:spec" in a.metadata.managed_fields[0].fields_v1
    # let the controller write status first (status writes bump resourceVersion too)
    a = wait_for(lambda: (lambda s: s if s.status.observed_generation == 1 else None)(
        apps.read_namespaced_stateful_set("ssa", ns)), 5)
    b = apply(apps.patch_namespaced_stateful_set, "ssa", ns, body)
    assert b.metadata.resource_version == a.metadata.resource_version


def test_server_side_apply_removes_fields_the_manager_stopped_applying(apps, ns):
    """Fields a manager applied before and omits now are removed (unless another manager owns them).
    https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management"""
    body = sts_manifest("rm", replicas=0)
    body["metadata"]["labels"] = {"keep": "1", "drop": "1"}
    body["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    body["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox:1.36"})
    apply(apps.patch_namespaced_stateful_set, "rm", ns, body)
    # a different manager adds its own label
    apps.patch_namespaced_stateful_set("rm", ns, {"metadata": {"labels": {"theirs": "x"}}}, field_manager="other")
    body["metadata"]["labels"] = {"keep": "1"}
    del body["spec"]["template"]["spec"]["containers"][0]["env"]
    body["spec"]["template"]["spec"]["containers"].pop()
    out = apply(apps.patch_namespaced_stateful_set, "rm", ns, body)
    assert out.metadata.labels == {"keep": "1", "theirs": "x"}
    cs = out.spec.template.spec.containers
    assert [c.name for c in cs] == ["nginx"] and not cs[0].env


def test_server_side_apply_conflict_and_force(apps, ns):
    """Applying a field another manager set to a different value is a 409 conflict; force=true takes it over.
    https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts"""
    apply(apps.patch_namespaced_stateful_set, "cf", ns, sts_manifest("cf", replicas=0))
    apps.patch_namespaced_stateful_set("cf", ns, {"spec": {"replicas": 0, "minReadySeconds": 5}},
                                       field_manager="kubectl-edit")
    body = sts_manifest("cf", replicas=0, minReadySeconds=1)
    with pytest.raises(client.ApiException) as e:
        apply(apps.patch_namespaced_stateful_set, "cf", ns, body, force=False)
    assert e.value.status == 409
    st = json.loads(e.value.body)
    assert "kubectl-edit" in st["message"] and ".spec.minReadySeconds" in st["message"]
    out = apply(apps.patch_namespaced_stateful_set, "cf", ns, body, force=True)
    assert out.spec.min_ready_seconds == 1
    owners = {m.manager for m in out.metadata.managed_fields if "f:minReadySeconds" in json.dumps(m.fields_v1)}
    assert owners == {"stateful.nfs"}


def test_dry_run_all_persists_nothing(v1, apps, ns):
    """dryRun=All on create, update, patch, apply and delete answers as if, and stores nothing.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run"""
    out = v1.create_namespaced_config_map(ns, _cm("dry"), dry_run="All")
    assert out.metadata.name == "dry" and out.metadata.uid
    with pytest.raises(client.ApiException):
        v1.read_namespaced_config_map("dry", ns)
    out = apply(apps.patch_namespaced_stateful_set, "dry", ns, sts_manifest("dry", replicas=0), dry_run="All")
    assert out.spec.pod_management_policy == "OrderedReady"
    assert apps.list_namespaced_stateful_set(ns).items == []
    real = v1.create_namespaced_config_map(ns, _cm("wet", {"a": "1"}))
    out = v1.patch_namespaced_config_map("wet", ns, {"data": {"a": "2"}}, dry_run="All")
    assert out.data == {"a": "2"}
    real.data = {"a": "3"}
    assert v1.replace_namespaced_config_map("wet", ns, real, dry_run="All").data == {"a": "3"}
    v1.delete_namespaced_config_map("wet", ns, dry_run="All")
    got = v1.read_namespaced_config_map("wet", ns)
    assert got.data == {"a": "1"} and got.metadata.resource_version == real.metadata.resource_version


def test_label_selectors(v1, ns):
    """Equality- and set-based label selectors: =, ==, !=, in, notin, exists, !exists.
    https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"""
    for name, labels in (("a", {"env": "prod", "tier": "fe"}), ("b", {"env": "dev", "tier": "be"}),
                         ("c", {"env": "qa"}), ("d", {})):
        v1.create_namespaced_config_map(ns, _cm(name, labels=labels))

    def names(sel):
        return sorted(i.metadata.name for i in v1.list_namespaced_config_map(ns, label_selector=sel).items)
    assert names("env=prod") == ["a"]
    assert names("env==dev") == ["b"]
    assert names("env!=prod") == ["b", "c", "d"]
    assert names("env in (prod, qa)") == ["a", "c"]
    assert names("env notin (prod,qa)") == ["b", "d"]
    assert names("tier") == ["a", "b"]
    assert names("!tier") == ["c", "d"]
    assert names("env in (prod,dev),tier=be") == ["b"]


def test_field_selectors(v1, raw, ns):
    """Field selectors metadata.name, metadata.namespace, status.phase, spec.nodeName; unsupported → 400.
    https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/"""
    v1.create_namespaced_config_map(ns, _cm("f1"))
    v1.create_namespaced_config_map(ns, _cm("f2"))
    items = v1.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={ns},metadata.name!=f1").items
    assert [i.metadata.name for i in items] == ["f2"]
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
    v1.create_namespaced_pod(ns, pod)
    wait_for(lambda: v1.read_namespaced_pod("p", ns).status.phase == "Running", 5)
    node = v1.read_namespaced_pod("p", ns).spec.node_name
    assert [p.metadata.name for p in v1.list_namespaced_pod(ns, field_selector="status.phase=Running").items] == ["p"]
    assert v1.list_namespaced_pod(ns, field_selector="status.phase=Pending").items == []
    assert [p.metadata.name for p in v1.list_namespaced_pod(ns, field_selector=f"spec.nodeName={node}").items] == ["p"]
    code, body = raw("GET", f"/api/v1/namespaces/{ns}/configmaps?fieldSelector=data.k%3Dv")
    assert code == 400 and "field label not supported" in body["message"]


def test_watch_from_resource_version_with_timeout(v1, ns):
    """watch=true with resourceVersion replays later changes (ADDED/MODIFIED/DELETED) and ends after
    timeoutSeconds.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes"""
    rv = v1.list_namespaced_config_map(ns).metadata.resource_version
    v1.create_namespaced_config_map(ns, _cm("w"))
    v1.patch_namespaced_config_map("w", ns, {"data": {"k": "2"}})
    v1.delete_namespaced_config_map("w", ns)
    seen = []
    t0 = time.monotonic()
    for ev in watch.Watch().stream(v1.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=1):
        seen.append((ev["type"], ev["object"].metadata.name))
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]
    assert 0.8 < time.monotonic() - t0 < 5


def test_watch_live_events_and_label_selector(v1, ns):
    """A live watch with a label selector sees objects entering (ADDED) and leaving (DELETED) the selection.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks"""
    got = []
    w = watch.Watch()

    def consume():
        for ev in w.stream(v1.list_namespaced_config_map, ns, label_selector="app=x", timeout_seconds=3):
            got.append((ev["type"], ev["object"].metadata.name))
            if len(got) == 3:
                w.stop()
    th = threading.Thread(target=consume)
    th.start()
    time.sleep(0.3)
    v1.create_namespaced_config_map(ns, _cm("in", labels={"app": "x"}))
    v1.create_namespaced_config_map(ns, _cm("out", labels={"app": "y"}))
    v1.patch_namespaced_config_map("out", ns, {"metadata": {"labels": {"app": "x"}}})
    v1.patch_namespaced_config_map("in", ns, {"metadata": {"labels": {"app": "z"}}})
    th.join(5)
    assert got == [("ADDED", "in"), ("ADDED", "out"), ("DELETED", "in")]


def test_watch_too_old_resource_version_gets_410(double, raw, ns):
    """A watch from a resourceVersion older than the retained history gets an ERROR event with 410 Gone.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses"""
    def trim():
        double.store.log[:] = double.store.log[-1:]
    double.call(trim)
    code, body = raw("GET", f"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion=1&timeoutSeconds=1")
    first = json.loads(body.splitlines()[0]) if isinstance(body, str) else body
    assert first["type"] == "ERROR" and first["object"]["code"] == 410


def test_status_subresource(apps, ns):
    """Writes to the main resource ignore status; writes to /status change only status.
    https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/stateful-set-v1/#replace-replace-status-of-the-specified-statefulset"""
    body = sts_manifest("st", replicas=0)
    body["status"] = {"replicas": 42}
    s = apps.create_namespaced_stateful_set(ns, body)
    assert s.status.replicas == 0
    s = apps.patch_namespaced_stateful_set("st", ns, {"status": {"replicas": 7}})
    assert s.status.replicas == 0
    s = apps.patch_namespaced_stateful_set_status("st", ns, {"status": {"observedGeneration": 99},
                                                             "spec": {"replicas": 5}})
    assert s.status.observed_generation == 99 and s.spec.replicas == 0


def test_finalizers_and_deletion_timestamp(v1, ns):
    """An object with finalizers gets deletionTimestamp on delete and disappears when they are removed.
    https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/"""
    cm = _cm("fin")
    cm["metadata"]["finalizers"] = ["example.com/keep"]
    v1.create_namespaced_config_map(ns, cm)
    v1.delete_namespaced_config_map("fin", ns)
    got = v1.read_namespaced_config_map("fin", ns)
    assert got.metadata.deletion_timestamp is not None
    v1.patch_namespaced_config_map("fin", ns, {"metadata": {"finalizers": None}},
                                   _content_type="application/merge-patch+json")
    with pytest.raises(client.ApiException) as e:
        v1.read_namespaced_config_map("fin", ns)
    assert e.value.status == 404


def _owned_cm(v1, ns, owner, name):
    cm = _cm(name)
    cm["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": owner.metadata.name,
                                          "uid": owner.metadata.uid, "blockOwnerDeletion": True}]
    return v1.create_namespaced_config_map(ns, cm)


def _gone(v1, ns, name):
    try:
        v1.read_namespaced_config_map(name, ns)
        return False
    except client.ApiException as e:
        return e.status == 404


def test_garbage_collection_background_and_orphan(v1, ns):
    """Background deletes dependents after the owner; Orphan strips ownerReferences and keeps them.
    https://kubernetes.io/docs/concepts/architecture/garbage-collection/#cascading-deletion"""
    owner = v1.create_namespaced_config_map(ns, _cm("owner"))
    _owned_cm(v1, ns, owner, "dep")
    v1.delete_namespaced_config_map("owner", ns, propagation_policy="Background")
    wait_for(lambda: _gone(v1, ns, "dep"), 5, what="background GC")
    owner = v1.create_namespaced_config_map(ns, _cm("owner2"))
    _owned_cm(v1, ns, owner, "dep2")
    v1.delete_namespaced_config_map("owner2", ns, propagation_policy="Orphan")
    time.sleep(0.3)
    d = v1.read_namespaced_config_map("dep2", ns)
    assert not d.metadata.owner_references


def test_garbage_collection_foreground(v1, ns):
    """Foreground: owner gets deletionTimestamp + foregroundDeletion finalizer, dependents go first.
    https://kubernetes.io/docs/concepts/architecture/garbage-collection/#foreground-deletion"""
    owner = v1.create_namespaced_config_map(ns, _cm("fg"))
    dep = _cm("fg-dep")
    dep["metadata"]["finalizers"] = ["example.com/hold"]
    dep["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "fg",
                                           "uid": owner.metadata.uid, "blockOwnerDeletion": True}]
    v1.create_namespaced_config_map(ns, dep)
    v1.delete_namespaced_config_map("fg", ns, propagation_policy="Foreground")
    o = v1.read_namespaced_config_map("fg", ns)
    assert o.metadata.deletion_timestamp and "foregroundDeletion" in o.metadata.finalizers
    wait_for(lambda: v1.read_namespaced_config_map("fg-dep", ns).metadata.deletion_timestamp, 5)
    time.sleep(0.2)
    assert not _gone(v1, ns, "fg")  # blocked by the dependent's finalizer
    v1.patch_namespaced_config_map("fg-dep", ns, {"metadata": {"finalizers": None}},
                                   _content_type="application/merge-patch+json")
    wait_for(lambda: _gone(v1, ns, "fg") and _gone(v1, ns, "fg-dep"), 5, what="foreground completion")


def test_defaulting(v1, apps, ns):
    """Defaults the modules rely on: Service type/clusterIP None kept; StatefulSet podManagementPolicy,
    updateStrategy, revisionHistoryLimit, PVC retention; Deployment strategy; container fields.
    https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/stateful-set-v1/"""
    svc = v1.create_namespaced_service(ns, {"metadata": {"name": "web"}, "spec": {
        "clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    assert svc.spec.cluster_ip == "None" and svc.spec.type == "ClusterIP"
    assert svc.spec.ports[0].protocol == "TCP" and svc.spec.ports[0].target_port == 80
    s = apps.create_namespaced_stateful_set(ns, sts_manifest("d", replicas=0, image="nginx"))
    assert s.spec.pod_management_policy == "OrderedReady"
    assert s.spec.update_strategy.type == "RollingUpdate"
    assert s.spec.update_strategy.rolling_update.partition == 0
    assert s.spec.revision_history_limit == 10
    p = s.spec.persistent_volume_claim_retention_policy
    assert (p.when_deleted, p.when_scaled) == ("Retain", "Retain")
    c = s.spec.template.spec.containers[0]
    assert c.image_pull_policy == "Always"  # untagged image
    assert c.termination_message_path == "/dev/termination-log" and c.ports[0].protocol == "TCP"
    assert s.spec.template.spec.restart_policy == "Always" and s.spec.template.spec.dns_policy == "ClusterFirst"
    dep = apps.create_namespaced_deployment(ns, {"metadata": {"name": "dd"}, "spec": {
        "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
            "containers": [{"name": "c", "image": "busybox:1.36"}]}}}})
    assert dep.spec.replicas == 1 and dep.spec.strategy.type == "RollingUpdate"
    assert dep.spec.strategy.rolling_update.max_surge == "25%" and dep.spec.progress_deadline_seconds == 600
    assert dep.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"


def test_immutable_fields_are_rejected_with_422(v1, apps, ns):
    """StatefulSet spec beyond replicas/template/updateStrategy/...; Deployment selector; PVC spec;
    Service clusterIP are immutable.
    https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#limitations"""
    apply(apps.patch_namespaced_stateful_set, "im", ns, sts_manifest("im", replicas=0))
    for change in ({"spec": {"serviceName": "other"}}, {"spec": {"podManagementPolicy": "Parallel"}},
                   {"spec": {"volumeClaimTemplates": [{"metadata": {"name": "x"}, "spec": {
                       "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}):
        with pytest.raises(client.ApiException) as e:
            apps.patch_namespaced_stateful_set("im", ns, change)
        assert e.value.status == 422
        assert "updates to statefulset spec for fields other than" in json.loads(e.value.body)["message"]
    ok = apps.patch_namespaced_stateful_set("im", ns, {"spec": {"replicas": 0, "updateStrategy": {
        "rollingUpdate": {"partition": 2}}}})
    assert ok.spec.update_strategy.rolling_update.partition == 2
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "sel"}, "spec": {
        "replicas": 0, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {
            "a": "b", "c": "d"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}}})
    with pytest.raises(client.ApiException) as e:
        apps.patch_namespaced_deployment("sel", ns, {"spec": {"selector": {"matchLabels": {"c": "d"}}}})
    assert e.value.status == 422 and "spec.selector" in json.loads(e.value.body)["message"]
    v1.create_namespaced_persistent_volume_claim(ns, {"metadata": {"name": "pvc"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "none"}})
    with pytest.raises(client.ApiException) as e:
        v1.patch_namespaced_persistent_volume_claim("pvc", ns, {"spec": {"accessModes": ["ReadWriteMany"]}})
    assert e.value.status == 422
    svc = v1.create_namespaced_service(ns, {"metadata": {"name": "cip"}, "spec": {"ports": [{"port": 80}]}})
    assert svc.spec.cluster_ip.startswith("10.96.")
    with pytest.raises(client.ApiException) as e:
        v1.patch_namespaced_service("cip", ns, {"spec": {"clusterIP": "None"}})
    assert e.value.status == 422


def test_validation_of_bad_input(v1, apps, ns):
    """Invalid objects are rejected with 422 and field causes (negative replicas, bad quantity, access mode).
    https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation"""
    with pytest.raises(client.ApiException) as e:
        apps.create_namespaced_stateful_set(ns, sts_manifest("neg", replicas=-1))
    assert e.value.status == 422 and "spec.replicas" in e.value.body
    with pytest.raises(client.ApiException) as e:
        v1.create_namespaced_persistent_volume_claim(ns, {"metadata": {"name": "q"}, "spec": {
            "accessModes": ["ReadWriteSometimes"], "resources": {"requests": {"storage": "1 GB"}}}})
    body = json.loads(e.value.body)
    assert e.value.status == 422 and {c["field"] for c in body["details"]["causes"]} == {
        "spec.accessModes", "spec.resources[storage]"}


def test_cluster_scoped_and_namespaced_rbac_storage(api, ns):
    """Cluster-scoped kinds (ClusterRole, ClusterRoleBinding, StorageClass) live outside namespaces; Roles inside.
    https://kubernetes.io/docs/reference/access-authn-authz/rbac/#role-and-clusterrole"""
    rbac = client.RbacAuthorizationV1Api(api)
    st = client.StorageV1Api(api)
    rbac.create_cluster_role({"metadata": {"name": f"{ns}-runner"}, "rules": [
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["get", "list"]}]})
    rbac.create_namespaced_role(ns, {"metadata": {"name": "leader"}, "rules": [
        {"apiGroups": [""], "resources": ["endpoints"], "verbs": ["get"]}]})
    rbac.create_namespaced_role_binding(ns, {"metadata": {"name": "leader"}, "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "leader"}, "subjects": [
        {"kind": "ServiceAccount", "name": "nfs", "namespace": ns}]})
    sc = st.create_storage_class({"metadata": {"name": f"{ns}-sc"}, "provisioner": "fuseim.pri/ifs",
                                  "parameters": {"archiveOnDelete": "true"}})
    assert sc.reclaim_policy == "Delete" and sc.volume_binding_mode == "Immediate"
    assert rbac.read_cluster_role(f"{ns}-runner").metadata.namespace is None
    assert [r.metadata.name for r in rbac.list_namespaced_role(ns).items] == ["leader"]
    with pytest.raises(client.ApiException) as e:
        st.patch_storage_class(f"{ns}-sc", {"parameters": {"archiveOnDelete": "false"}})
    assert e.value.status == 422
    rbac.delete_cluster_role(f"{ns}-runner")
    st.delete_storage_class(f"{ns}-sc")


def test_list_pagination_limit_continue(v1, ns):
    """limit + continue return a large list in chunks.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks"""
    for i in range(5):
        v1.create_namespaced_config_map(ns, _cm(f"c{i}"))
    first = v1.list_namespaced_config_map(ns, limit=2)
    assert len(first.items) == 2 and first.metadata._continue
    rest = []
    token = first.metadata._continue
    for _ in range(5):
        page = v1.list_namespaced_config_map(ns, limit=2, _continue=token)
        rest += page.items
        token = page.metadata._continue
        if not token:
            break
    assert sorted(i.metadata.name for i in first.items + rest) == [f"c{i}" for i in range(5)]


def test_scale_subresource(apps, ns):
    """The scale subresource reads and writes spec.replicas.
    https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/stateful-set-v1/#read-read-scale-of-the-specified-statefulset"""
    apps.create_namespaced_stateful_set(ns, sts_manifest("sc", replicas=0))
    assert apps.read_namespaced_stateful_set_scale("sc", ns).spec.replicas == 0
    apps.patch_namespaced_stateful_set_scale("sc", ns, {"spec": {"replicas": 1}})
    assert apps.read_namespaced_stateful_set("sc", ns).spec.replicas == 1


def test_namespace_deletion_removes_contents(v1):
    """Deleting a namespace marks it Terminating, removes everything inside, then the namespace.
    https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/"""
    v1.create_namespace({"metadata": {"name": "doomed"}})
    v1.create_namespaced_config_map("doomed", _cm("x"))
    v1.delete_namespace("doomed")

    def gone():
        try:
            v1.read_namespace("doomed")
            return False
        except client.ApiException as e:
            return e.status == 404
    wait_for(gone, 5, what="namespace removal")
    assert v1.list_config_map_for_all_namespaces(field_selector="metadata.namespace=doomed").items == []


def test_fault_injection_and_request_stats(v1, raw, ns):
    """Injected 429 (with Retry-After, which the real client retries by itself), 500s and dropped connections
    for retry tests; request counts by verb. 429 emulates API priority-and-fairness rejections:
    https://kubernetes.io/docs/concepts/cluster-administration/flow-control/"""
    import urllib.error
    import urllib.request
    raw("POST", "/_test_double/stats/reset")
    code, _ = raw("POST", "/_test_double/faults", {"status": 429, "count": 1, "retry_after": 0,
                                                   "path_regex": f"/namespaces/{ns}/configmaps", "method": "GET"})
    assert code == 201
    assert v1.list_namespaced_config_map(ns).items == []  # urllib3 honoured Retry-After and retried
    raw("POST", "/_test_double/faults", {"status": 500, "count": 2, "path_regex": f"/namespaces/{ns}/configmaps"})
    for _ in range(2):
        with pytest.raises(client.ApiException) as e:
            v1.list_namespaced_config_map(ns)
        assert e.value.status == 500 and json.loads(e.value.body)["reason"] == "InternalError"
    assert v1.list_namespaced_config_map(ns).items == []
    raw("POST", "/_test_double/faults", {"drop": True, "count": 1, "path_regex": f"/namespaces/{ns}/secrets"})
    req = urllib.request.Request(f"{v1.api_client.configuration.host}/api/v1/namespaces/{ns}/secrets",
                                 headers={"Authorization": f"Bearer {raw.d.token}"})
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(req, timeout=5).read()
    code, stats = raw("GET", "/_test_double/stats")
    assert stats["by_verb"]["list"] == 6 and stats["faults_fired"] == 4
    assert stats["by_verb_resource"]["list configmaps"] == 5
    code, faults = raw("GET", "/_test_double/faults")
    assert all(f["count"] == 0 for f in faults["faults"])
    raw("DELETE", "/_test_double/faults")


def test_dynamic_client_apply_dry_run_and_delete_options(dyn, ns):
    """The dynamic client (used by kubernetes.core) can server-side apply, dry-run and delete with
    propagationPolicy in the DeleteOptions body.
    https://kubernetes.io/docs/reference/using-api/server-side-apply/#using-server-side-apply-in-a-controller"""
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dynamic", "namespace": ns},
            "data": {"a": "1"}}
    dry = cms.server_side_apply(body, field_manager="stateful.nfs", force_conflicts=True, dry_run="All")
    assert dry.data.a == "1"
    with pytest.raises(NotFoundError):
        cms.get(name="dynamic", namespace=ns)
    out = cms.server_side_apply(body, field_manager="stateful.nfs", force_conflicts=True)
    assert out.metadata.managedFields[0].manager == "stateful.nfs"
    listed = cms.get(namespace=ns, label_selector="")
    assert [i.metadata.name for i in listed.items] == ["dynamic"]
    cms.delete(name="dynamic", namespace=ns, body={"propagationPolicy": "Foreground"})
    wait_for(lambda: not cms.get(namespace=ns).items, 5)


def test_statefulset_foreground_cascade_deletes_pods_first(apps, v1, ns):
    """Foreground cascading deletion of a StatefulSet: the owner stays (deletionTimestamp, foregroundDeletion)
    until its pods are gone.
    https://kubernetes.io/docs/tasks/administer-cluster/use-cascading-deletion/#use-foreground-cascading-deletion"""
    apply(apps.patch_namespaced_stateful_set, "fgs", ns, sts_manifest("fgs", replicas=2))
    wait_for(lambda: (apps.read_namespaced_stateful_set("fgs", ns).status.ready_replicas or 0) == 2, 5)
    s = apps.delete_namespaced_stateful_set("fgs", ns, propagation_policy="Foreground")
    assert s["metadata"]["deletionTimestamp"] and "foregroundDeletion" in s["metadata"]["finalizers"]

    def all_gone():
        try:
            apps.read_namespaced_stateful_set("fgs", ns)
            return False
        except client.ApiException as e:
            return e.status == 404 and not v1.list_namespaced_pod(ns, label_selector="app=fgs").items
    wait_for(all_gone, 5, what="foreground cascade")


def test_typed_client_reads_every_served_kind(api, apps, v1, ns):
    """Every kind the double serves (including controller-written ones: ReplicaSet, ControllerRevision,
    Endpoints, Event, Node, PV) deserializes into the official client's strict models.
    https://kubernetes.io/docs/reference/using-api/api-concepts/#standard-api-terminology"""
    rbac, st, coord = client.RbacAuthorizationV1Api(api), client.StorageV1Api(api), client.CoordinationV1Api(api)
    v1.create_namespaced_service(ns, {"metadata": {"name": "all"}, "spec": {
        "clusterIP": "None", "selector": {"app": "all"}, "ports": [{"port": 80}]}})
    v1.create_namespaced_service_account(ns, {"metadata": {"name": "sa"}})
    v1.create_namespaced_secret(ns, {"metadata": {"name": "s"}, "stringData": {"k": "v"}})
    coord.create_namespaced_lease(ns, {"metadata": {"name": "l"}, "spec": {"holderIdentity": "x"}})
    apply(apps.patch_namespaced_stateful_set, "all", ns, sts_manifest("all", replicas=1))
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "dep"}, "spec": {
        "selector": {"matchLabels": {"d": "1"}}, "template": {"metadata": {"labels": {"d": "1"}}, "spec": {
            "containers": [{"name": "c", "image": "busybox:1.36"}]}}}})
    wait_for(lambda: (apps.read_namespaced_deployment("dep", ns).status.available_replicas or 0) == 1, 5)
    wait_for(lambda: (apps.read_namespaced_stateful_set("all", ns).status.ready_replicas or 0) == 1, 5)
    assert v1.read_namespaced_secret("s", ns).data == {"k": "dg=="}
    calls = [v1.list_namespace, v1.list_node, v1.list_persistent_volume,
             lambda: v1.list_namespaced_pod(ns), lambda: v1.list_namespaced_service(ns),
             lambda: v1.list_namespaced_endpoints(ns), lambda: v1.list_namespaced_event(ns),
             lambda: v1.list_namespaced_service_account(ns), lambda: v1.list_namespaced_persistent_volume_claim(ns),
             lambda: v1.list_namespaced_config_map(ns), lambda: v1.list_namespaced_secret(ns),
             lambda: apps.list_namespaced_deployment(ns), lambda: apps.list_namespaced_replica_set(ns),
             lambda: apps.list_namespaced_stateful_set(ns), lambda: apps.list_namespaced_controller_revision(ns),
             rbac.list_cluster_role, rbac.list_cluster_role_binding, lambda: rbac.list_namespaced_role(ns),
             lambda: rbac.list_namespaced_role_binding(ns), st.list_storage_class,
             lambda: coord.list_namespaced_lease(ns)]
    for call in calls:
        call()
    ep = v1.read_namespaced_endpoints("all", ns)
    assert ep.subsets[0].addresses[0].hostname == "all-0"
    nodes = v1.list_node().items
    assert [n.metadata.name for n in nodes] == ["lab-node-1", "lab-node-2", "lab-node-3"]
    assert "test double" in nodes[0].status.node_info.os_image
    assert v1.read_namespaced_pod_log("all-0", ns).startswith("(stateful.nfs test double")
