"""stateful.nfs.statefulset against the lab cluster: apply, re-apply, check mode, diff, waits, timeouts."""
from __future__ import annotations

import json

import pytest

from .conftest import (
    ROLLOUT,
    image_of,
    is_ready,
    pods_of,
    settled_sts,
    static_storage,
    sts_args,
    vct,
)


def _sts(lab, ns, name="web"):
    return lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/{name}")


def _svc(lab, ns, name="web"):
    return lab.get(f"/api/v1/namespaces/{ns}/services/{name}")


def test_apply_creates_service_statefulset_pods_and_bound_pvcs(lab, ns, run):
    sc = static_storage(lab, ns, 3)
    res = run("statefulset", sts_args(lab, ns, replicas=3, volume_claim_templates=vct(sc), wait=True,
                                      wait_timeout=ROLLOUT), diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert [(o["kind"], o["action"]) for o in res["objects"]] == [("Service", "create"), ("StatefulSet", "create")]
    assert res["pvc_names"] == ["data-web-0", "data-web-1", "data-web-2"]

    svc = _svc(lab, ns)
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["selector"] == {"app": "web"}
    assert [(p["name"], p["port"]) for p in svc["spec"]["ports"]] == [("web", 80)]

    sts = _sts(lab, ns)
    spec = sts["spec"]
    assert spec["replicas"] == 3 and spec["serviceName"] == "web"
    assert spec["selector"] == {"matchLabels": {"app": "web"}}
    c = spec["template"]["spec"]["containers"][0]
    assert (c["name"], c["image"]) == ("nginx", lab.nginx)
    assert c["ports"][0]["containerPort"] == 80
    assert {"name": "data", "mountPath": "/usr/share/nginx/html"}.items() <= c["volumeMounts"][0].items()
    tpl = spec["volumeClaimTemplates"][0]
    assert tpl["metadata"]["name"] == "data"
    assert tpl["spec"]["storageClassName"] == sc
    assert tpl["spec"]["resources"]["requests"]["storage"] == "1Gi"
    # written with server-side apply under the documented field manager
    managers = {(f["manager"], f["operation"]) for f in sts["metadata"]["managedFields"]}
    assert ("stateful.nfs", "Apply") in managers, managers

    pods = pods_of(lab, ns)
    assert [p["metadata"]["name"] for p in pods] == ["web-0", "web-1", "web-2"]
    assert all(is_ready(p) for p in pods)
    assert [p["spec"]["hostname"] for p in pods] == ["web-0", "web-1", "web-2"]
    pvcs = lab.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")
    assert [(p["metadata"]["name"], p["status"]["phase"]) for p in pvcs] == [
        ("data-web-0", "Bound"), ("data-web-1", "Bound"), ("data-web-2", "Bound")]
    assert len({p["spec"]["volumeName"] for p in pvcs}) == 3

    # diff: one before/after pair per created object, before empty
    diffs = res["diff"]
    assert len(diffs) == 2, diffs
    assert all(d["before"] in ("", {}, None) for d in diffs)
    assert "clusterIP: None" in diffs[0]["after"]
    assert "kind: StatefulSet" in diffs[1]["after"] and f"image: {lab.nginx}" in diffs[1]["after"]


def test_reapply_is_unchanged_and_sends_no_write(lab, ns, run):
    sc = static_storage(lab, ns, 2)
    args = sts_args(lab, ns, replicas=2, volume_claim_templates=vct(sc), wait=True, wait_timeout=ROLLOUT)
    first = run("statefulset", args, via="inproc")
    assert first["changed"] is True, first.get("msg")
    rv = settled_sts(lab, ns)["metadata"]["resourceVersion"]

    lab.reset_stats()
    # as a user would (ansible-playbook --diff), the identity table asked for as role statefulset asks it
    second = run("statefulset", dict(args, return_identity=True), diff=True)
    stats = lab.stats()
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False
    assert [o["action"] for o in second["objects"]] == ["unchanged", "unchanged"]
    assert not second.get("diff"), second.get("diff")
    assert stats["requests"] > 0 and stats["audit_requests"] > 0, "the second run did not talk to the API at all"
    assert all(ua.startswith("stateful.nfs/") for ua in stats["user_agents"]), stats["user_agents"]
    writes = {m: stats["by_method"].get(m, 0) for m in ("POST", "PUT", "PATCH", "DELETE")}
    assert writes == {"POST": 0, "PUT": 0, "PATCH": 0, "DELETE": 0}, stats
    assert stats["writes"] == 0 and stats["dry_run_writes"] == 0, stats
    assert lab.write_requests() == {}, stats
    assert _sts(lab, ns)["metadata"]["resourceVersion"] == rv
    assert second["rollout"]["ready"] is True
    # read after the wait: each pod with its claim, Bound to a PV of its own, and that PV's NFS source
    identity = second["identity"]
    assert identity["exists"] is True and identity["missing_ordinals"] == []
    assert [(r["name"], r["ready"]) for r in identity["pods"]] == [("web-0", True), ("web-1", True)]
    claims = [r["volumes"][0] for r in identity["pods"]]
    assert [(c["pvc"], c["pvc_phase"]) for c in claims] == [("data-web-0", "Bound"), ("data-web-1", "Bound")]
    assert len({c["pv"] for c in claims}) == 2 and all(c["nfs_path"] for c in claims), claims
    assert "identity" not in first  # only when asked


def test_template_fields_set_by_another_field_manager_are_reported(lab, ns, run):
    # Issue 24.8: a `kubectl patch` of the pod template was kept by server-side apply and never
    # reported. `kubectl rollout restart`'s annotation is expected and left out.
    sc = static_storage(lab, ns, 1)
    args = sts_args(lab, ns, replicas=1, volume_claim_templates=vct(sc), wait=False)
    first = run("statefulset", args)
    assert first["changed"] is True and first["foreign_fields"] == [], first
    lab.lab.kubectl("-n", ns, "patch", "statefulset", "web", "--type", "merge", "--field-manager", "kubectl-patch",
                    "-p", '{"spec":{"template":{"metadata":{"labels":{"tier":"edge"}}}}}')
    lab.lab.kubectl("-n", ns, "rollout", "restart", "statefulset/web")
    again = run("statefulset", args)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False
    assert again["foreign_fields"] == [{"manager": "kubectl-patch", "field": "spec.template.metadata.labels.tier"}]
    warning = " ".join(str(w) for w in again.get("warnings") or [])
    assert f"StatefulSet {ns}/web: fields of the pod template or claim templates were set by another field manager" in warning
    assert "kubectl-patch: spec.template.metadata.labels.tier" in warning and "restartedAt" not in warning


def test_check_mode_persists_nothing_and_shows_diff(lab, ns, run):
    lab.reset_stats()
    res = run("statefulset", sts_args(lab, ns, replicas=2), check=True, diff=True)
    stats = lab.stats()
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert [o["action"] for o in res["objects"]] == ["create", "create"]
    assert any("kind: StatefulSet" in d["after"] for d in res["diff"])
    assert _sts(lab, ns) is None and _svc(lab, ns) is None
    assert pods_of(lab, ns) == []
    assert stats["writes"] == 0, stats  # every write carried dryRun=All
    assert stats["dry_run_writes"] >= 2, stats

    # check mode on an existing object: reports the change, the live object keeps the old image
    assert run("statefulset", sts_args(lab, ns, replicas=2), via="inproc")["changed"] is True
    before = settled_sts(lab, ns)
    res = run("statefulset", sts_args(lab, ns, replicas=2, image=lab.nginx_upgrade), check=True, diff=True,
              via="inproc")
    assert res["changed"] is True
    after = _sts(lab, ns)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == lab.nginx
    assert [d for d in res["diff"] if lab.nginx_upgrade in d["after"]], res["diff"]


def test_diff_of_an_update_shows_old_and_new_values_only_for_what_changed(lab, ns, run):
    assert run("statefulset", sts_args(lab, ns, replicas=1), via="inproc")["changed"] is True
    res = run("statefulset", sts_args(lab, ns, replicas=2, image=lab.nginx_upgrade), diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert [(o["kind"], o["action"]) for o in res["objects"]] == [("Service", "unchanged"),
                                                                    ("StatefulSet", "update")]
    assert len(res["diff"]) == 1, res["diff"]
    d = res["diff"][0]
    assert f"image: {lab.nginx}" in d["before"] and f"image: {lab.nginx_upgrade}" in d["after"]
    assert "replicas: 1" in d["before"] and "replicas: 2" in d["after"]
    sts = _sts(lab, ns)
    assert sts["spec"]["replicas"] == 2 and sts["spec"]["template"]["spec"]["containers"][0]["image"] == lab.nginx_upgrade


def test_wait_returns_readiness_timeline_in_ordinal_order(lab, ns, run):
    res = run("statefulset", sts_args(lab, ns, replicas=3, wait=True, wait_timeout=ROLLOUT), via="inproc")
    assert not res.get("failed"), res.get("msg")
    ro = res["rollout"]
    assert ro["ready"] is True and ro["in_order"] is True
    assert ro["current_revision"] == ro["update_revision"]
    tl = ro["timeline"]
    assert [(t["pod"], t["ordinal"]) for t in tl] == [("web-0", 0), ("web-1", 1), ("web-2", 2)]
    assert [t["ready_at"] for t in tl] == sorted(t["ready_at"] for t in tl)
    # the timeline agrees with the cluster: same pod uids, and each pod's Ready transition in that order
    pods = {p["metadata"]["name"]: p for p in pods_of(lab, ns)}
    assert [t["uid"] for t in tl] == [pods[f"web-{i}"]["metadata"]["uid"] for i in range(3)]
    ready_ts = [next(c["lastTransitionTime"] for c in pods[f"web-{i}"]["status"]["conditions"]
                     if c["type"] == "Ready") for i in range(3)]
    assert ready_ts == sorted(ready_ts)
    # OrderedReady: pod N+1 was created no earlier than pod N became ready
    created = [pods[f"web-{i}"]["metadata"]["creationTimestamp"] for i in range(3)]
    assert created[1] >= ready_ts[0] and created[2] >= ready_ts[1], (created, ready_ts)


def test_wait_with_partition_returns_and_updates_only_high_ordinals(lab, ns, run):
    assert not run("statefulset", sts_args(lab, ns, replicas=3, wait=True, wait_timeout=ROLLOUT),
                   via="inproc").get("failed")
    uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods_of(lab, ns)}

    res = run("statefulset", sts_args(lab, ns, replicas=3, image=lab.nginx_upgrade, partition=2, wait=True,
                                      wait_timeout=ROLLOUT), via="inproc")
    assert not res.get("failed"), res.get("msg")
    ro = res["rollout"]
    assert ro["ready"] is True and ro["partition"] == 2
    assert ro["current_revision"] != ro["update_revision"]
    pods = {p["metadata"]["name"]: p for p in pods_of(lab, ns)}
    assert {n: image_of(p) for n, p in pods.items()} == {"web-0": lab.nginx, "web-1": lab.nginx,
                                                         "web-2": lab.nginx_upgrade}
    hashes = {n: p["metadata"]["labels"]["controller-revision-hash"] for n, p in pods.items()}
    assert hashes == {"web-0": ro["current_revision"], "web-1": ro["current_revision"],
                      "web-2": ro["update_revision"]}
    assert pods["web-0"]["metadata"]["uid"] == uids["web-0"] and pods["web-1"]["metadata"]["uid"] == uids["web-1"]
    assert pods["web-2"]["metadata"]["uid"] != uids["web-2"]
    assert all(is_ready(p) for p in pods.values())

    # lift the partition: every pod moves to the new revision, rolled from the highest ordinal down
    res = run("statefulset", sts_args(lab, ns, replicas=3, image=lab.nginx_upgrade, partition=0, wait=True,
                                      wait_timeout=ROLLOUT), via="inproc")
    assert not res.get("failed"), res.get("msg")
    ro = res["rollout"]
    assert ro["current_revision"] == ro["update_revision"]
    pods = {p["metadata"]["name"]: p for p in pods_of(lab, ns)}
    assert {image_of(p) for p in pods.values()} == {lab.nginx_upgrade}
    assert all(p["metadata"]["labels"]["controller-revision-hash"] == ro["update_revision"] for p in pods.values())
    assert pods["web-0"]["metadata"]["uid"] != uids["web-0"]
    ready = {n: next(c["lastTransitionTime"] for c in p["status"]["conditions"] if c["type"] == "Ready")
             for n, p in pods.items()}
    assert ready["web-1"] >= ready["web-2"] and ready["web-0"] >= ready["web-1"], ready


def test_timeout_names_pods_phase_conditions_and_image_pull_events(lab, ns, run):
    # a tag the lab's nginx image does not have: no node holds it, and there is no registry to pull
    # it from (kubelet's pull fails at once: connection refused), so web-0 stays in ImagePullBackOff
    missing = lab.nginx.rsplit(":", 1)[0] + ":does-not-exist"
    res = run("statefulset", sts_args(lab, ns, replicas=2, image=missing, wait=True, wait_timeout=12))
    assert res.get("failed") is True
    msg = res["msg"]
    assert "Timed out" in msg or "timed out" in msg, msg
    assert f"{ns}/web" in msg
    assert "0/2 pods ready" in msg, msg
    assert "web-0" in msg and "Pending" in msg, msg
    assert "ContainersNotReady" in msg or "Ready=False" in msg, msg
    assert "ImagePullBackOff" in msg, msg
    assert "ErrImagePull" in msg or "Failed to pull image" in msg, msg
    assert "web-1" in msg and "not created" in msg, msg  # OrderedReady: web-1 waits for web-0


def test_timeout_names_unbound_pvc_and_unschedulable(lab, ns, run):
    sc = f"noprov-{ns}"  # no provisioner serves example.com/not-running
    lab.create("/apis/storage.k8s.io/v1/storageclasses", {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": sc},
        "provisioner": "example.com/not-running"})
    res = run("statefulset", sts_args(lab, ns, replicas=1, volume_claim_templates=vct(sc), wait=True,
                                      wait_timeout=10), via="inproc")
    assert res.get("failed") is True
    msg = res["msg"]
    assert "web-0" in msg and "Pending" in msg, msg
    assert "Unschedulable" in msg and "unbound immediate PersistentVolumeClaims" in msg, msg
    assert "data-web-0" in msg, msg
    assert "example.com/not-running" in msg, msg  # the PVC's ExternalProvisioning event


@pytest.mark.parametrize("bad, field", [
    ({"replicas": -1}, "replicas"),
    ({"name": "Web_1"}, "name"),
    ({"volume_claim_templates": [{"name": "data", "size": "lots", "mount_path": "/d"}]}, "size"),
])
def test_bad_input_fails_naming_it_and_sends_no_write(lab, ns, run, bad, field):
    lab.reset_stats()
    res = run("statefulset", {**sts_args(lab, ns, replicas=1), **bad}, via="inproc")
    assert res.get("failed") is True
    assert field in res["msg"], res["msg"]
    assert lab.stats()["writes"] == 0 and lab.write_requests() == {}
    assert lab.items(f"/apis/apps/v1/namespaces/{ns}/statefulsets") == []


def test_a_second_statefulset_that_would_mix_with_the_first_is_refused_and_teardown_keeps_a_shared_service(
        lab, ns, run):
    """Failure mode (issue 24.4): a renamed walkthrough StatefulSet kept Service web and selector
    app=nginx; the second one then shared both, DNS answered six addresses, and tearing it down
    deleted the Service the first still used."""
    first = run("statefulset", sts_args(lab, ns, name="web", replicas=1, labels={"app": "nginx"}, service_name="web"))
    assert not first.get("failed"), first.get("msg")
    lab.reset_stats()
    same_labels = run("statefulset", sts_args(lab, ns, name="shop", replicas=1, labels={"app": "nginx"},
                                              service_name="shop"))
    assert same_labels.get("failed") and "would select the pods of StatefulSet " + ns + "/web" in same_labels["msg"]
    same_service = run("statefulset", sts_args(lab, ns, name="shop", replicas=1, labels={"app": "shop"},
                                               service_name="web"))
    assert same_service.get("failed") and f"Service {ns}/web already governs StatefulSet {ns}/web" in same_service["msg"]
    assert lab.write_requests() == {}, "a refused run writes nothing, not even a dry run"
    assert lab.http("GET", f"/apis/apps/v1/namespaces/{ns}/statefulsets/shop")[0] == 404

    # one made by hand before (kubectl), governed by the first one's Service: teardown keeps the Service
    legacy = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "legacy", "namespace": ns},
              "spec": {"serviceName": "web", "replicas": 0, "selector": {"matchLabels": {"app": "legacy"}},
                       "template": {"metadata": {"labels": {"app": "legacy"}},
                                    "spec": {"containers": [{"name": "c", "image": lab.nginx}]}}}}
    lab.lab.kubectl("apply", "-f", "-", stdin=json.dumps(legacy))
    down = run("statefulset", {"name": "web", "namespace": ns, "state": "absent"})
    assert not down.get("failed"), down.get("msg")
    assert lab.http("GET", f"/apis/apps/v1/namespaces/{ns}/statefulsets/web")[0] == 404
    assert _svc(lab, ns)["metadata"]["name"] == "web"
    assert any("also governs StatefulSet(s) legacy" in str(w) for w in down.get("warnings", [])), down.get("warnings")


