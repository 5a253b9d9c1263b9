"""Pure manifest builders and input validation (no API)."""

from __future__ import annotations

import hashlib
import json

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import compare, validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import manifests as mf
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError

# The walkthrough's mirror of the retired nfs-client-provisioner.
SEED_MIRROR_IMAGE = "fxkjnj/nfs-client-provisioner:latest"

# The walkthrough's parameters (seed).
SEED_PROVISIONER = {
    "name": "nfs-client-provisioner", "namespace": "default", "provisioner_name": "fuseim.pri/ifs",
    "nfs_server": "192.0.2.20", "nfs_path": "/home/nfs", "image": SEED_MIRROR_IMAGE, "replicas": 1,
    "storage_class_name": "managed-nfs-storage", "archive_on_delete": True, "reclaim_policy": "Delete",
    "volume_binding_mode": "Immediate",
}
SEED_STS = {
    "name": "web", "namespace": "default", "replicas": 3, "labels": {"app": "nginx"}, "container_name": "nginx",
    "image": "nginx:1.16", "ports": [{"name": "web", "container_port": 80}],
    "volume_claim_templates": [{"name": "nginx-pvc", "storage_class_name": "managed-nfs-storage",
                                "access_modes": ["ReadWriteOnce"], "size": "1Gi",
                                "mount_path": "/usr/share/nginx/html"}],
}


def by_kind(objs):
    return {o["kind"]: o for o in objs}


def provisioner(**over):
    return mf.provisioner_manifests(validation.validate_provisioner_params(dict(SEED_PROVISIONER, **over)))


def sts(**over):
    return mf.statefulset_manifests(validation.validate_statefulset_params(dict(SEED_STS, **over)))


# ----------------------------------------------------------------------------- provisioner
def test_provisioner_seed_names_and_order():
    objs = provisioner()
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("ServiceAccount", "nfs-client-provisioner"),
        ("ClusterRole", "default:nfs-client-provisioner-runner"),
        ("ClusterRoleBinding", "default:run-nfs-client-provisioner"),
        ("Role", "leader-locking-nfs-client-provisioner"),
        ("RoleBinding", "leader-locking-nfs-client-provisioner"),
        ("Deployment", "nfs-client-provisioner"),
        ("StorageClass", "managed-nfs-storage"),
    ]
    for o in objs:
        if o["kind"] in ("ClusterRole", "ClusterRoleBinding", "StorageClass"):
            assert "namespace" not in o["metadata"]
        else:
            assert o["metadata"]["namespace"] == "default"


def test_cluster_role_rules_exact_and_without_wildcards():
    rules = by_kind(provisioner())["ClusterRole"]["rules"]
    as_set = {(r["apiGroups"][0], res, tuple(sorted(r["verbs"]))) for r in rules for res in r["resources"]}
    assert as_set == {
        ("", "persistentvolumes", tuple(sorted(["get", "list", "watch", "create", "delete"]))),
        ("", "persistentvolumeclaims", tuple(sorted(["get", "list", "watch", "update"]))),
        ("storage.k8s.io", "storageclasses", ("get", "list", "watch")),
        ("", "events", ("create", "patch", "update")),
        ("", "nodes", ("get", "list", "watch")),
    }
    flat = [x for r in rules for k in ("apiGroups", "resources", "verbs") for x in r[k]]
    assert "*" not in flat
    role = by_kind(provisioner())["Role"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["endpoints"],
                              "verbs": ["get", "list", "watch", "create", "update", "patch"]}]


def test_bindings_point_at_the_service_account_and_roles():
    objs = by_kind(provisioner(namespace="storage"))
    for kind, role_kind in (("ClusterRoleBinding", "ClusterRole"), ("RoleBinding", "Role")):
        b = objs[kind]
        assert b["subjects"] == [{"kind": "ServiceAccount", "name": "nfs-client-provisioner",
                                  "namespace": "storage"}]
        assert b["roleRef"]["kind"] == role_kind
        assert b["roleRef"]["name"] == objs[role_kind]["metadata"]["name"]


