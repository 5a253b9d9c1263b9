"""The NFS server restarted between provisioning and the StatefulSet rollout. The
provisioner stage runs, NFS-Ganesha is restarted in the server container, and the
statefulset stage runs at once (no wait): the rollout completes, or fails with the NFS
error in its message; either way a re-run converges (changed=0) and every pod serves
its own line from its volume (the role's verify stage, method exec).
"""
from __future__ import annotations

import difflib
import json

from conftest import REPORT_DIR, TEMPLATE, claims, dexec, names, pods, ready, remove

STS = "restart"
PODS = [f"{STS}-{i}" for i in range(3)]
STAGES = "statefulset,verify,report"


def test_rollout_after_nfs_server_restart_converges(play, api, nfs_name):
    provisioned = play("site.yml", tags="provisioner")
    assert provisioned.rc == 0, provisioned.failure()
    try:
        dexec(nfs_name, "timeout", "60", "systemctl", "restart", "nfs-ganesha")
        first = play("site.yml", tags=STAGES, **names(STS))
        if first.rc != 0:
            # Allowed outcome: a clear failure that names NFS.
            assert "nfs" in first.failure().lower(), first.failure()
            again = play("site.yml", tags=STAGES, **names(STS))
            assert again.rc == 0, again.failure()
        report_file = REPORT_DIR / f"{STS}-identity.json"
        before = report_file.read_text()
        rerun = play("site.yml", tags=STAGES, **names(STS))
        assert rerun.rc == 0, rerun.failure()
        diff = "\n".join(difflib.unified_diff(before.splitlines(), report_file.read_text().splitlines(), lineterm=""))
        assert set(rerun.changed().values()) == {0}, \
            f"first run rc {first.rc}; changed: {rerun.changed_tasks()}; report diff:\n{diff[:3000]}"

        current = pods(api, STS)
        assert sorted(current) == PODS and all(ready(p) for p in current.values())
        assert sorted(claims(api, STS)) == [f"{TEMPLATE}-{p}" for p in PODS]
        assert {c.status.phase for c in claims(api, STS).values()} == {"Bound"}
        report = json.loads(report_file.read_text())
        # role statefulset's report (k8s_statefulset_nginx maps onto it): hostname and storage proved through
        # exec, and each pod served its own line, "^congratulations <pod> for k8s$" (the application check)
        assert [r["name"] for r in report["pods"]] == PODS
        verdicts = {(c["pod"], c["check"]): c["status"] for c in report["checks"]}
        assert {(p, check): "pass" for p in PODS for check in ("hostname", "storage", "app")}.items() <= verdicts.items()
        assert report["not_proved"] == []
    finally:
        dexec(nfs_name, "timeout", "60", "systemctl", "start", "nfs-ganesha")
        remove(api, STS)
