"""stateful.nfs.nfs_provisioner, run in-process against the in-test API fake."""

from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.retry import RetryPolicy
from ansible_collections.stateful.nfs.plugins.modules import nfs_provisioner

from tests.unit.plugins.module_utils.k8s.fakeapi import FakeApi, run_module, warnings_of

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}


@pytest.fixture
def fake_api(monkeypatch):
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.0)
    fake = FakeApi(token="s3cret").start()
    fake.put(NS)
    yield fake
    fake.stop()


def args(fake, **over):
    a = {"host": fake.url, "api_key": "s3cret", "nfs_server": "192.0.2.20", "nfs_path": "/home/nfs",
         "wait": False}
    a.update(over)
    return a


def make_available(fake, method, path):
    """Minimal Deployment controller: every stored provisioner Deployment is Available."""
    dep = fake.objects.get(("Deployment", "default", "nfs-client-provisioner"))
    if dep is not None:
        n = dep["spec"]["replicas"]
        dep["status"] = {"observedGeneration": dep["metadata"]["generation"], "replicas": n,
                         "updatedReplicas": n, "availableReplicas": n, "readyReplicas": n,
                         "conditions": [{"type": "Available", "status": "True"}]}


def test_create_wait_and_idempotent_rerun(fake_api, capsys):
    fake_api.hooks.append(make_available)
    res = run_module(nfs_provisioner.main, args(fake_api, wait=True), capsys, diff=True)
    assert res["changed"] is True, res
    assert [o["action"] for o in res["objects"]] == ["create"] * 7
    assert res["deployment"]["ready"] is True
    assert res["names"]["cluster_role_binding"] == "default:run-nfs-client-provisioner"
    assert len(res["diff"]) == 7
    sc = fake_api.get("StorageClass", "managed-nfs-storage")
    assert sc["provisioner"] == "fuseim.pri/ifs" and sc["parameters"] == {"archiveOnDelete": "true"}
    fake_api.clear_log()
    res = run_module(nfs_provisioner.main, args(fake_api, wait=True), capsys)
    assert res["changed"] is False
    assert {o["action"] for o in res["objects"]} == {"unchanged"}
    assert fake_api.writes() == []
    assert "diff" not in res


def test_check_mode_persists_nothing(fake_api, capsys):
    res = run_module(nfs_provisioner.main, args(fake_api, wait=True), capsys, check_mode=True, diff=True)
    assert res["changed"] is True
    writes = fake_api.writes()
    assert len(writes) == 7 and all(w["query"].get("dryRun") == "All" for w in writes)
    assert [k for k in fake_api.objects if k[0] != "Namespace"] == []
    assert "deployment" not in res  # no wait in check mode
    assert "image: registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2" in res["diff"][5]["after"]


def test_change_reports_diff_for_changed_objects_only(fake_api, capsys):
    run_module(nfs_provisioner.main, args(fake_api), capsys)
    fake_api.clear_log()
    copy = "registry.example.com/sig-storage/nfs-subdir-external-provisioner:v4.0.2"
    res = run_module(nfs_provisioner.main, args(fake_api, image=copy), capsys, diff=True)
    assert res["changed"] is True
    assert [(o["kind"], o["action"]) for o in res["objects"] if o["changed"]] == [("Deployment", "update")]
    assert len(fake_api.writes()) == 1
    assert len(res["diff"]) == 1 and copy in res["diff"][0]["after"]


def test_storage_class_with_other_provisioner_warns_and_fails_before_writing(fake_api, capsys):
    fake_api.put({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                  "metadata": {"name": "managed-nfs-storage"}, "provisioner": "example.com/other"})
    res = run_module(nfs_provisioner.main, args(fake_api), capsys)
    assert res["failed"] is True
    assert "PVCs of class managed-nfs-storage would stay Pending" in res["msg"]
    assert res["msg"].startswith("provisioner_name: ")
    assert any("would stay Pending" in w for w in warnings_of(res))
    assert fake_api.writes() == []