def test_a_rollout_that_needs_a_forced_rollback_fails_early_and_force_rollback_finishes_it(lab, ns, run):
    """Issue 24.5: a broken template, then the good one again: the pod of the broken revision is
    never replaced by the controller (OrderedReady, Kubernetes docs "Forced rollback"). The wait
    says so once it is known (a short grace, not the whole timeout); force_rollback deletes
    exactly that pod and the rollout finishes."""
    import time

    assert not run("statefulset", sts_args(lab, ns, replicas=2, wait=True, wait_timeout=ROLLOUT),
                   via="inproc").get("failed")
    broken = run("statefulset", sts_args(lab, ns, replicas=2, image=lab.image("busybox"), wait=True, wait_timeout=30),
                 via="inproc")
    assert broken.get("failed") and "Timed out after 30s" in broken["msg"], broken.get("msg")
    start = time.monotonic()
    # the broken pods: web-1, and web-0 too when web-1 was Ready for a moment between its crashes
    stuck = sorted(n for n, p in {p["metadata"]["name"]: p for p in pods_of(lab, ns)}.items()
                   if image_of(p) == lab.image("busybox"))
    assert "web-1" in stuck
    back = run("statefulset", sts_args(lab, ns, replicas=2, wait=True, wait_timeout=600), via="inproc")
    took = time.monotonic() - start
    assert back.get("failed") and back["forced_rollback"] == stuck, back.get("msg")
    assert all(f"kubectl delete pod -n {ns} {pod}" in back["msg"] for pod in stuck), back["msg"]
    assert took < 90, f"known after {took:.0f} s of a 600 s timeout"
    uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods_of(lab, ns)}
    done = run("statefulset", sts_args(lab, ns, replicas=2, wait=True, wait_timeout=ROLLOUT, force_rollback=True),
               via="inproc")
    assert not done.get("failed"), done.get("msg")
    assert done["forced_rollback"] == stuck and done["rollout"]["ready"] is True
    pods = {p["metadata"]["name"]: p for p in pods_of(lab, ns)}
    assert all(pods[pod]["metadata"]["uid"] != uids[pod] for pod in stuck)
    assert all(is_ready(p) for p in pods.values())
    assert {n: image_of(p) for n, p in pods.items()} == {"web-0": lab.nginx, "web-1": lab.nginx}