def test_deployment_matches_the_seed():
    dep = by_kind(provisioner())["Deployment"]
    spec = dep["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "nfs-client-provisioner"
    c = pod["containers"][0]
    assert c["image"] == "fxkjnj/nfs-client-provisioner:latest"
    assert c["env"] == [{"name": "PROVISIONER_NAME", "value": "fuseim.pri/ifs"},
                        {"name": "NFS_SERVER", "value": "192.0.2.20"},
                        {"name": "NFS_PATH", "value": "/home/nfs"}]
    assert c["volumeMounts"] == [{"name": "nfs-client-root", "mountPath": "/persistentvolumes"}]
    assert pod["volumes"] == [{"name": "nfs-client-root", "nfs": {"server": "192.0.2.20", "path": "/home/nfs"}}]
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    # nothing empty is emitted
    for key in ("nodeSelector", "tolerations", "imagePullSecrets", "securityContext"):
        assert key not in pod
    assert "resources" not in c


def test_default_image_is_upstream_v4():
    p = dict(SEED_PROVISIONER)
    del p["image"]
    p["image"] = validation.DEFAULT_PROVISIONER_IMAGE
    dep = by_kind(mf.provisioner_manifests(validation.validate_provisioner_params(p)))["Deployment"]
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2")


def test_deployment_options():
    dep = by_kind(provisioner(
        replicas=0, resources={"requests": {"cpu": "10m", "memory": "32Mi"}}, node_selector={"disk": "ssd"},
        tolerations=[{"key": "storage", "operator": "Exists", "effect": "NoSchedule"}],
        image_pull_secrets=["regcred"], security_context={"allowPrivilegeEscalation": False},
        pod_security_context={"runAsNonRoot": True}, labels={"team": "storage"}))["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    assert dep["spec"]["replicas"] == 0
    assert pod["nodeSelector"] == {"disk": "ssd"}
    assert pod["tolerations"][0]["key"] == "storage"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["securityContext"] == {"runAsNonRoot": True}
    assert pod["containers"][0]["securityContext"] == {"allowPrivilegeEscalation": False}
    assert pod["containers"][0]["resources"]["requests"]["memory"] == "32Mi"
    assert dep["spec"]["template"]["metadata"]["labels"]["team"] == "storage"


def test_storage_class_seed_and_options():
    sc = by_kind(provisioner())["StorageClass"]
    assert sc["provisioner"] == "fuseim.pri/ifs"
    assert sc["parameters"] == {"archiveOnDelete": "true"}
    assert sc["reclaimPolicy"] == "Delete"
    assert sc["volumeBindingMode"] == "Immediate"
    assert "annotations" not in sc["metadata"]
    assert "allowVolumeExpansion" not in sc
    sc = by_kind(provisioner(archive_on_delete=False, on_delete="retain", path_pattern="${.PVC.namespace}/x",
                             reclaim_policy="Retain", volume_binding_mode="WaitForFirstConsumer",
                             allow_volume_expansion=False, mount_options=["nfsvers=4.1", "hard"],
                             default_class=True))["StorageClass"]
    assert sc["parameters"] == {"archiveOnDelete": "false", "onDelete": "retain", "pathPattern": "${.PVC.namespace}/x"}
    assert sc["allowVolumeExpansion"] is False
    assert sc["mountOptions"] == ["nfsvers=4.1", "hard"]
    assert sc["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}


def test_other_names_derive_consistently():
    objs = provisioner(name="nfs-prod", namespace="storage", storage_class_name="nfs-prod",
                       provisioner_name="example.com/nfs")
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    assert ("ClusterRole", "storage:nfs-prod-runner") in names
    assert ("ClusterRoleBinding", "storage:run-nfs-prod") in names
    assert ("Role", "leader-locking-nfs-prod") in names
    assert by_kind(objs)["StorageClass"]["provisioner"] == "example.com/nfs"
    assert by_kind(objs)["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == (
        "example.com/nfs")


@pytest.mark.parametrize("over, param", [
    ({"name": "NFS_Provisioner"}, "name"),
    ({"namespace": "-bad"}, "namespace"),
    ({"storage_class_name": "Managed NFS"}, "storage_class_name"),
    ({"provisioner_name": "bad name/x"}, "provisioner_name"),
    ({"nfs_server": "nfs server"}, "nfs_server"),
    ({"nfs_server": None}, "nfs_server"),
    ({"nfs_path": "home/nfs"}, "nfs_path"),
    ({"replicas": -1}, "replicas"),
    ({"image": "nginx latest"}, "image"),
    ({"resources": {"requests": {"memory": "lots"}}}, "resources.requests.memory"),
    ({"resources": {"limit": {"cpu": "1"}}}, "resources"),
    ({"labels": {"app": "has space"}}, "labels"),
    ({"mount_options": ["nfsvers=4.1,hard"]}, "mount_options"),
    ({"mount_options": ["nfsvers=5"]}, "mount_options"),
    ({"mount_options": ["hard", "frobnicate"]}, "mount_options"),
    ({"wait_timeout": 0}, "wait_timeout"),
    ({"path_pattern": "/abs"}, "path_pattern"),
    ({"image_pull_secrets": ["Bad_Secret"]}, "image_pull_secrets[0]"),
])
def test_provisioner_bad_input(over, param):
    with pytest.raises(InputError) as exc:
        validation.validate_provisioner_params(dict(SEED_PROVISIONER, **over))
    assert exc.value.param == param
    assert str(exc.value).startswith(param + ":")


@pytest.mark.parametrize(("pattern", "words"), [
    ("${.PVC.namespace}/../../../etc", "has a '..' segment"),
    ("${.PVC.namespace}/..", "has a '..' segment"),
    ("/srv/${.PVC.name}", "is absolute"),
    ("./.", "names the share's root"),
    ("", "must be a non-empty relative path template"),
])
def test_path_patterns_that_leave_the_share_or_name_its_root_are_refused(pattern, words):
    with pytest.raises(InputError) as exc:
        validation.validate_provisioner_params(dict(SEED_PROVISIONER, path_pattern=pattern))
    assert str(exc.value).startswith("path_pattern: ") and words in str(exc.value)
    # dots inside a segment are names, not steps
    assert validation.check_path_pattern("${.PVC.namespace}/..data/v1.2") == "${.PVC.namespace}/..data/v1.2"


def test_provisioner_mount_options_from_the_nfs_table():
    p = validation.validate_provisioner_params(dict(SEED_PROVISIONER, mount_options=["nfsvers=4.1", "hard",
                                                                                      "x-any.thing"]))
    assert p["mount_options"] == ["nfsvers=4.1", "hard", "x-any.thing"]
    with pytest.raises(InputError, match=r"mount_options: option 'nfsvers=5' has an invalid value"):
        validation.validate_provisioner_params(dict(SEED_PROVISIONER, mount_options=["nfsvers=5"]))


def test_provisioner_absent_needs_no_server():
    p = dict(SEED_PROVISIONER, nfs_server=None, nfs_path=None)
    assert validation.validate_provisioner_params(p, "absent")["name"] == "nfs-client-provisioner"


# ----------------------------------------------------------------------------- statefulset
def test_statefulset_seed():
    svc, st = sts()
    assert svc["kind"] == "Service" and svc["metadata"]["name"] == "web"
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["selector"] == {"app": "nginx"}
    assert svc["spec"]["ports"] == [{"name": "web", "port": 80, "targetPort": 80, "protocol": "TCP"}]
    spec = st["spec"]
    assert st["metadata"]["name"] == "web"
    assert spec["serviceName"] == "web"
    assert spec["replicas"] == 3
    assert spec["selector"] == {"matchLabels": {"app": "nginx"}}
    assert spec["template"]["metadata"]["labels"] == {"app": "nginx"}
    c = spec["template"]["spec"]["containers"][0]
    assert c["name"] == "nginx" and c["image"] == "nginx:1.16"
    assert c["ports"] == [{"name": "web", "containerPort": 80, "protocol": "TCP"}]
    assert c["volumeMounts"] == [{"name": "nginx-pvc", "mountPath": "/usr/share/nginx/html"}]
    vct = spec["volumeClaimTemplates"][0]
    assert vct["metadata"]["name"] == "nginx-pvc"
    assert vct["spec"] == {"storageClassName": "managed-nfs-storage", "accessModes": ["ReadWriteOnce"],
                           "resources": {"requests": {"storage": "1Gi"}}}
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate"}
    assert "persistentVolumeClaimRetentionPolicy" not in spec


def test_statefulset_defaults_from_name():
    p = validation.validate_statefulset_params({"name": "db", "namespace": "ns1", "image": "postgres:16", "replicas": 1})
    svc, st = mf.statefulset_manifests(p)
    assert svc["metadata"]["name"] == "db" and st["spec"]["serviceName"] == "db"
    assert st["spec"]["selector"]["matchLabels"] == {"app": "db"}
    assert st["spec"]["template"]["spec"]["containers"][0]["name"] == "db"
    assert "volumeClaimTemplates" not in st["spec"]
    assert "ports" not in svc["spec"]


def test_statefulset_all_options():
    _svc, st = sts(partition=2, max_unavailable="50%", pvc_retention_policy={"when_deleted": "Retain",
                                                                           "when_scaled": "Delete"},
                   min_ready_seconds=0, ordinals_start=0, pod_management_policy="Parallel",
                   readiness_probe={"httpGet": {"path": "/", "port": 80}}, env=[{"name": "A", "value": "1"}],
                   resources={"limits": {"memory": "64Mi"}}, image_pull_policy="Always", replicas=0)
    spec = st["spec"]
    assert spec["replicas"] == 0
    assert spec["updateStrategy"] == {"type": "RollingUpdate",
                                      "rollingUpdate": {"partition": 2, "maxUnavailable": "50%"}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Delete"}
    assert spec["minReadySeconds"] == 0
    assert spec["ordinals"] == {"start": 0}
    assert spec["podManagementPolicy"] == "Parallel"
    c = spec["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["port"] == 80
    assert c["imagePullPolicy"] == "Always"


def test_partition_zero_is_kept():
    _svc, st = sts(partition=0)
    assert st["spec"]["updateStrategy"]["rollingUpdate"] == {"partition": 0}


def test_create_service_false():
    p = validation.validate_statefulset_params(dict(SEED_STS, create_service=False))
    assert [o["kind"] for o in mf.statefulset_manifests(p)] == ["StatefulSet"]


@pytest.mark.parametrize("over, param", [
    ({"name": "Web"}, "name"),
    ({"name": "web_1"}, "name"),
    ({"name": "w" * 53}, "name"),
    ({"namespace": "Default"}, "namespace"),
    ({"service_name": "web.svc"}, "service_name"),
    ({"service_name": "1web"}, "service_name"),
    ({"wait_timeout": 0}, "wait_timeout"),
    ({"replicas": -1}, "replicas"),
    ({"image": None}, "image"),
    ({"volume_claim_templates": [{"name": "d", "size": "1 GB", "mount_path": "/d"}]},
     "volume_claim_templates[0].size"),
    ({"volume_claim_templates": [{"name": "d", "size": "-1Gi", "mount_path": "/d"}]},
     "volume_claim_templates[0].size"),
    ({"volume_claim_templates": [{"name": "d", "size": "1Gi", "mount_path": "rel"}]},
     "volume_claim_templates[0].mount_path"),
    ({"volume_claim_templates": [{"name": "D", "size": "1Gi", "mount_path": "/d"}]},
     "volume_claim_templates[0].name"),
    ({"volume_claim_templates": [{"name": "d", "size": "1Gi", "mount_path": "/d"},
                                 {"name": "d", "size": "1Gi", "mount_path": "/e"}]}, "volume_claim_templates[1].name"),
    ({"volume_claim_templates": [{"name": "d", "size": "1Gi", "mount_path": "/d",
                                  "storage_class_name": "Bad Class"}]}, "volume_claim_templates[0].storage_class_name"),
    ({"ports": [{"name": "web", "container_port": 0}]}, "ports[0].container_port"),
    ({"ports": [{"name": "a-very-long-port-name", "container_port": 80}]}, "ports[0].name"),
    ({"ports": [{"container_port": 80}, {"container_port": 81}]}, "ports[0].name"),
    ({"selector": {"app": "other"}}, "selector"),
    ({"partition": -1}, "partition"),
    ({"max_unavailable": 0}, "max_unavailable"),
    ({"max_unavailable": "150%"}, "max_unavailable"),
    ({"update_strategy": "OnDelete", "partition": 1}, "partition"),
    ({"labels": {"bad key!": "x"}}, "labels key"),
    ({"ordinals_start": -2}, "ordinals_start"),
])
def test_statefulset_bad_input(over, param):
    with pytest.raises(InputError) as exc:
        validation.validate_statefulset_params(dict(SEED_STS, **over))
    assert exc.value.param == param, str(exc.value)


@pytest.mark.parametrize("over,words", [
    ({"volume_claim_templates": [{"name": "d", "size": "1Gi", "mount_path": "/d",
                                  "access_modes": ["ReadWriteSometimes"]}]}, ["access_modes", "ReadWriteSometimes"]),
    ({"volume_claim_templates": [{"name": "d", "mount_path": "/d"}]}, ["size"]),
    ({"volume_claim_templates": [{"name": "d", "size": "1Gi", "mount_path": "/d", "mode": "x"}]}, ["mode"]),
    ({"ports": [{"name": "web", "container_port": 80, "protocol": "HTTP"}]}, ["protocol", "HTTP"]),
    ({"pvc_retention_policy": {"when_deleted": "Keep"}}, ["when_deleted", "Keep"]),
    ({"update_strategy": "Sometimes"}, ["update_strategy"]),
    ({"pod_management_policy": "Random"}, ["pod_management_policy"]),
])
def test_statefulset_choices_keys_and_required_are_the_argument_specs(over, words):
    problems = validation.input_problems(dict(SEED_STS, **over), "statefulset")
    assert len(problems) == 1 and all(w in problems[0] for w in words), problems


@pytest.mark.parametrize("over,words", [
    ({"reclaim_policy": "Recycle"}, ["reclaim_policy", "Recycle"]),
    ({"on_delete": "archive"}, ["on_delete", "archive"]),
    ({"volume_binding_mode": "Later"}, ["volume_binding_mode"]),
    ({"nfs_server": None}, ["nfs_server"]),
])
def test_provisioner_choices_and_required_are_the_argument_specs(over, words):
    problems = validation.input_problems(dict(SEED_PROVISIONER, **over), "nfs_provisioner")
    assert len(problems) == 1 and all(w in problems[0] for w in words), problems


def test_service_name_may_start_with_a_digit_only_without_a_service():
    p = validation.validate_statefulset_params(dict(SEED_STS, name="1web", create_service=False))
    assert p["service_name"] == "1web"


def test_retention_policy_ignores_unset_keys():
    p = validation.validate_statefulset_params(dict(SEED_STS, pvc_retention_policy={"when_deleted": "Delete",
                                                                                    "when_scaled": None}))
    assert p["pvc_retention_policy"] == {"when_deleted": "Delete"}


@pytest.mark.parametrize("over, param", [({"name": "Web"}, "name"), ({"namespace": "a_b"}, "namespace"),
                                         ({"cluster_domain": "Cluster.Local"}, "cluster_domain")])
def test_info_bad_input(over, param):
    good = {"name": "web", "namespace": "default", "cluster_domain": "cluster.local"}
    assert validation.validate_info_params(good) == good
    with pytest.raises(InputError) as exc:
        validation.validate_info_params(dict(good, **over))
    assert exc.value.param == param


@pytest.mark.parametrize("size", ["1Gi", "500Mi", "10G", "1.5Ti", "1e3", "100"])
def test_quantities_accepted(size):
    assert validation.check_quantity("size", size) == size


def test_immutable_changes_detected_per_field():
    live = sts()[1]
    # server-side defaults on the live object are not changes
    live["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] = "Filesystem"
    live["spec"]["volumeClaimTemplates"][0]["status"] = {"phase": "Pending"}
    live["spec"]["revisionHistoryLimit"] = 10
    assert compare.immutable_changes(sts()[1], live) == []
    assert compare.immutable_changes(sts(image="nginx:1.27", replicas=5)[1], live) == []
    changed = sts(volume_claim_templates=[dict(SEED_STS["volume_claim_templates"][0], size="2Gi")])[1]
    assert compare.immutable_changes(changed, live) == ["spec.volumeClaimTemplates"]
    assert compare.immutable_changes(sts(service_name="web2")[1], live) == ["spec.serviceName"]
    assert compare.immutable_changes(sts(pod_management_policy="Parallel")[1], live) == ["spec.podManagementPolicy"]
    sel = sts(labels={"app": "nginx", "tier": "web"}, selector={"app": "nginx", "tier": "web"})[1]
    assert compare.immutable_changes(sel, live) == ["spec.selector"]


# ----------------------------------------------------------------------------- the provisioner's own mount
def test_no_mount_options_mount_the_export_inline():
    objs = provisioner()
    assert [o["kind"] for o in objs].count("PersistentVolume") == 0
    volumes = by_kind(objs)["Deployment"]["spec"]["template"]["spec"]["volumes"]
    assert volumes == [{"name": "nfs-client-root", "nfs": {"server": "192.0.2.20", "path": "/home/nfs"}}]


def test_mount_options_make_a_root_pair_the_deployment_mounts():
    objs = provisioner(mount_options=["nfsvers=3", "hard"])
    kinds = [o["kind"] for o in objs]
    assert kinds == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                     "PersistentVolume", "PersistentVolumeClaim", "Deployment", "StorageClass"]
    pv, pvc, dep = objs[5], objs[6], objs[7]
    name = pv["metadata"]["name"]
    assert pvc["metadata"]["name"] == name and pvc["metadata"]["namespace"] == "default"
    assert pv["metadata"]["labels"]["app.kubernetes.io/component"] == "provisioner-root"
    assert pv["spec"]["mountOptions"] == ["nfsvers=3", "hard"]
    assert pv["spec"]["claimRef"] == {"namespace": "default", "name": name}
    assert "storageClassName" not in pv["spec"] and pvc["spec"]["storageClassName"] == ""
    assert pvc["spec"]["volumeName"] == name
    assert dep["spec"]["template"]["spec"]["volumes"] == [
        {"name": "nfs-client-root", "persistentVolumeClaim": {"claimName": name}}]
    assert mf.root_claim_of(dep) == name


@pytest.mark.parametrize("over", [{"nfs_server": "192.0.2.21"}, {"nfs_path": "/home/nfs2"}, {"namespace": "other"},
                                  {"mount_options": ["nfsvers=4.1", "hard"]}, {"mount_options": ["hard", "nfsvers=3"]}])
def test_root_pair_name_follows_server_path_and_options(over):
    base = validation.validate_provisioner_params(dict(SEED_PROVISIONER, mount_options=["nfsvers=3", "hard"]))
    other = validation.validate_provisioner_params(dict(SEED_PROVISIONER, **dict({"mount_options": ["nfsvers=3", "hard"]},
                                                                                **over)))
    assert mf.root_volume_name(base) != mf.root_volume_name(other)
    assert mf.root_volume_name(base) == mf.root_volume_name(dict(base))


@pytest.mark.parametrize("get, expected", [
    ({"port": 80, "path": "/"}, {"port": 80, "path": "/"}),
    ({"port": "8080", "path": "/index.html"}, {"port": 8080, "path": "/index.html"}),
    ({"port": "web", "path": "/healthz"}, {"port": "web", "path": "/healthz"}),
])
def test_info_http_get_accepted(get, expected):
    p = validation.validate_info_params({"name": "web", "namespace": "default", "cluster_domain": "cluster.local",
                                         "http_get": get})
    assert p["http_get"] == expected


@pytest.mark.parametrize("get, param", [
    ({"port": 0, "path": "/"}, "http_get.port"), ({"port": 65536, "path": "/"}, "http_get.port"),
    ({"port": "Web", "path": "/"}, "http_get.port"), ({"port": "a-very-long-port-name", "path": "/"}, "http_get.port"),
    ({"port": 80, "path": "index.html"}, "http_get.path"), ({"port": 80, "path": "/a?b=1"}, "http_get.path"),
    ({"port": 80, "path": "/a b"}, "http_get.path"), ({"port": 80, "path": "/#top"}, "http_get.path"),
])
def test_info_http_get_refused(get, param):
    with pytest.raises(InputError) as exc:
        validation.validate_info_params({"name": "web", "namespace": "default", "cluster_domain": "cluster.local",
                                         "http_get": get})
    assert exc.value.param == param


def test_cluster_scoped_names_differ_per_namespace_and_never_meet_the_legacy_ones():
    """Two provisioners of one name in two namespaces share no cluster-scoped object (issue 24)."""
    a = provisioner(name="p", namespace="team-a", mount_options=["nfsvers=3"])
    b = provisioner(name="p", namespace="team-b", mount_options=["nfsvers=3"])
    cluster = {"ClusterRole", "ClusterRoleBinding", "PersistentVolume"}
    names_a = {(o["kind"], o["metadata"]["name"]) for o in a if o["kind"] in cluster}
    names_b = {(o["kind"], o["metadata"]["name"]) for o in b if o["kind"] in cluster}
    assert len(names_a) == 3 and not names_a & names_b
    # "a-b" + "c" and "a" + "b-c" cannot meet: ':' is in neither a namespace nor a Deployment name
    assert mf.provisioner_names("c", "a-b")["cluster_role"] != mf.provisioner_names("b-c", "a")["cluster_role"]
    legacy = set(mf.legacy_rbac_names("p").values())
    assert legacy == {"p-runner", "run-p"} and not legacy & {n for _, n in names_a}


def test_legacy_root_name_is_0_3_0s_and_kept_only_when_asked():
    p = validation.validate_provisioner_params(dict(SEED_PROVISIONER, mount_options=["nfsvers=3", "hard"]))
    key = json.dumps([p["nfs_server"], p["nfs_path"], ["nfsvers=3", "hard"]]).encode("utf-8")
    assert mf.legacy_root_volume_name(p) == "nfs-client-provisioner-root-" + hashlib.sha256(key).hexdigest()[:10]
    assert mf.root_volume_name(p) != mf.legacy_root_volume_name(p)
    assert mf.root_volume_name(dict(p, root_volume="kept")) == "kept"
