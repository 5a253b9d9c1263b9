"""stateful.nfs.statefulset and statefulset_info, run in-process against the in-test API fake."""

from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.modules import (
    statefulset,
    statefulset_info,
)

from tests.unit.plugins.module_utils.k8s.fakeapi import (
    make_pod,
    run_module,
    warnings_of,
)

VCT = {"name": "nginx-pvc", "storage_class_name": "managed-nfs-storage", "access_modes": ["ReadWriteOnce"],
       "size": "1Gi", "mount_path": "/usr/share/nginx/html"}


def args(fake, **over):
    a = {"host": fake.url, "api_key": "tok-9f3a", "name": "web", "replicas": 3, "labels": {"app": "nginx"},
         "container_name": "nginx", "image": "nginx:1.27", "ports": [{"name": "web", "container_port": 80}],
         "volume_claim_templates": [dict(VCT)]}
    a.update(over)
    return a


def sts_controller(fake, method, path):
    """Just enough StatefulSet controller: status + ready pods at the update revision, PVCs."""
    for (kind, ns, name), s in list(fake.objects.items()):
        if kind != "StatefulSet":
            continue
        s.setdefault("status", {})
        s["status"].update({"observedGeneration": s["metadata"]["generation"],
                            "updateRevision": "{}-rev{}".format(name, s["metadata"]["generation"]),
                            "currentRevision": "{}-rev{}".format(name, s["metadata"]["generation"])})
        start = (s["spec"].get("ordinals") or {}).get("start", 0)
        for key in [k for k in fake.objects if k[0] == "Pod" and k[1] == ns]:
            del fake.objects[key]
        for i in range(s["spec"]["replicas"]):
            pod = make_pod(s, start + i, revision=s["status"]["updateRevision"])
            fake.objects[("Pod", ns, pod["metadata"]["name"])] = pod
            for v in s["spec"].get("volumeClaimTemplates") or []:
                pvc_name = "{}-{}".format(v["metadata"]["name"], pod["metadata"]["name"])
                pv_name = f"pvc-{pvc_name}"
                fake.objects.setdefault(("PersistentVolumeClaim", ns, pvc_name), {
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": pvc_name, "namespace": ns, "labels": dict(s["spec"]["selector"]
                                                                                   ["matchLabels"])},
                    "spec": {"storageClassName": v["spec"].get("storageClassName"), "volumeName": pv_name},
                    "status": {"phase": "Bound"}})
                fake.objects.setdefault(("PersistentVolume", None, pv_name), {
                    "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
                    "spec": {"storageClassName": v["spec"].get("storageClassName"),
                             "capacity": {"storage": "1Gi"},
                             "nfs": {"server": "192.0.2.20",
                                     "path": f"/home/nfs/{ns}-{pvc_name}-{pv_name}"}}})


def test_seed_create_wait_timeline_and_idempotent_rerun(fake_api, capsys):
    fake_api.hooks.append(sts_controller)
    res = run_module(statefulset.main, args(fake_api, wait=True), capsys, diff=True)
    assert res["changed"] is True, res
    assert [(o["kind"], o["action"]) for o in res["objects"]] == [("Service", "create"), ("StatefulSet", "create")]
    assert res["pvc_names"] == ["nginx-pvc-web-0", "nginx-pvc-web-1", "nginx-pvc-web-2"]
    assert res["rollout"]["ready"] is True and res["rollout"]["in_order"] is True
    assert [e["pod"] for e in res["rollout"]["timeline"]] == ["web-0", "web-1", "web-2"]
    svc = fake_api.get("Service", "web", "default")
    assert svc["spec"]["clusterIP"] == "None"
    fake_api.clear_log()
    res = run_module(statefulset.main, args(fake_api, wait=True), capsys)
    assert res["changed"] is False
    assert fake_api.writes() == []