def test_replace_storage_class(fake_api, capsys):
    fake_api.put({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                  "metadata": {"name": "managed-nfs-storage"}, "provisioner": "example.com/other"})
    res = run_module(nfs_provisioner.main, args(fake_api, replace_storage_class=True), capsys)
    assert res["changed"] and res["objects"][-1]["action"] == "recreate"
    assert fake_api.get("StorageClass", "managed-nfs-storage")["provisioner"] == "fuseim.pri/ifs"


def test_absent_removes_only_its_objects_and_never_data(fake_api, capsys):
    run_module(nfs_provisioner.main, args(fake_api), capsys)
    pv = fake_api.put({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pvc-1"},
                       "spec": {"nfs": {"server": "192.0.2.20", "path": "/home/nfs/x"}}})
    foreign = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "nfs-client-provisioner", "namespace": "default"}}
    fake_api.objects.pop(("ServiceAccount", "default", "nfs-client-provisioner"))
    fake_api.put(foreign, manager="kubectl")
    fake_api.clear_log()
    res = run_module(nfs_provisioner.main, args(fake_api, state="absent", nfs_server=None, nfs_path=None),
                     capsys)
    assert res["changed"] is True
    deleted = [(o["kind"], o["action"]) for o in res["objects"]]
    assert deleted == [("StorageClass", "delete"), ("Deployment", "delete"), ("RoleBinding", "delete"),
                       ("Role", "delete"), ("ClusterRoleBinding", "delete"), ("ClusterRole", "delete"),
                       ("ServiceAccount", "skipped")]
    assert any("not created by stateful.nfs" in w for w in warnings_of(res))
    assert fake_api.get("PersistentVolume", "pvc-1") == pv
    assert all(w["method"] == "DELETE" and "persistentvolume" not in w["path"] for w in fake_api.writes())
    res = run_module(nfs_provisioner.main, args(fake_api, state="absent"), capsys)
    assert res["changed"] is False


@pytest.mark.parametrize("over, needle", [
    ({"name": "Bad_Name"}, "name: 'Bad_Name' is not a valid DNS-1123 label"),
    ({"replicas": -1}, "replicas: must be >= 0, got -1"),
    ({"nfs_path": "relative"}, "nfs_path: 'relative' must be an absolute path"),
    ({"namespace": "UPPER"}, "namespace: 'UPPER' is not a valid DNS-1123 label"),
    ({"resources": {"limits": {"memory": "12 GB"}}}, "resources.limits.memory: '12 GB' is not a Kubernetes quantity"),
])
def test_bad_input_fails_before_any_request(fake_api, capsys, over, needle):
    res = run_module(nfs_provisioner.main, args(fake_api, **over), capsys)
    assert res["failed"] is True and needle in res["msg"], res["msg"]
    assert fake_api.requests == []


def test_missing_namespace_fails_before_writing(fake_api, capsys):
    res = run_module(nfs_provisioner.main, args(fake_api, namespace="storage"), capsys)
    assert res["failed"] and "namespace 'storage' does not exist" in res["msg"]
    assert fake_api.writes() == []


def test_wrong_token(fake_api, capsys):
    res = run_module(nfs_provisioner.main, args(fake_api, api_key="wrong"), capsys)
    assert res["failed"] and res["status"] == 401
    assert "HTTP 401 Unauthorized" in res["msg"] and "rejected the credentials" in res["msg"]
    assert "wrong" not in res["msg"]


def test_kubeconfig_missing(fake_api, capsys, tmp_path):
    res = run_module(nfs_provisioner.main, {"kubeconfig": str(tmp_path / "kc"), "nfs_server": "h",
                                            "nfs_path": "/x"}, capsys)
    assert res["failed"] and res["msg"] == "kubeconfig %s does not exist (option kubeconfig /" \
                                           " K8S_AUTH_KUBECONFIG)" % (tmp_path / "kc")


