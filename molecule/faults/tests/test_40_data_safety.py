"""Data safety. 4 KiB of random bytes, different for each pod, are
written THROUGH NFS (libnfs nfs-cp from the node container) into each pod's volume, and
read back byte for byte THROUGH NFS (nfs-cat from the node) after each step: pod
deletion, cascade delete of the StatefulSet (stateful.nfs.statefulset state=absent
cascade=background) and its recreation, scale down to 1 and up to 3, image upgrade.
The claims keep their uid throughout (the same volume, not a copy).
"""
from __future__ import annotations

import hashlib
import os

from conftest import (NAMESPACE, TEMPLATE, claims, core, names, nfs_read, nfs_write, pods, ready, remove, statefulset,
                      volumes, wait_for)

STS = "safe"
PODS = [f"{STS}-{i}" for i in range(3)]
PVCS = [f"{TEMPLATE}-{p}" for p in PODS]
FILE = "fault-data.bin"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _check(api, node, written: dict, step: str, expect_pods: list[str]) -> None:
    vols = volumes(api, STS)
    assert sorted(vols) == PVCS, f"after {step}: claims {sorted(vols)}"
    for pvc, (uid, data) in written.items():
        assert vols[pvc]["uid"] == uid, f"after {step}: {pvc} is a new claim"
        got = nfs_read(node, f"{vols[pvc]['url']}/{FILE}")
        assert got == data, f"after {step}: {pvc} holds {len(got)} bytes sha {_digest(got)}, wrote {_digest(data)}"
    current = pods(api, STS)
    assert sorted(current) == expect_pods, f"after {step}: pods {sorted(current)}"
    for name, pod in current.items():
        assert [v.persistent_volume_claim.claim_name for v in pod.spec.volumes if v.persistent_volume_claim] == \
            [f"{TEMPLATE}-{name}"], f"after {step}: {name} mounts another claim"


def _rollout(play, api, step: str, **more) -> None:
    run = play("site.yml", tags="statefulset", **names(STS, **more))
    assert run.rc == 0, f"{step}: {run.failure()}"
    want = more.get("k8s_statefulset_nginx_replicas", 3)
    wait_for(f"{want} ready pods after {step}",
             lambda: len(pods(api, STS)) == want and all(ready(p) for p in pods(api, STS).values()), timeout=60)


def test_data_survives_every_lifecycle_step(play, api, node_name, images):
    try:
        _rollout(play, api, "create")
        written = {}
        for pvc, vol in volumes(api, STS).items():
            data = os.urandom(4096) + pvc.encode()  # unique per pod even if urandom repeated
            nfs_write(node_name, f"{vol['url']}/{FILE}", data)
            written[pvc] = (vol["uid"], data)
        assert sorted(written) == PVCS
        assert len({d for _, d in written.values()}) == 3
        _check(api, node_name, written, "write", PODS)

        # 1. Every pod deleted: the controller recreates them (new uids) on the same claims.
        before = {n: p.metadata.uid for n, p in pods(api, STS).items()}
        for name in PODS:
            core(api).delete_namespaced_pod(name, NAMESPACE)
        wait_for("the pods to be recreated and ready",
                 lambda: sorted(pods(api, STS)) == PODS
                 and all(p.metadata.uid != before[n] and ready(p) for n, p in pods(api, STS).items()),
                 timeout=90)
        _check(api, node_name, written, "pod deletion", PODS)

        # 2. Cascade delete (background) with the module, then recreation by site.yml.
        gone = play("molecule/faults/tests/statefulset_absent.yml", sts=STS, cascade="background")
        assert gone.rc == 0, gone.failure()
        wait_for("the StatefulSet and its pods to be gone",
                 lambda: statefulset(api, STS) is None and not pods(api, STS), timeout=60)
        _check(api, node_name, written, "cascade delete", [])
        _rollout(play, api, "recreation")
        _check(api, node_name, written, "recreation", PODS)

        # 3. Scale down to 1 (claims of 1 and 2 kept), then up to 3 (the same claims reused).
        _rollout(play, api, "scale down", k8s_statefulset_nginx_replicas=1)
        _check(api, node_name, written, "scale down", PODS[:1])
        _rollout(play, api, "scale up", k8s_statefulset_nginx_replicas=3)
        _check(api, node_name, written, "scale up", PODS)

        # 4. Image upgrade: every pod replaced with the new image, data unchanged.
        upgraded = images["nginx_upgrade"]
        _rollout(play, api, "image upgrade", k8s_statefulset_nginx_image=upgraded)
        assert {p.spec.containers[0].image for p in pods(api, STS).values()} == {upgraded}
        _check(api, node_name, written, "image upgrade", PODS)
        assert sorted(claims(api, STS)) == PVCS
    finally:
        remove(api, STS)