def test_check_mode_and_diff(fake_api, capsys):
    res = run_module(statefulset.main, args(fake_api), capsys, check_mode=True, diff=True)
    assert res["changed"] is True
    assert all(w["query"].get("dryRun") == "All" for w in fake_api.writes())
    assert fake_api.get("StatefulSet", "web", "default") is None
    assert "serviceName: web" in res["diff"][1]["after"]
    run_module(statefulset.main, args(fake_api), capsys)
    fake_api.clear_log()
    res = run_module(statefulset.main, args(fake_api, image="nginx:1.28"), capsys, check_mode=True, diff=True)
    assert res["changed"] is True and len(res["diff"]) == 1
    assert "nginx:1.27" in res["diff"][0]["before"] and "nginx:1.28" in res["diff"][0]["after"]
    assert fake_api.get("StatefulSet", "web", "default")["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "nginx:1.27")


@pytest.mark.parametrize("over, field", [
    ({"volume_claim_templates": [dict(VCT, size="2Gi")]}, "spec.volumeClaimTemplates"),
    ({"service_name": "web2"}, "spec.serviceName"),
    ({"pod_management_policy": "Parallel"}, "spec.podManagementPolicy"),
    ({"labels": {"app": "nginx", "v": "2"}, "selector": {"app": "nginx", "v": "2"}}, "spec.selector"),
])
def test_immutable_change_fails_before_writing(fake_api, capsys, over, field):
    run_module(statefulset.main, args(fake_api), capsys)
    fake_api.clear_log()
    res = run_module(statefulset.main, args(fake_api, **over), capsys)
    assert res["failed"] is True
    assert res["msg"].startswith(f"StatefulSet default/web: cannot change immutable field {field}.")
    assert "recreate_on_immutable_change: true" in res["msg"] and "cascade: orphan" in res["msg"]
    assert res["immutable_fields"] == [field]
    assert fake_api.writes() == []


def test_recreate_orphans_and_keeps_pods_and_pvcs(fake_api, capsys):
    fake_api.hooks.append(sts_controller)
    run_module(statefulset.main, args(fake_api), capsys)
    fake_api.hooks.clear()
    sts_controller(fake_api, "GET", "/")  # the controller's reaction to the new StatefulSet
    pods_before = {k for k in fake_api.objects if k[0] == "Pod"}
    pvcs_before = {k for k in fake_api.objects if k[0] == "PersistentVolumeClaim"}
    assert len(pods_before) == 3 and len(pvcs_before) == 3
    fake_api.clear_log()
    res = run_module(statefulset.main, args(fake_api, volume_claim_templates=[dict(VCT, size="2Gi")],
                                            recreate_on_immutable_change=True), capsys)
    assert res["changed"] and res["recreated_because"] == ["spec.volumeClaimTemplates"]
    assert res["objects"][-1]["action"] == "recreate"
    deletes = [w for w in fake_api.writes() if w["method"] == "DELETE"]
    assert len(deletes) == 1 and deletes[0]["body"]["propagationPolicy"] == "Orphan"
    assert "/statefulsets/web" in deletes[0]["path"]
    assert {k for k in fake_api.objects if k[0] == "Pod"} == pods_before
    assert {k for k in fake_api.objects if k[0] == "PersistentVolumeClaim"} == pvcs_before
    new = fake_api.get("StatefulSet", "web", "default")
    assert new["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_missing_storage_class_fails_clearly(fake_api, capsys):
    res = run_module(statefulset.main, args(fake_api, volume_claim_templates=[dict(VCT, storage_class_name="nope")]),
                     capsys)
    assert res["failed"]
    assert res["msg"].startswith("volume_claim_templates[0].storage_class_name: StorageClass 'nope' does not exist")
    assert fake_api.writes() == []


def test_no_class_without_a_default_class_is_refused_before_any_write(fake_api, capsys):
    res = run_module(statefulset.main, args(fake_api, volume_claim_templates=[dict(VCT, storage_class_name=None)]),
                     capsys)
    assert res["failed"] and res["msg"].startswith("volume_claim_templates[0].storage_class_name: not set, and the"
                                                   " cluster has no default StorageClass")
    assert fake_api.writes() == []


def test_existing_non_headless_service_fails(fake_api, capsys):
    fake_api.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                  "spec": {"clusterIP": "10.96.3.4", "selector": {"app": "nginx"}}})
    res = run_module(statefulset.main, args(fake_api), capsys)
    assert res["failed"] and "exists with clusterIP 10.96.3.4" in res["msg"]
    assert fake_api.writes() == []


