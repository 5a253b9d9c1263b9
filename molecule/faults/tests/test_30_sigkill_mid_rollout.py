"""A run killed (SIGKILL, whole process group) in the middle of the
StatefulSet rollout; the next run converges with no duplicate objects, no orphaned
PVCs or PVs or NFS directories, and the right identity table; the one after is changed=0.
"""
from __future__ import annotations

import json
import os
import signal

from conftest import (NAMESPACE, REPORT_DIR, TEMPLATE, apps, claims, core, dexec, names, pods, ready, remove,
                      statefulset, volumes, wait_for)

STS = "killed"
REPLICAS = 4
PODS = [f"{STS}-{i}" for i in range(REPLICAS)]
PVCS = [f"{TEMPLATE}-{p}" for p in PODS]
STAGES = "statefulset,verify,report"
VARS = names(STS, k8s_statefulset_nginx_replicas=REPLICAS)


def test_sigkill_mid_rollout_then_rerun_converges(play, start_play, api, nfs_name):
    try:
        proc = start_play("site.yml", tags="statefulset", **VARS)

        def mid_rollout():
            assert proc.poll() is None, f"the run ended (rc {proc.returncode}) before the rollout was caught"
            sts = statefulset(api, STS)
            if sts is None or not claims(api, STS):
                return None
            n_ready = sum(ready(p) for p in pods(api, STS).values())
            return {"ready": n_ready, "claims": {n: c.metadata.uid for n, c in claims(api, STS).items()}} \
                if n_ready < REPLICAS else None

        at_kill = wait_for("the StatefulSet to exist with claims but not all pods ready", mid_rollout,
                           timeout=120, interval=0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert at_kill["ready"] < REPLICAS

        rerun = play("site.yml", tags=STAGES, **VARS)
        assert rerun.rc == 0, rerun.failure()

        # No duplicate objects: one StatefulSet and one Service for the app, pods exactly
        # the ordinals, each owned by that StatefulSet.
        sts_list = [s for s in apps(api).list_namespaced_stateful_set(NAMESPACE).items
                    if s.spec.selector.match_labels == {"app": STS}]
        assert [s.metadata.name for s in sts_list] == [STS]
        svc_list = [s for s in core(api).list_namespaced_service(NAMESPACE).items
                    if (s.spec.selector or {}) == {"app": STS}]
        assert [s.metadata.name for s in svc_list] == [STS]
        current = pods(api, STS)
        assert sorted(current) == PODS and all(ready(p) for p in current.values())
        for pod in current.values():
            assert [(o.kind, o.uid) for o in pod.metadata.owner_references] == [("StatefulSet", sts_list[0].metadata.uid)]
            assert [v.persistent_volume_claim.claim_name for v in pod.spec.volumes if v.persistent_volume_claim] == \
                [f"{TEMPLATE}-{pod.metadata.name}"]

        # No orphaned claims: exactly <template>-<sts>-0..N-1, all Bound, the ones made
        # before the kill kept (same uid), one PV and one NFS directory each.
        now = claims(api, STS)
        assert sorted(now) == PVCS
        assert {c.status.phase for c in now.values()} == {"Bound"}
        for name, uid in at_kill["claims"].items():
            assert now[name].metadata.uid == uid, f"{name} was recreated after the kill"
        pvs = [pv for pv in core(api).list_persistent_volume().items
               if pv.spec.claim_ref and pv.spec.claim_ref.name.startswith(f"{TEMPLATE}-{STS}-")]
        assert sorted((pv.spec.claim_ref.name, pv.spec.claim_ref.uid) for pv in pvs) == \
            sorted((n, c.metadata.uid) for n, c in now.items())
        vols = volumes(api, STS)
        dirs = dexec(nfs_name, "ls", "-1", "/srv/nfs").decode().split()
        mine = sorted(d for d in dirs if d.startswith(f"{NAMESPACE}-{TEMPLATE}-{STS}-"))
        assert mine == sorted(f"{NAMESPACE}-{pvc}-{v['pv']}" for pvc, v in vols.items())

        # Identity table of the re-run.
        report = json.loads((REPORT_DIR / f"{STS}-identity.json").read_text())
        rows = report["pods"]
        assert [r["name"] for r in rows] == PODS
        assert [r["ordinal"] for r in rows] == list(range(REPLICAS))
        assert [r["pvc"] for r in rows] == PVCS
        assert [r["dns_name"] for r in rows] == [f"{p}.{STS}.{NAMESPACE}.svc.cluster.local" for p in PODS]
        assert [r["nfs_path"] for r in rows] == [vols[pvc]["dir"] for pvc in PVCS]
        assert len({r["pod_ip"] for r in rows}) == REPLICAS

        again = play("site.yml", tags=STAGES, **VARS)
        assert again.rc == 0, again.failure()
        assert set(again.changed().values()) == {0}, again.changed_tasks()
    finally:
        remove(api, STS)