def test_env_fallbacks(fake_api, capsys, monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", fake_api.url)
    monkeypatch.setenv("K8S_AUTH_API_KEY", "s3cret")
    res = run_module(nfs_provisioner.main, {"nfs_server": "192.0.2.20", "nfs_path": "/home/nfs", "wait": False},
                     capsys)
    assert res["changed"] is True, res
    assert fake_api.requests[0]["authorization"] == "Bearer s3cret"


def test_transient_errors_are_retried(fake_api, capsys):
    fake_api.faults += [("PATCH", "/deployments/", 429), ("PATCH", "/deployments/", 500),
                        ("GET", "/storageclasses/", "reset")]
    res = run_module(nfs_provisioner.main, args(fake_api), capsys)
    assert res["changed"] is True and "failed" not in res
    assert fake_api.get("Deployment", "nfs-client-provisioner", "default") is not None


def test_persistent_500_reports_object_status_message_and_progress(fake_api, capsys):
    fake_api.faults += [("PATCH", "/deployments/", 500)] * 10
    res = run_module(nfs_provisioner.main, args(fake_api), capsys)
    assert res["failed"] is True
    assert res["msg"] == ("apply Deployment default/nfs-client-provisioner failed: HTTP 500 InternalError:"
                          " injected fault 500 (after 6 attempts)")
    # what was applied before the failure is reported, and a re-run converges
    assert res["changed"] is True and len(res["objects"]) == 5
    res = run_module(nfs_provisioner.main, args(fake_api), capsys)
    assert res["changed"] is True and [o["action"] for o in res["objects"]][-2:] == ["create", "create"]


def test_api_key_is_no_log(fake_api, capsys):
    from ansible.module_utils import basic

    seen = {}
    orig = basic.AnsibleModule.__init__

    def spy(self, *a, **kw):
        orig(self, *a, **kw)
        seen["no_log_values"] = set(self.no_log_values)

    basic.AnsibleModule.__init__ = spy
    try:
        run_module(nfs_provisioner.main, args(fake_api), capsys)
    finally:
        basic.AnsibleModule.__init__ = orig
    assert "s3cret" in seen["no_log_values"]


def test_create_namespace_creates_it_first_then_leaves_it_alone(fake_api, capsys):
    res = run_module(nfs_provisioner.main, args(fake_api, namespace="storage", create_namespace=True), capsys,
                     diff=True)
    assert res["changed"] is True, res
    first = res["objects"][0]
    assert (first["kind"], first["name"], first["action"]) == ("Namespace", "storage", "create")
    ns = fake_api.get("Namespace", "storage")
    assert ns["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "stateful.nfs"}
    assert fake_api.get("Deployment", "nfs-client-provisioner", "storage") is not None
    assert any(d["after_header"] == "Namespace storage (create)" for d in res["diff"])
    fake_api.clear_log()
    again = run_module(nfs_provisioner.main, args(fake_api, namespace="storage", create_namespace=True), capsys)
    assert again["changed"] is False and fake_api.writes() == []
    assert "Namespace" not in [o["kind"] for o in again["objects"]]


def test_create_namespace_check_mode_reports_without_writing(fake_api, capsys):
    res = run_module(nfs_provisioner.main, args(fake_api, namespace="storage", create_namespace=True), capsys,
                     check_mode=True)
    assert res["changed"] is True, res
    kinds = [(o["kind"], o["action"]) for o in res["objects"]]
    assert kinds[0] == ("Namespace", "create") and ("Deployment", "create") in kinds
    # the namespaced objects cannot be dry-run on the server before their namespace exists
    dep = next(o for o in res["objects"] if o["kind"] == "Deployment")
    assert "namespace storage would be created first" in dep["reason"]
    assert fake_api.get("Namespace", "storage") is None
    assert [w for w in fake_api.writes() if w["query"].get("dryRun") != "All"] == []


# ------------------------------------------------------------ the provisioner's own mount and its options
def _root_volume(fake):
    dep = fake.get("Deployment", "nfs-client-provisioner", "default")
    return next(v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "nfs-client-root")


def test_provisioner_mount_takes_the_mount_options(fake_api, capsys):
    """mount_options reach the provisioner's own mount, not only the StorageClass: a PV/PVC pair
    carrying them, bound to each other, which the Deployment mounts instead of an inline nfs volume."""
    res = run_module(nfs_provisioner.main, args(fake_api, mount_options=["nfsvers=3", "hard"]), capsys)
    assert res["changed"] is True, res
    root = res["names"]["root_volume"]
    assert root.startswith("nfs-client-provisioner-root-")
    assert _root_volume(fake_api) == {"name": "nfs-client-root", "persistentVolumeClaim": {"claimName": root}}
    pv = fake_api.get("PersistentVolume", root)
    assert pv["spec"]["mountOptions"] == ["nfsvers=3", "hard"]
    assert pv["spec"]["nfs"] == {"server": "192.0.2.20", "path": "/home/nfs"}
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["claimRef"] == {"namespace": "default", "name": root}
    pvc = fake_api.get("PersistentVolumeClaim", root, "default")
    assert pvc["spec"]["volumeName"] == root and pvc["spec"]["storageClassName"] == ""
    assert fake_api.get("StorageClass", "managed-nfs-storage")["mountOptions"] == ["nfsvers=3", "hard"]
    kinds = [o["kind"] for o in res["objects"]]
    assert kinds.index("PersistentVolume") < kinds.index("PersistentVolumeClaim") < kinds.index("Deployment")
    fake_api.clear_log()
    again = run_module(nfs_provisioner.main, args(fake_api, mount_options=["nfsvers=3", "hard"]), capsys)
    assert again["changed"] is False and fake_api.writes() == []


def test_changed_or_dropped_mount_options_replace_the_root_pair(fake_api, capsys):
    first = run_module(nfs_provisioner.main, args(fake_api, mount_options=["nfsvers=3"]), capsys)["names"]["root_volume"]
    res = run_module(nfs_provisioner.main, args(fake_api, mount_options=["nfsvers=4.1"]), capsys)
    second = res["names"]["root_volume"]
    assert second != first
    assert _root_volume(fake_api)["persistentVolumeClaim"]["claimName"] == second
    assert fake_api.get("PersistentVolume", second)["spec"]["mountOptions"] == ["nfsvers=4.1"]
    assert fake_api.get("PersistentVolume", first) is None
    assert fake_api.get("PersistentVolumeClaim", first, "default") is None
    deleted = [(o["kind"], o["name"]) for o in res["objects"] if o["action"] == "delete"]
    assert deleted == [("PersistentVolumeClaim", first), ("PersistentVolume", first)]
    # no options: the inline volume again, and the pair is gone
    res = run_module(nfs_provisioner.main, args(fake_api), capsys)
    assert res["names"]["root_volume"] is None
    assert _root_volume(fake_api) == {"name": "nfs-client-root", "nfs": {"server": "192.0.2.20", "path": "/home/nfs"}}
    assert fake_api.get("PersistentVolume", second) is None


def test_mount_options_check_mode_writes_nothing(fake_api, capsys):
    res = run_module(nfs_provisioner.main, args(fake_api, mount_options=["nfsvers=3"]), capsys, check_mode=True)
    assert res["changed"] is True
    assert {("PersistentVolume", "create"), ("PersistentVolumeClaim", "create")} <= {
        (o["kind"], o["action"]) for o in res["objects"]}
    assert all(w["query"].get("dryRun") == "All" for w in fake_api.writes())
    assert fake_api.get("PersistentVolume", res["names"]["root_volume"]) is None


def test_absent_removes_the_root_pair_too(fake_api, capsys):
    root = run_module(nfs_provisioner.main, args(fake_api, mount_options=["nfsvers=3"]), capsys)["names"]["root_volume"]
    other = fake_api.put({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pvc-data"},
                          "spec": {"nfs": {"server": "192.0.2.20", "path": "/home/nfs/data"}}})
    res = run_module(nfs_provisioner.main, args(fake_api, state="absent", nfs_server=None, nfs_path=None), capsys)
    assert ("PersistentVolumeClaim", root, "delete") in [(o["kind"], o["name"], o["action"]) for o in res["objects"]]
    assert fake_api.get("PersistentVolume", root) is None and fake_api.get("PersistentVolumeClaim", root, "default") is None
    assert fake_api.get("PersistentVolume", "pvc-data") == other


# ------------------------------------------------------------ quiet combinations: refused or warned, with the way out
@pytest.mark.parametrize("over, param", [
    ({"reclaim_policy": "Retain", "on_delete": "delete"}, "on_delete"),
    ({"reclaim_policy": "Retain", "archive_on_delete": False}, "archive_on_delete"),
])
def test_retain_with_a_delete_setting_is_refused(fake_api, capsys, over, param):
    res = run_module(nfs_provisioner.main, args(fake_api, **over), capsys)
    assert res["failed"] is True and res["param"] == param
    assert "reclaim_policy: Retain" in res["msg"] and "Set reclaim_policy: Delete" in res["msg"]
    assert fake_api.requests == []


@pytest.mark.parametrize("over, warned", [
    ({"reclaim_policy": "Retain", "archive_on_delete": True}, "archive_on_delete: true has no effect"),
    ({"reclaim_policy": "Retain", "on_delete": "retain"}, "on_delete: retain has no effect"),
    ({"reclaim_policy": "Retain"}, None),
    ({"reclaim_policy": "Delete", "archive_on_delete": True}, None),
    ({"reclaim_policy": "Delete", "on_delete": "delete"}, None),
])
def test_retain_with_an_archive_setting_warns(fake_api, capsys, over, warned):
    res = run_module(nfs_provisioner.main, args(fake_api, **over), capsys)
    assert res["changed"] is True, res
    found = [w for w in warnings_of(res) if "has no effect with reclaim_policy: Retain" in w]
    if warned is None:
        assert found == []
    else:
        assert len(found) == 1 and warned in found[0] and "Set reclaim_policy: Delete" in found[0]
    parameters = fake_api.get("StorageClass", "managed-nfs-storage")["parameters"]
    assert parameters["archiveOnDelete"] == "true"


@pytest.mark.parametrize("image", ["fxkjnj/nfs-client-provisioner:latest",
                                   "quay.io/external_storage/nfs-client-provisioner:v3.1.0-k8s1.11"])
def test_legacy_image_refused_where_it_cannot_work(fake_api, capsys, image):
    res = run_module(nfs_provisioner.main, args(fake_api, image=image, namespace="storage", create_namespace=True),
                     capsys)
    assert res["failed"] is True and res["param"] == "image"
    assert "selfLink" in res["msg"] and "v1.34.0-fake" in res["msg"]
    assert "Leave image out to use the maintained registry.k8s.io/sig-storage/nfs-subdir-external-provisioner" in res["msg"]
    assert fake_api.writes() == [] and fake_api.get("Namespace", "storage") is None


@pytest.mark.parametrize("image, minor, warned", [
    ("fxkjnj/nfs-client-provisioner:latest", "22", "is the retired nfs-client-provisioner"),
    ("registry.example.com/nfs-client-provisioner:v4.0.2", "34", "looks like the retired"),
    ("fxkjnj/nfs-client-provisioner:latest", "19", None),
    ("registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2", "34", None),
])
def test_legacy_image_warned_where_it_may_not_work(fake_api, capsys, image, minor, warned):
    fake_api.version = {"major": "1", "minor": minor, "gitVersion": f"v1.{minor}.3"}
    res = run_module(nfs_provisioner.main, args(fake_api, image=image), capsys)
    assert res["changed"] is True, res
    found = [w for w in warnings_of(res) if "RemoveSelfLink=false" in w]
    if warned is None:
        assert found == []
    else:
        assert len(found) == 1 and warned in found[0] and f"Kubernetes v1.{minor}.3" in found[0]
    asked = any(r["path"] == "/version" for r in fake_api.requests)
    assert asked is ("nfs-client-provisioner" in image)


def provisioner_binding(server="192.0.2.20", base="/home/nfs"):
    """Minimal NFS provisioner: a claim of class managed-nfs-storage gets a PV on ``server:base/<dir>``."""
    def hook(fake, method, path):
        for key, claim in list(fake.objects.items()):
            if key[0] != "PersistentVolumeClaim" or (claim.get("status") or {}).get("phase") == "Bound":
                continue
            pv = f"pvc-{claim['metadata']['uid'][:8]}"
            fake.put({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv},
                      "spec": {"nfs": {"server": server, "path": f"{base}/{key[1]}-{key[2]}-{pv}"}}})
            claim["spec"]["volumeName"] = pv
            claim["status"] = {"phase": "Bound"}
    return hook


def test_a_changed_class_is_proved_by_a_claim_that_is_deleted_again(fake_api, capsys):
    fake_api.hooks += [make_available, provisioner_binding()]
    res = run_module(nfs_provisioner.main, args(fake_api, wait=True, prove_with_claim=True), capsys)
    assert not res.get("failed"), res
    proof = res["proof"]
    assert proof["claim"] == "default/nfs-client-provisioner-proof"
    assert proof["nfs_server"] == "192.0.2.20" and proof["nfs_path"].startswith("/home/nfs/default-nfs-client-")
    assert not [k for k in fake_api.objects if k[0] == "PersistentVolumeClaim"]  # the claim is gone again
    fake_api.clear_log()
    again = run_module(nfs_provisioner.main, args(fake_api, wait=True, prove_with_claim=True), capsys)
    assert again["changed"] is False and "proof" not in again and fake_api.writes() == []


def test_a_claim_bound_to_another_export_fails_the_proof(fake_api, capsys):
    fake_api.hooks += [make_available, provisioner_binding(server="192.0.2.99")]
    res = run_module(nfs_provisioner.main, args(fake_api, wait=True, prove_with_claim=True), capsys)
    assert res["failed"] is True
    assert "StorageClass managed-nfs-storage is not proved: claim default/nfs-client-provisioner-proof was bound" in res["msg"]
    assert "not under 192.0.2.20:/home/nfs" in res["msg"]
    assert not [k for k in fake_api.objects if k[0] == "PersistentVolumeClaim"]


def test_a_claim_left_pending_fails_the_proof_with_its_phase(fake_api, capsys):
    fake_api.hooks.append(make_available)
    res = run_module(nfs_provisioner.main, args(fake_api, wait=True, wait_timeout=1, prove_with_claim=True), capsys)
    assert res["failed"] is True
    assert "claim default/nfs-client-provisioner-proof is " in res["msg"] and "is provisioner fuseim.pri/ifs running" in res["msg"]


# ------------------------------------------------------------------ issue 24: one provisioner per name
def _deployment(namespace, name, provisioner_name):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                         {"name": "p", "image": "x", "env": [{"name": "PROVISIONER_NAME", "value": provisioner_name}]}]}}}}