def test_create_service_false_warns_when_service_name_names_no_service(fake_api, capsys):
    """Found by a new user: with create_service: false and no Service, the pods got no DNS records
    and nothing said so before the proof failed."""
    res = run_module(statefulset.main, args(fake_api, create_service=False, wait=False), capsys)
    assert not res.get("failed"), res
    assert any("create_service: false and spec.serviceName 'web' names no Service" in w for w in warnings_of(res))
    fake_api.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                  "spec": {"clusterIP": "None", "selector": {"app": "nginx"}}})
    again = run_module(statefulset.main, args(fake_api, create_service=False, wait=False), capsys)
    assert not [w for w in warnings_of(again) if "names no Service" in w]


@pytest.mark.parametrize("cascade, policy", [("background", "Background"), ("foreground", "Foreground"),
                                             ("orphan", "Orphan")])
def test_absent_cascade_keeps_pvcs(fake_api, capsys, cascade, policy):
    fake_api.hooks.append(sts_controller)
    run_module(statefulset.main, args(fake_api), capsys)
    fake_api.hooks.clear()
    sts_controller(fake_api, "GET", "/")  # the controller's reaction to the new StatefulSet
    fake_api.clear_log()
    res = run_module(statefulset.main, {"host": fake_api.url, "name": "web", "state": "absent", "cascade": cascade,
                                        "wait": True, "wait_timeout": 5}, capsys)
    assert res["changed"] and res["cascade"] == cascade
    assert res["pvcs_kept"] == ["nginx-pvc-web-0", "nginx-pvc-web-1", "nginx-pvc-web-2"]
    assert res["pvcs_deleted"] == []
    sts_delete = next(w for w in fake_api.writes() if "/statefulsets/" in w["path"])
    assert sts_delete["body"]["propagationPolicy"] == policy
    assert not any("persistentvolumeclaims" in w["path"] for w in fake_api.writes())
    assert len([k for k in fake_api.objects if k[0] == "PersistentVolumeClaim"]) == 3
    assert fake_api.get("Service", "web", "default") is None
    pods = ["web-0", "web-1", "web-2"]
    if cascade == "orphan":  # proved left running on their own, the same pods
        assert sorted(res["pods_orphaned"]) == pods and "pods_deleted" not in res
        assert all(fake_api.get("Pod", p, "default")["metadata"]["ownerReferences"] == [] for p in pods)
    else:  # waited for until gone
        assert res["pods_deleted"] == pods and "pods_orphaned" not in res


def test_absent_orphan_that_leaves_no_pod_running_fails_naming_it(fake_api, capsys):
    fake_api.hooks.append(sts_controller)
    run_module(statefulset.main, args(fake_api), capsys)
    fake_api.hooks.clear()
    sts_controller(fake_api, "GET", "/")

    def kubelet(fake, method, path):  # web-1 goes with the StatefulSet although orphaned
        if method == "DELETE" and "/statefulsets/" in path:
            fake.objects.pop(("Pod", "default", "web-1"), None)
    fake_api.hooks.append(kubelet)
    res = run_module(statefulset.main, {"host": fake_api.url, "name": "web", "state": "absent", "cascade": "orphan",
                                        "create_service": False, "wait": True, "wait_timeout": 5}, capsys)
    assert res["failed"] and "cascade orphan, but its pods were not left running on their own: web-1 is gone" in res["msg"]
    assert fake_api.get("Service", "web", "default") is not None  # create_service false: the Service stays


