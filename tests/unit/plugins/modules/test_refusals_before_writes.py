"""A run the Kubernetes modules refuse changes nothing: every check that can refuse a run is made
before the first write, a created namespace included, in normal and in check mode (where not
even a dry-run write is sent)."""

from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.modules import nfs_provisioner, statefulset

from tests.unit.plugins.module_utils.k8s.fakeapi import run_module

# fake_api (conftest.py): namespace default, StorageClass managed-nfs-storage of provisioner fuseim.pri/ifs

VCT = {"name": "nginx-pvc", "storage_class_name": "no-such-class", "size": "1Gi", "mount_path": "/usr/share/nginx/html"}
STS = {"name": "web", "namespace": "shop", "create_namespace": True, "replicas": 2, "labels": {"app": "nginx"},
       "image": "nginx:1.27.3", "ports": [{"name": "web", "container_port": 80}], "volume_claim_templates": [VCT]}
PROV = {"namespace": "storage", "create_namespace": True, "nfs_server": "192.0.2.20", "nfs_path": "/srv/nfs",
        "wait": False}


# (module, parameters, what the refusal names); each namespace is missing and create_namespace is true
REFUSALS = {
    # the reported case: a StorageClass that does not exist
    "statefulset_storage_class_missing": (statefulset, STS, "StorageClass 'no-such-class' does not exist"),
    # a class of the same name served by another provisioner
    "provisioner_class_of_another_provisioner": (nfs_provisioner, dict(PROV, provisioner_name="example.com/nfs"),
                                                 "exists with provisioner 'fuseim.pri/ifs'"),
    # the retired nfs-client-provisioner on a Kubernetes that removed selfLink
    "provisioner_legacy_image": (nfs_provisioner, dict(PROV, storage_class_name="nfs", image="fxkjnj/nfs-client-provisioner:latest"),
                                 "is the retired nfs-client-provisioner"),
}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check_mode"])
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_run_sends_no_write(fake_api, capsys, case, check_mode):
    module, params, needle = REFUSALS[case]
    res = run_module(module.main, dict(params, host=fake_api.url, api_key="tok-refusal-9f3a"), capsys, check_mode=check_mode)
    assert res["failed"] is True and needle in res["msg"], res["msg"]
    assert res["changed"] is False and res["objects"] == []
    assert fake_api.writes() == []
    assert fake_api.get("Namespace", params["namespace"]) is None
