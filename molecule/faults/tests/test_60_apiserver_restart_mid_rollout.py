"""kube-apiserver restarted in the middle of a rollout (systemctl restart on the control plane):
the run either waits it out (the client retries connection errors within its budget) or fails
with a message that names the StatefulSet; a re-run converges, and the one after is changed=0.
"""
from __future__ import annotations

from conftest import claims, control_plane, names, pods, ready, remove, statefulset, wait_for

STS = "apirestart"
REPLICAS = 3
PODS = [f"{STS}-{i}" for i in range(REPLICAS)]
VARS = names(STS, k8s_statefulset_nginx_replicas=REPLICAS)


def test_apiserver_restart_mid_rollout(player, api, lab):
    try:
        proc = player.start("site.yml", tags="statefulset", **VARS)

        def mid_rollout():
            assert proc.poll() is None, f"the run ended (rc {proc.returncode}) before the rollout was caught"
            sts = statefulset(api, STS)
            current = pods(api, STS)
            return sts is not None and claims(api, STS) and sum(ready(p) for p in current.values()) < REPLICAS
        wait_for("the rollout to be under way", mid_rollout, timeout=120, interval=0.2)
        control_plane("systemctl", "restart", "kube-apiserver")
        wait_for("kube-apiserver to answer again",
                 lambda: lab.kubectl("get", "--raw", "/readyz", check=False).returncode == 0, timeout=120, interval=1)
        first = proc.finish(timeout=600)
        # Waited it out, or failed with a message that names the object.
        assert first.rc == 0 or f"default/{STS}" in first.failure(), first.failure()
        rerun = player.play("site.yml", tags="statefulset,verify,report", **VARS)
        assert rerun.rc == 0, rerun.failure()
        current = pods(api, STS)
        assert sorted(current) == PODS and all(ready(p) for p in current.values())
        again = player.play("site.yml", tags="statefulset,verify,report", **VARS)
        assert again.rc == 0, again.failure()
        assert set(again.changed().values()) == {0}, again.changed_tasks()
    finally:
        remove(api, STS)