def test_absent_delete_pvcs(fake_api, capsys):
    fake_api.hooks.append(sts_controller)
    run_module(statefulset.main, args(fake_api), capsys)
    fake_api.hooks.clear()
    sts_controller(fake_api, "GET", "/")  # the controller's reaction to the new StatefulSet
    other = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "nginx-pvc-webby-0", "namespace": "default"}, "spec": {}}
    fake_api.put(other)
    res = run_module(statefulset.main, {"host": fake_api.url, "name": "web", "state": "absent", "delete_pvcs": True},
                     capsys)
    assert res["pvcs_deleted"] == ["nginx-pvc-web-0", "nginx-pvc-web-1", "nginx-pvc-web-2"]
    assert [k[2] for k in fake_api.objects if k[0] == "PersistentVolumeClaim"] == ["nginx-pvc-webby-0"]
    res = run_module(statefulset.main, {"host": fake_api.url, "name": "web", "state": "absent"}, capsys)
    assert res["changed"] is False


@pytest.mark.parametrize("over, needle", [
    ({"name": "Web"}, "name: 'Web' is not a valid DNS-1123 label"),
    ({"replicas": -1}, "replicas: must be >= 0, got -1"),
    ({"volume_claim_templates": [dict(VCT, size="lots")]}, ("volume_claim_templates[0].size: 'lots' is not a"
                                                            " Kubernetes quantity")),
    ({"volume_claim_templates": [dict(VCT, access_modes=["ReadWriteMany", "WriteOnly"])]}, "access_modes"),
])
def test_bad_input_fails_before_any_request(fake_api, capsys, over, needle):
    res = run_module(statefulset.main, args(fake_api, **over), capsys)
    assert res["failed"] is True and needle in res["msg"], res["msg"]
    assert fake_api.requests == []


def test_unreachable_api(capsys):
    res = run_module(statefulset.main, {"host": "http://127.0.0.1:9", "api_key": "tok-9f3a", "name": "web",
                                        "image": "nginx"}, capsys)
    assert res["failed"] and "cannot reach the Kubernetes API at http://127.0.0.1:9" in res["msg"]


def test_wait_timeout_message_through_module(fake_api, capsys):
    def never_ready(fake, method, path):
        s = fake.objects.get(("StatefulSet", "default", "web"))
        if s is not None:
            s["status"] = {"observedGeneration": s["metadata"]["generation"], "updateRevision": "r1"}
            pod = make_pod(s, 0, ready=False, revision="r1")
            fake.objects[("Pod", "default", "web-0")] = pod
            fake.objects[("Event", "default", "ev1")] = {
                "apiVersion": "v1", "kind": "Event", "metadata": {"name": "ev1", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "web-0"}, "type": "Warning", "reason": "Failed",
                "message": "Error: ImagePullBackOff", "lastTimestamp": "2024-05-01T10:00:00Z"}

    fake_api.hooks.append(never_ready)
    res = run_module(statefulset.main, args(fake_api, replicas=1, wait=True, wait_timeout=1), capsys)
    assert res["failed"] is True
    assert res["msg"].startswith("Timed out after 1s waiting for StatefulSet default/web: 0/1 pods ready")
    assert "web-0: not ready; phase Pending" in res["msg"] and "ImagePullBackOff" in res["msg"]
    assert res["changed"] is True  # the StatefulSet was created before the wait


