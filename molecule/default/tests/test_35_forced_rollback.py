"""playbooks/upgrade.yml after a broken upgrade: a rollout that needs a forced rollback fails as
soon as that is known (not after the whole timeout), naming the pods and the command; with
-e force_rollback=true exactly those pods are deleted (claims kept) and the rollout finishes
(issue 24, point 5; Kubernetes docs, StatefulSets, "Forced rollback")."""
from __future__ import annotations

from conftest import pods_by_name, pvc_uids

BROKEN_WAIT = 40  # seconds: the broken upgrade's own wait (its pod never becomes Ready)


def test_forced_rollback_is_named_early_then_done_by_upgrade_yml(play, api, images):
    good = pods_by_name(api)["web-0"].spec.containers[0].image  # what test_30 upgraded to
    broken = images["busybox"]  # a real image whose default command (sh) exits: CrashLoopBackOff
    claims = pvc_uids(api)

    run = play("playbooks/upgrade.yml", image=broken, k8s_statefulset_nginx_wait_timeout=BROKEN_WAIT)
    assert run.rc != 0, "an upgrade to an image that never becomes Ready must fail"
    # the broken pods: web-2, and the next ones down while one was Ready for a moment between crashes
    stuck = sorted(n for n, p in pods_by_name(api).items() if p.spec.containers[0].image == broken)
    assert "web-2" in stuck and "web-0" not in stuck, stuck

    # back to the good image: web-2 runs the broken revision, is not Ready, and the controller
    # never replaces it; the wait (default timeout 600 s) ends after the module's short grace
    run = play("playbooks/upgrade.yml", image=good)
    assert run.rc != 0
    failure = run.failure()
    assert "forced rollback" in failure and all(pod in failure for pod in stuck), failure
    assert "-e force_rollback=true" in failure, failure
    assert run.seconds < 180, f"the known failure took {run.seconds:.0f} s (timeout 600 s)"
    uids = {n: p.metadata.uid for n, p in pods_by_name(api).items()}

    run = play("playbooks/upgrade.yml", image=good, force_rollback=True)
    assert run.rc == 0, run.failure()
    r = run.day2
    assert r["forced_rollback"] == stuck
    assert r["upgrade"]["images"] == {p: good for p in ("web-0", "web-1", "web-2")}
    after = pods_by_name(api)
    assert all(after[n].metadata.uid != uids[n] for n in stuck)
    assert {n: p.spec.containers[0].image for n, p in after.items()} == {n: good for n in ("web-0", "web-1", "web-2")}
    assert pvc_uids(api) == claims, "the forced rollback kept every claim"