@pytest.mark.parametrize("namespace, name", [("team-b", "nfs-client-provisioner"), ("default", "other")])
def test_a_provisioner_name_served_elsewhere_is_refused_before_any_write(fake_api, capsys, namespace, name):
    fake_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    fake_api.put(_deployment(namespace, name, "fuseim.pri/ifs"))
    fake_api.clear_log()
    res = run_module(nfs_provisioner.main, args(fake_api), capsys)
    assert res.get("failed") is True, res
    assert res["msg"].startswith("provisioner_name: ") and f"Deployment {namespace}/{name}" in res["msg"], res["msg"]
    assert fake_api.writes() == []
    # another provisioner name is served by nobody else: no refusal
    ok = run_module(nfs_provisioner.main, args(fake_api, provisioner_name="example.com/a"), capsys)
    assert not ok.get("failed"), ok


def test_a_forbidden_cluster_wide_deployment_list_is_said_not_skipped(fake_api, capsys):
    fake_api.faults.append(("GET", "/apis/apps/v1/deployments", 403))
    res = run_module(nfs_provisioner.main, args(fake_api), capsys)
    assert not res.get("failed"), res
    assert any("listing Deployments in all namespaces is forbidden" in w for w in warnings_of(res)), warnings_of(res)


def _legacy(kind, name, subjects=None, labelled=True):
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "stateful.nfs"} if labelled else {}}}
    if kind == "ClusterRole":
        obj["rules"] = [{"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["get"]}]
    else:
        obj["subjects"] = subjects
        obj["roleRef"] = {"kind": "ClusterRole", "name": "nfs-client-provisioner-runner",
                          "apiGroup": "rbac.authorization.k8s.io"}
    return obj


MINE = [{"kind": "ServiceAccount", "name": "nfs-client-provisioner", "namespace": "default"}]
THEIRS = [{"kind": "ServiceAccount", "name": "nfs-client-provisioner", "namespace": "team-b"}]


@pytest.mark.parametrize("subjects, labelled, removed", [
    (MINE, True, True),       # 0.3.0's binding of this provisioner: both go, after the new ones are applied
    (THEIRS, True, False),    # taken over by another namespace's provisioner: both stay for its run
    (MINE, False, False),     # not labelled by the collection: never removed
])
def test_upgrade_from_the_shared_rbac_names(fake_api, capsys, subjects, labelled, removed):
    fake_api.put(_legacy("ClusterRole", "nfs-client-provisioner-runner", labelled=labelled))
    fake_api.put(_legacy("ClusterRoleBinding", "run-nfs-client-provisioner", subjects, labelled=labelled))
    res = run_module(nfs_provisioner.main, args(fake_api), capsys)
    assert not res.get("failed"), res
    gone = fake_api.get("ClusterRoleBinding", "run-nfs-client-provisioner") is None
    assert gone is removed and (fake_api.get("ClusterRole", "nfs-client-provisioner-runner") is None) is removed
    assert fake_api.get("ClusterRoleBinding", "default:run-nfs-client-provisioner")["subjects"] == MINE
    writes = [(w["method"], w["path"].rsplit("/", 1)[1]) for w in fake_api.writes()]
    if removed:
        # no gap: the new binding exists before the old one is deleted
        assert writes.index(("PATCH", "default%3Arun-nfs-client-provisioner")) < writes.index(
            ("DELETE", "run-nfs-client-provisioner")), writes
    else:
        assert ("DELETE", "run-nfs-client-provisioner") not in writes
        assert any("0.3.0's shared name) is left in place" in w for w in warnings_of(res)), warnings_of(res)


def test_absent_leaves_the_root_volume_of_the_same_name_in_another_namespace(fake_api, capsys):
    """The root volumes' label selector is cluster-wide: a PV bound to another namespace's claim is
    another provisioner's, and 0.3.0's shared binding of this provisioner goes with it."""
    labels = {"app": "nfs-client-provisioner", "app.kubernetes.io/component": "provisioner-root",
              "app.kubernetes.io/managed-by": "stateful.nfs"}
    for ns in ("default", "team-b"):
        fake_api.put({"apiVersion": "v1", "kind": "PersistentVolume",
                      "metadata": {"name": f"nfs-client-provisioner-root-{ns}", "labels": labels},
                      "spec": {"capacity": {"storage": "10Mi"}, "accessModes": ["ReadWriteMany"],
                               "nfs": {"server": "192.0.2.20", "path": "/home/nfs"},
                               "claimRef": {"namespace": ns, "name": f"nfs-client-provisioner-root-{ns}"}}})
    fake_api.put(_legacy("ClusterRoleBinding", "run-nfs-client-provisioner", MINE))
    res = run_module(nfs_provisioner.main, args(fake_api, state="absent"), capsys)
    assert not res.get("failed"), res
    assert fake_api.get("PersistentVolume", "nfs-client-provisioner-root-default") is None
    assert fake_api.get("PersistentVolume", "nfs-client-provisioner-root-team-b") is not None
    assert fake_api.get("ClusterRoleBinding", "run-nfs-client-provisioner") is None


def test_a_0_3_0_root_volume_mounted_by_the_deployment_is_kept(fake_api, capsys):
    """Upgrade without a restart: the Deployment keeps mounting 0.3.0's root pair (bound to this namespace)."""
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s import validation
    opts = ["nfsvers=3"]
    first = run_module(nfs_provisioner.main, args(fake_api, mount_options=opts), capsys)
    assert not first.get("failed"), first
    p = validation.validate_provisioner_params({"name": "nfs-client-provisioner", "namespace": "default",
                                                "nfs_server": "192.0.2.20", "nfs_path": "/home/nfs",
                                                "mount_options": opts})
    legacy = mf.legacy_root_volume_name(p)
    assert first["names"]["root_volume"] != legacy
    # make the stored state 0.3.0's: the Deployment mounts the legacy pair, bound to this namespace
    dep = fake_api.get("Deployment", "nfs-client-provisioner", "default")
    dep["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] = legacy
    fake_api.put(dict(mf.root_volume_manifests(dict(p, root_volume=legacy))[0]))
    again = run_module(nfs_provisioner.main, args(fake_api, mount_options=opts), capsys)
    assert not again.get("failed"), again
    assert again["names"]["root_volume"] == legacy
    assert fake_api.get("PersistentVolume", legacy) is not None