def test_info_identity_table(fake_api, capsys):
    fake_api.hooks.append(sts_controller)
    run_module(statefulset.main, args(fake_api), capsys)
    sts_controller(fake_api, "GET", "/")
    fake_api.clear_log()
    res = run_module(statefulset_info.main, {"host": fake_api.url, "name": "web"}, capsys, check_mode=True)
    assert res["changed"] is False and res["exists"] is True
    assert fake_api.writes() == []
    rows = res["pods"]
    assert [r["name"] for r in rows] == ["web-0", "web-1", "web-2"]
    r0 = rows[0]
    assert r0["ordinal"] == 0 and r0["hostname"] == "web-0" and r0["subdomain"] == "web"
    assert r0["dns_name"] == "web-0.web.default.svc.cluster.local"
    assert r0["pvc"] == "nginx-pvc-web-0" and r0["pv"] == "pvc-nginx-pvc-web-0"
    assert r0["storage_class"] == "managed-nfs-storage" and r0["nfs_server"] == "192.0.2.20"
    assert r0["nfs_path"] == "/home/nfs/default-nginx-pvc-web-0-pvc-nginx-pvc-web-0"
    assert r0["ready"] is True and r0["phase"] == "Running" and r0["pod_ip"]
    assert len({r["nfs_path"] for r in rows}) == 3
    assert res["missing_ordinals"] == []
    res = run_module(statefulset_info.main, {"host": fake_api.url, "name": "web", "cluster_domain": "k8s.example"},
                     capsys)
    assert res["pods"][2]["dns_name"] == "web-2.web.default.svc.k8s.example"


def test_info_other_names_and_ordinals(fake_api, capsys):
    fake_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    fake_api.hooks.append(sts_controller)
    run_module(statefulset.main, args(fake_api, name="db", namespace="shop", service_name="db-hl", replicas=2,
                                      labels={"app": "pg"}, ordinals_start=1,
                                      volume_claim_templates=[dict(VCT, name="data")]), capsys)
    res = run_module(statefulset_info.main, {"host": fake_api.url, "name": "db", "namespace": "shop"}, capsys)
    assert [(r["ordinal"], r["dns_name"], r["pvc"]) for r in res["pods"]] == [
        (1, "db-1.db-hl.shop.svc.cluster.local", "data-db-1"),
        (2, "db-2.db-hl.shop.svc.cluster.local", "data-db-2")]


def test_info_absent_statefulset(fake_api, capsys):
    res = run_module(statefulset_info.main, {"host": fake_api.url, "name": "nope"}, capsys)
    assert res["exists"] is False and res["pods"] == []


def test_create_namespace_for_the_statefulset(fake_api, capsys):
    missing = run_module(statefulset.main, args(fake_api, namespace="shop"), capsys)
    assert missing["failed"] and "namespace 'shop' does not exist" in missing["msg"]
    assert "create_namespace: true" in missing["msg"] and fake_api.writes() == []
    res = run_module(statefulset.main, args(fake_api, namespace="shop", create_namespace=True), capsys)
    assert res["changed"] is True
    assert [(o["kind"], o["action"]) for o in res["objects"]][:1] == [("Namespace", "create")]
    assert fake_api.get("StatefulSet", "web", "shop") is not None
    fake_api.clear_log()
    again = run_module(statefulset.main, args(fake_api, namespace="shop", create_namespace=True), capsys)
    assert again["changed"] is False and fake_api.writes() == []


def test_info_returns_the_server_version(fake_api, capsys):
    res = run_module(statefulset_info.main, {"host": fake_api.url, "name": "web"}, capsys)
    assert res["server_version"]["gitVersion"] == "v1.34.0-fake"
    assert any(r["path"] == "/version" for r in fake_api.requests)


DEFINITION = {
    "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "redis"},
    "spec": {"serviceName": "redis", "replicas": 2, "selector": {"matchLabels": {"app": "redis"}},
             "template": {"metadata": {"labels": {"app": "redis"}}, "spec": {
                 "containers": [{"name": "redis", "image": "redis:7", "command": ["redis-server", "--appendonly", "yes"],
                                 "ports": [{"name": "redis", "containerPort": 6379}],
                                 "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
             "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                 "storageClassName": "managed-nfs-storage", "accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}}}]},
}


def definition_args(fake, **over):
    return dict({"host": fake.url, "api_key": "tok-9f3a", "definition": DEFINITION}, **over)


def test_a_definition_is_dry_run_by_the_server_before_the_first_write_then_applied_once(fake_api, capsys):
    res = run_module(statefulset.main, definition_args(fake_api), capsys)
    assert res["changed"] is True, res
    assert [(o["kind"], o["name"], o["action"]) for o in res["objects"]] == [
        ("Service", "redis", "create"), ("StatefulSet", "redis", "create")]
    assert res["pvc_names"] == ["data-redis-0", "data-redis-1"]
    writes = [(w["method"], w["path"].rsplit("/", 2)[-2], w["query"].get("dryRun"), w["query"].get("fieldValidation"))
              for w in fake_api.writes()]
    # both judged by the server (dry run, strict field validation) before either is written
    assert writes == [("PATCH", "services", "All", "Strict"), ("PATCH", "statefulsets", "All", "Strict"),
                      ("PATCH", "services", None, None), ("PATCH", "statefulsets", None, None)]
    sts = fake_api.get("StatefulSet", "redis", "default")
    assert sts["spec"]["template"]["spec"]["containers"][0]["command"] == ["redis-server", "--appendonly", "yes"]
    assert sts["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "stateful.nfs"}
    assert fake_api.get("Service", "redis", "default")["spec"]["ports"][0]["port"] == 6379
    fake_api.clear_log()
    res = run_module(statefulset.main, definition_args(fake_api), capsys)
    assert res["changed"] is False and fake_api.writes() == []


def test_a_definition_refused_by_its_rules_sends_no_request_at_all(fake_api, capsys):
    bad = {**DEFINITION, "spec": {**DEFINITION["spec"], "selector": {"matchLabels": {"app": "web"}}}}
    res = run_module(statefulset.main, definition_args(fake_api, definition=bad), capsys)
    assert res["failed"] and res["msg"].startswith("definition.spec.selector: {'matchLabels': {'app': 'web'}} does not"
                                                   " match the pod template's labels")
    assert fake_api.requests == []


def test_a_server_refusal_of_the_dry_run_names_the_field_and_nothing_is_written(fake_api, capsys):
    fake_api.faults.append(("PATCH", "/statefulsets/redis", 422))
    res = run_module(statefulset.main, definition_args(fake_api), capsys)
    assert res["failed"] and res["msg"].startswith("definition: the API server refuses StatefulSet default/redis:")
    assert [w["query"].get("dryRun") for w in fake_api.writes()] == ["All", "All"]


def test_definition_and_shorthand_options_exclude_each_other(fake_api, capsys):
    res = run_module(statefulset.main, definition_args(fake_api, image="redis:8"), capsys)
    assert res["failed"] and res["msg"] == "parameters are mutually exclusive: definition|image"
    assert fake_api.requests == []


def test_fields_another_manager_set_are_reported_also_on_an_unchanged_run(fake_api, capsys):
    res = run_module(statefulset.main, args(fake_api), capsys)
    assert res["changed"] is True and res["foreign_fields"] == []
    live = fake_api.get("StatefulSet", "web", "default")
    live["metadata"]["managedFields"].append(
        {"manager": "kubectl-patch", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:template": {"f:metadata": {"f:labels": {"f:tier": {}}}}}}})
    live["spec"]["template"]["metadata"]["labels"]["tier"] = "edge"
    res = run_module(statefulset.main, args(fake_api), capsys)
    assert res["changed"] is False
    assert res["foreign_fields"] == [{"manager": "kubectl-patch", "field": "spec.template.metadata.labels.tier"}]
    assert any("kubectl-patch: spec.template.metadata.labels.tier" in str(w) for w in res.get("warnings", [])), res.get("warnings")


@pytest.mark.parametrize("over, needle", [
    # the walkthrough's labels under another name: the two selectors match each other's pods
    ({"name": "shop"}, "selector: {'matchLabels': {'app': 'nginx'}} would select the pods of StatefulSet default/web"),
    # labels of its own, but the other one's governing Service
    ({"name": "shop", "labels": {"app": "shop"}, "service_name": "web"},
     "service_name: Service default/web already governs StatefulSet default/web"),
])
def test_a_statefulset_that_would_mix_with_another_is_refused_before_any_write(fake_api, capsys, over, needle):
    """Failure mode (issue 24.4): a second StatefulSet in one namespace shared the first one's
    Service and selector; DNS then answered six addresses."""
    assert not run_module(statefulset.main, args(fake_api), capsys).get("failed")
    fake_api.clear_log()
    res = run_module(statefulset.main, args(fake_api, **over), capsys)
    assert res["failed"] is True and needle in res["msg"], res["msg"]
    assert fake_api.writes() == []
    # with labels and a Service of its own it is accepted
    res = run_module(statefulset.main, args(fake_api, name="shop", labels={"app": "shop"}), capsys)
    assert not res.get("failed"), res.get("msg")


def test_a_definitions_selector_is_named_by_its_json_path(fake_api, capsys):
    assert not run_module(statefulset.main, args(fake_api), capsys).get("failed")
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "other", "namespace": "default"},
           "spec": {"serviceName": "other", "replicas": 1, "selector": {"matchExpressions": [
               {"key": "app", "operator": "In", "values": ["nginx", "other"]}]},
               "template": {"metadata": {"labels": {"app": "other"}},
                            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
    res = run_module(statefulset.main, {"host": fake_api.url, "definition": sts}, capsys)
    assert res["failed"] is True and res["msg"].startswith("definition.spec.selector: "), res["msg"]


def test_teardown_leaves_a_service_another_statefulset_uses(fake_api, capsys):
    fake_api.hooks.append(sts_controller)
    run_module(statefulset.main, args(fake_api), capsys)
    fake_api.hooks.clear()
    # made before this collection refused it: a second StatefulSet governed by Service web
    fake_api.put({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "legacy", "namespace": "default"},
                  "spec": {"serviceName": "web", "replicas": 0, "selector": {"matchLabels": {"app": "legacy"}},
                           "template": {"metadata": {"labels": {"app": "legacy"}}, "spec": {"containers": []}}}})
    res = run_module(statefulset.main, {"host": fake_api.url, "name": "web", "state": "absent"}, capsys)
    assert res["changed"] is True
    assert fake_api.get("StatefulSet", "web", "default") is None
    assert fake_api.get("Service", "web", "default") is not None
    assert any("also governs StatefulSet(s) legacy: left in place" in str(w) for w in res.get("warnings", [])), res


def test_the_missing_service_warning_gives_advice_the_module_takes(fake_api, capsys):
    """Found in a user's trial: the warning advised "or give it with the service option", which the
    module refuses with create_service: false. The advice given now is taken as it is said."""
    res = run_module(statefulset.main, definition_args(fake_api, create_service=False, wait=False), capsys)
    warning = next(w for w in warnings_of(res) if "names no Service" in w)
    assert "drop create_service: false and the module creates it" in warning, warning
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "redis"},
           "spec": {"clusterIP": "None", "selector": {"app": "redis"}, "ports": [{"name": "redis", "port": 6379}]}}
    # what the old advice said is refused
    old = run_module(statefulset.main, definition_args(fake_api, create_service=False, service=svc, wait=False), capsys)
    assert old["failed"] and "but create_service is false" in old["msg"]
    # the advice followed: create_service: false dropped, the user's manifest in the service option
    taken = run_module(statefulset.main, definition_args(fake_api, service=svc, wait=False), capsys)
    assert not taken.get("failed"), taken.get("msg")
    assert fake_api.get("Service", "redis", "default")["spec"]["clusterIP"] == "None"
