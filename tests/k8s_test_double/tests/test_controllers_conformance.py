"""Conformance of the emulated controllers, kubelet, binder, provisioner gate and DNS (real client)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import dns.message
import dns.query
import dns.rcode
from kubernetes import client, config, watch

from .conftest import apply, headless_service, sts_manifest, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _pods(v1, ns, sel):
    return sorted(v1.list_namespaced_pod(ns, label_selector=sel).items, key=lambda p: p.metadata.name)


def _ready(p):
    return p.status.phase == "Running" and any(c.type == "Ready" and c.status == "True"
                                               for c in p.status.conditions or [])


def _sts_ready(apps, ns, name, n):
    s = apps.read_namespaced_stateful_set(name, ns)
    return (s.status.ready_replicas or 0) == n and s.status.replicas == n and s


def test_deployment_becomes_available(apps, v1, ns):
    """A Deployment gets a ReplicaSet and pods; status reports availableReplicas and Available=True.
    https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#complete-deployment"""
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "prov"}, "spec": {
        "replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": {"app": "prov"}},
        "template": {"metadata": {"labels": {"app": "prov"}}, "spec": {"containers": [
            {"name": "p", "image": "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2"}]}}}})

    def available():
        d = apps.read_namespaced_deployment("prov", ns)
        conds = {c.type: c.status for c in d.status.conditions or []}
        return d.status.available_replicas == 1 and conds.get("Available") == "True" and d
    d = wait_for(available, 5, what="Deployment Available")
    assert d.status.observed_generation == d.metadata.generation
    rs = apps.list_namespaced_replica_set(ns).items
    assert len(rs) == 1 and rs[0].metadata.owner_references[0].kind == "Deployment"
    assert "pod-template-hash" in rs[0].metadata.labels
    assert len(v1.list_namespaced_pod(ns, label_selector="app=prov").items) == 1


def test_statefulset_ordered_ready_creation_and_identity(apps, v1, ns):
    """OrderedReady: pod N+1 is created only after pod N is Running and Ready; stable identity:
    hostname = pod name, subdomain = serviceName, pod-name/pod-index/controller-revision-hash labels.
    https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#deployment-and-scaling-guarantees"""
    v1.create_namespaced_service(ns, headless_service("web"))
    log = []
    w = watch.Watch()

    def consume():
        for ev in w.stream(v1.list_namespaced_pod, ns, timeout_seconds=10):
            p = ev["object"]
            log.append((ev["type"], p.metadata.name, _ready(p)))
            if sum(1 for t, _, r in log if r) >= 3 and len({n for _, n, r in log if r}) == 3:
                w.stop()
    th = threading.Thread(target=consume)
    th.start()
    time.sleep(0.2)
    apply(apps.patch_namespaced_stateful_set, "web", ns, sts_manifest("web", replicas=3))
    th.join(12)
    added = [n for t, n, _ in log if t == "ADDED"]
    assert added == ["web-0", "web-1", "web-2"]
    for i in (1, 2):
        first_add = next(k for k, (t, n, _) in enumerate(log) if t == "ADDED" and n == f"web-{i}")
        prev_ready = next(k for k, (t, n, r) in enumerate(log) if n == f"web-{i - 1}" and r)
        assert prev_ready < first_add, log
    s = wait_for(lambda: _sts_ready(apps, ns, "web", 3), 5)
    for i, p in enumerate(_pods(v1, ns, "app=web")):
        assert p.metadata.name == f"web-{i}"
        assert p.spec.hostname == p.metadata.name and p.spec.subdomain == "web"
        assert p.metadata.labels["statefulset.kubernetes.io/pod-name"] == p.metadata.name
        assert p.metadata.labels["apps.kubernetes.io/pod-index"] == str(i)
        assert p.metadata.labels["controller-revision-hash"] == s.status.update_revision
        assert p.status.pod_ip.startswith("10.244.") and p.spec.node_name.startswith("lab-node-")
        assert p.metadata.owner_references[0].kind == "StatefulSet"
    assert s.status.current_revision == s.status.update_revision
    assert s.status.current_replicas == 3 and s.status.updated_replicas == 3
    revs = apps.list_namespaced_controller_revision(ns).items
    assert [r.metadata.name for r in revs] == [s.status.update_revision] and revs[0].revision == 1


def test_statefulset_parallel_creates_all_at_once(apps, v1, ns):
    """podManagementPolicy Parallel launches all pods without waiting for readiness.
    https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#parallel-pod-management"""
    apply(apps.patch_namespaced_stateful_set, "par", ns,
          sts_manifest("par", replicas=3, image="nginx:does-not-exist", podManagementPolicy="Parallel"))
    pods = wait_for(lambda: len(_pods(v1, ns, "app=par")) == 3 and _pods(v1, ns, "app=par"), 5)
    assert not any(_ready(p) for p in pods)  # none can become ready (image marker), still all exist


def test_statefulset_scale_down_from_highest_ordinal(apps, v1, ns):
    """Scaling down terminates pods in reverse ordinal order, one at a time.
    https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#deployment-and-scaling-guarantees"""
    apply(apps.patch_namespaced_stateful_set, "sd", ns, sts_manifest("sd", replicas=3))
    wait_for(lambda: _sts_ready(apps, ns, "sd", 3), 5)
    deleted = []
    w = watch.Watch()
    rv = v1.list_namespaced_pod(ns).metadata.resource_version

    def consume():
        for ev in w.stream(v1.list_namespaced_pod, ns, resource_version=rv, timeout_seconds=5):
            if ev["type"] == "DELETED":
                deleted.append(ev["object"].metadata.name)
                if len(deleted) == 2:
                    w.stop()
    th = threading.Thread(target=consume)
    th.start()
    apps.patch_namespaced_stateful_set("sd", ns, {"spec": {"replicas": 1}})
    th.join(6)
    assert deleted == ["sd-2", "sd-1"]
    wait_for(lambda: _sts_ready(apps, ns, "sd", 1), 5)
    assert [p.metadata.name for p in _pods(v1, ns, "app=sd")] == ["sd-0"]


def test_statefulset_rolling_update_honors_partition(apps, v1, ns):
    """RollingUpdate replaces pods from the highest ordinal down, only ordinals >= partition; new
    ControllerRevision; status currentRevision/updateRevision.
    https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#partitions"""
    body = sts_manifest("ru", replicas=3, image="nginx:1.25")
    apply(apps.patch_namespaced_stateful_set, "ru", ns, body)
    s = wait_for(lambda: _sts_ready(apps, ns, "ru", 3), 5)
    old_rev = s.status.current_revision
    body["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}
    apply(apps.patch_namespaced_stateful_set, "ru", ns, body)

    def partitioned():
        s = apps.read_namespaced_stateful_set("ru", ns)
        pods = _pods(v1, ns, "app=ru")
        revs = [p.metadata.labels["controller-revision-hash"] for p in pods]
        return (len(pods) == 3 and all(_ready(p) for p in pods) and revs[0] == old_rev
                and revs[1] == revs[2] == s.status.update_revision and s.status.updated_replicas == 2 and s)
    s = wait_for(partitioned, 8, what="partitioned rollout")
    assert s.status.current_revision == old_rev and s.status.update_revision != old_rev
    assert s.status.current_replicas == 1
    assert _pods(v1, ns, "app=ru")[2].spec.containers[0].image == "nginx:1.27"
    assert _pods(v1, ns, "app=ru")[0].spec.containers[0].image == "nginx:1.25"
    assert len(apps.list_namespaced_controller_revision(ns).items) == 2
    apps.patch_namespaced_stateful_set("ru", ns, {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})

    def done():
        s = apps.read_namespaced_stateful_set("ru", ns)
        return s.status.current_revision == s.status.update_revision and s.status.updated_replicas == 3 and \
            (s.status.ready_replicas or 0) == 3 and s
    wait_for(done, 8, what="full rollout")
    assert all(p.spec.containers[0].image == "nginx:1.27" for p in _pods(v1, ns, "app=ru"))


def test_statefulset_pvcs_and_retention_policy(apps, v1, ns):
    """volumeClaimTemplates give PVCs <template>-<sts>-<ordinal>; whenDeleted=Delete puts the StatefulSet
    as owner, Retain leaves no owner reference.
    https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#persistentvolumeclaim-retention"""
    vct = [{"metadata": {"name": "nginx-pvc"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "",
                                                        "resources": {"requests": {"storage": "1Gi"}}}}]
    apply(apps.patch_namespaced_stateful_set, "keep", ns, sts_manifest("keep", replicas=2, volumeClaimTemplates=vct,
                                                                       podManagementPolicy="Parallel"))
    apply(apps.patch_namespaced_stateful_set, "gone", ns, sts_manifest(
        "gone", replicas=1, volumeClaimTemplates=vct,
        persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete", "whenScaled": "Retain"}))
    wait_for(lambda: len(v1.list_namespaced_persistent_volume_claim(ns).items) == 3, 5)
    pvcs = {p.metadata.name: p for p in v1.list_namespaced_persistent_volume_claim(ns).items}
    assert set(pvcs) == {"nginx-pvc-keep-0", "nginx-pvc-keep-1", "nginx-pvc-gone-0"}
    assert not pvcs["nginx-pvc-keep-0"].metadata.owner_references
    assert pvcs["nginx-pvc-gone-0"].metadata.owner_references[0].kind == "StatefulSet"
    assert pvcs["nginx-pvc-keep-0"].metadata.labels == {"app": "keep"}
    pod = _pods(v1, ns, "app=keep")[0]
    assert pod.status.phase == "Pending"  # claims have no volume (no class, no PV): cannot schedule
    assert {v.name: v.persistent_volume_claim.claim_name for v in pod.spec.volumes if v.persistent_volume_claim} == \
        {"nginx-pvc": "nginx-pvc-keep-0"}
    apps.delete_namespaced_stateful_set("gone", ns)
    wait_for(lambda: "nginx-pvc-gone-0" not in {p.metadata.name for p in
                                                v1.list_namespaced_persistent_volume_claim(ns).items}, 5)
    apps.delete_namespaced_stateful_set("keep", ns)
    time.sleep(0.3)
    assert {"nginx-pvc-keep-0"} <= {p.metadata.name for p in v1.list_namespaced_persistent_volume_claim(ns).items}


def test_pod_with_unbound_pvc_stays_pending_with_event(v1, ns):
    """A pod whose claim is not Bound is not scheduled: Pending, PodScheduled=False, FailedScheduling event.
    https://kubernetes.io/docs/concepts/storage/persistent-volumes/#binding"""
    v1.create_namespaced_persistent_volume_claim(ns, {"metadata": {"name": "c"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": "", "resources": {"requests": {"storage": "1Gi"}}}})
    v1.create_namespaced_pod(ns, {"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "c", "image": "busybox:1.36"}],
        "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "c"}}]}})
    evs = wait_for(lambda: v1.list_namespaced_event(ns, field_selector="involvedObject.name=p,reason=FailedScheduling")
                   .items, 5)
    assert "unbound immediate PersistentVolumeClaims" in evs[0].message and evs[0].type == "Warning"
    p = v1.read_namespaced_pod("p", ns)
    assert p.status.phase == "Pending" and p.spec.node_name is None
    # a matching static PV binds the claim and the pod starts
    v1.create_persistent_volume({"metadata": {"name": f"{ns}-pv"}, "spec": {
        "capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
        "hostPath": {"path": "/tmp/static-pv"}}})
    wait_for(lambda: _ready(v1.read_namespaced_pod("p", ns)), 5, what="pod running after binding")
    pvc = v1.read_namespaced_persistent_volume_claim("c", ns)
    assert pvc.status.phase == "Bound" and pvc.spec.volume_name == f"{ns}-pv"
    pv = v1.read_persistent_volume(f"{ns}-pv")
    assert pv.status.phase == "Bound" and pv.spec.claim_ref.name == "c"
    v1.delete_namespaced_pod("p", ns, grace_period_seconds=0)
    v1.delete_namespaced_persistent_volume_claim("c", ns)
    wait_for(lambda: v1.read_persistent_volume(f"{ns}-pv").status.phase == "Released", 5)
    v1.delete_persistent_volume(f"{ns}-pv")


def test_image_pull_failure_marker(v1, ns):
    """An image containing ':does-not-exist' or 'invalid.example/' fails to pull: Waiting ImagePullBackOff,
    Ready=False, Warning events.
    https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff"""
    v1.create_namespaced_pod(ns, {"metadata": {"name": "bad"}, "spec": {
        "containers": [{"name": "c", "image": "invalid.example/nginx:1.0"}]}})

    def backoff():
        p = v1.read_namespaced_pod("bad", ns)
        cs = p.status.container_statuses or []
        return cs and cs[0].state.waiting and cs[0].state.waiting.reason == "ImagePullBackOff" and p
    p = wait_for(backoff, 5)
    assert p.status.phase == "Pending" and not _ready(p)
    reasons = {e.reason for e in v1.list_namespaced_event(ns, field_selector="involvedObject.name=bad").items}
    assert {"Failed", "BackOff", "Scheduled"} <= reasons


def test_crashloop_marker(v1, ns):
    """An image containing ':crashloop' starts but keeps crashing: Running, Ready=False, Waiting CrashLoopBackOff.
    https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-restarts"""
    v1.create_namespaced_pod(ns, {"metadata": {"name": "crash"}, "spec": {
        "containers": [{"name": "c", "image": "busybox:crashloop"}]}})

    def looping():
        p = v1.read_namespaced_pod("crash", ns)
        cs = p.status.container_statuses or []
        return cs and cs[0].state.waiting and cs[0].state.waiting.reason == "CrashLoopBackOff" and p
    p = wait_for(looping, 5)
    assert p.status.phase == "Running" and not _ready(p) and p.status.container_statuses[0].restart_count == 3
    assert v1.list_namespaced_event(ns, field_selector="involvedObject.name=crash,reason=BackOff").items


def test_orphan_delete_then_recreate_adopts_pods(apps, v1, ns):
    """Deleting a StatefulSet with propagationPolicy=Orphan keeps its pods; a new StatefulSet with the same
    selector adopts them without recreating them; default (Background) deletion removes the pods.
    https://kubernetes.io/docs/tasks/run-application/delete-stateful-set/"""
    apply(apps.patch_namespaced_stateful_set, "ad", ns, sts_manifest("ad", replicas=2))
    wait_for(lambda: _sts_ready(apps, ns, "ad", 2), 5)
    uids = {p.metadata.name: p.metadata.uid for p in _pods(v1, ns, "app=ad")}
    apps.delete_namespaced_stateful_set("ad", ns, propagation_policy="Orphan")
    time.sleep(0.3)
    pods = _pods(v1, ns, "app=ad")
    assert {p.metadata.name: p.metadata.uid for p in pods} == uids
    assert all(not p.metadata.owner_references for p in pods)
    s = apply(apps.patch_namespaced_stateful_set, "ad", ns, sts_manifest("ad", replicas=2))
    wait_for(lambda: all(p.metadata.owner_references and p.metadata.owner_references[0].uid == s.metadata.uid
                         for p in _pods(v1, ns, "app=ad")), 5, what="adoption")
    assert {p.metadata.name: p.metadata.uid for p in _pods(v1, ns, "app=ad")} == uids
    revs = wait_for(lambda: [r for r in apps.list_namespaced_controller_revision(ns).items
                             if r.metadata.owner_references], 5, what="revision adopted")
    assert [r.metadata.owner_references[0].uid for r in revs] == [s.metadata.uid]
    apps.delete_namespaced_stateful_set("ad", ns, propagation_policy="Background")
    wait_for(lambda: _pods(v1, ns, "app=ad") == [], 5, what="cascading delete")


def test_cluster_dns_headless_records(double, apps, v1, ns):
    """Headless Service DNS: <pod>.<svc>.<ns>.svc.cluster.local → pod IP; <svc>.<ns>.svc.cluster.local → one A
    per ready pod. Served on a loopback port, queried with dnspython.
    https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#a-aaaa-records-1"""
    v1.create_namespaced_service(ns, headless_service("web"))
    apply(apps.patch_namespaced_stateful_set, "web", ns, sts_manifest("web", replicas=2))
    wait_for(lambda: _sts_ready(apps, ns, "web", 2), 5)
    ips = {p.metadata.name: p.status.pod_ip for p in _pods(v1, ns, "app=web")}

    def q(name):
        r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=double.dns_port, timeout=2)
        return r.rcode(), sorted(a.address for rr in r.answer for a in rr)
    assert q(f"web-0.web.{ns}.svc.cluster.local") == (dns.rcode.NOERROR, [ips["web-0"]])
    assert q(f"web.{ns}.svc.cluster.local") == (dns.rcode.NOERROR, sorted(ips.values()))
    assert q(f"web-9.web.{ns}.svc.cluster.local")[0] == dns.rcode.NXDOMAIN
    r = dns.query.tcp(dns.message.make_query(f"web-1.web.{ns}.svc.cluster.local", "A"), "127.0.0.1",
                      port=double.dns_port, timeout=2)
    assert [a.address for rr in r.answer for a in rr] == [ips["web-1"]]
    v1.delete_namespaced_pod("web-1", ns)
    new = wait_for(lambda: (lambda p: _ready(p) and p.metadata.uid and p)(v1.read_namespaced_pod("web-1", ns))
                   if any(x.metadata.name == "web-1" and _ready(x) and x.status.pod_ip != ips["web-1"]
                          for x in _pods(v1, ns, "app=web")) else None, 5, what="web-1 recreated")
    assert q(f"web-1.web.{ns}.svc.cluster.local") == (dns.rcode.NOERROR, [new.status.pod_ip])
    ep = v1.read_namespaced_endpoints("web", ns)
    assert sorted(a.hostname for a in ep.subsets[0].addresses) == ["web-0", "web-1"]


def test_provisioner_gate_and_unreachable_nfs(double, api, apps, v1, ns):
    """Dynamic provisioning only happens for a class whose provisioner matches a running provisioner
    Deployment; an unreachable NFS server yields a ProvisioningFailed event naming the error and no PV.
    https://kubernetes.io/docs/concepts/storage/dynamic-provisioning/"""
    st = client.StorageV1Api(api)
    cls = f"{ns}-nfs"
    st.create_storage_class({"metadata": {"name": cls}, "provisioner": f"{ns}/ifs",
                             "parameters": {"archiveOnDelete": "true"}})
    v1.create_namespaced_persistent_volume_claim(ns, {"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": cls, "resources": {"requests": {"storage": "1Gi"}}}})
    ev = wait_for(lambda: v1.list_namespaced_event(ns, field_selector="reason=ExternalProvisioning").items, 5)
    assert f"'{ns}/ifs'" in ev[0].message
    # a provisioner pointing at a closed port on loopback: the NFS call fails
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "nfs-client-provisioner"}, "spec": {
        "replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": {"app": "ncp"}},
        "template": {"metadata": {"labels": {"app": "ncp"}}, "spec": {"containers": [{
            "name": "p", "image": "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2",
            "env": [{"name": "PROVISIONER_NAME", "value": f"{ns}/ifs"}, {"name": "NFS_SERVER", "value": "127.0.0.1"},
                    {"name": "NFS_PATH", "value": "/srv/nfs"}]}]}}}})
    ev = wait_for(lambda: v1.list_namespaced_event(ns, field_selector="reason=ProvisioningFailed").items, 15)
    assert "127.0.0.1" in ev[0].message and ev[0].type == "Warning"
    assert v1.read_namespaced_persistent_volume_claim("data", ns).status.phase == "Pending"
    assert not [pv for pv in v1.list_persistent_volume().items if pv.spec.storage_class_name == cls]
    st.delete_storage_class(cls)


def test_cli_writes_kubeconfig_and_state(tmp_path):
    """`python -m tests.k8s_test_double` writes a bearer-token kubeconfig and state files (dns.json) and serves
    the API until SIGTERM; the real client loads that kubeconfig.
    https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/"""
    state, kc = tmp_path / "cluster", tmp_path / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "tests.k8s_test_double", "--state-dir", str(state),
                             "--kubeconfig", str(kc), "--port", "0", "--dns-port", "0", "--pod-ready-delay", "0.05"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        try:
            wait_for(lambda: proc.poll() is not None or ((state / "server.json").exists() and kc.exists()), 20,
                     what="state files")
        except AssertionError:
            proc.kill()
            raise AssertionError(f"no state files; output: {proc.communicate(timeout=5)[0]}") from None
        assert proc.poll() is None, proc.communicate(timeout=5)[0]
        info = json.loads((state / "server.json").read_text())
        assert info["testDouble"] is True and json.loads((state / "dns.json").read_text())["port"] == info["dns"]["port"]
        assert (kc.stat().st_mode & 0o077) == 0
        api = config.new_client_from_config(config_file=str(kc))
        assert client.VersionApi(api).get_code().git_version.endswith("test-double")
        assert "default" in {n.metadata.name for n in client.CoreV1Api(api).list_namespace().items}
        client.CoreV1Api(api).create_namespaced_config_map("default", {"metadata": {"name": "persisted"}})
        api.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    assert "TEST DOUBLE" in out and "not a cluster" in out
    assert "persisted" in (state / "objects.json").read_text()
    # a restart restores the objects (and keeps resourceVersions increasing)
    proc = subprocess.Popen([sys.executable, "-m", "tests.k8s_test_double", "--state-dir", str(state),
                             "--kubeconfig", str(kc), "--quiet"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert "listening on" in proc.stdout.readline()
        api = config.new_client_from_config(config_file=str(kc))
        cm = client.CoreV1Api(api).read_namespaced_config_map("persisted", "default")
        again = client.CoreV1Api(api).create_namespaced_config_map("default", {"metadata": {"name": "later"}})
        assert int(again.metadata.resource_version) > int(cm.metadata.resource_version)
        api.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)


def test_unreachable_nfs_volume_gives_failed_mount(v1, ns):
    """A pod with an NFS volume the emulated kubelet cannot mount (real NFSv3 MOUNT call fails) stays
    ContainerCreating with a FailedMount event naming the error.
    https://kubernetes.io/docs/concepts/storage/volumes/#nfs"""
    v1.create_namespaced_pod(ns, {"metadata": {"name": "nfsp"}, "spec": {
        "containers": [{"name": "c", "image": "busybox:1.36"}],
        "volumes": [{"name": "share", "nfs": {"server": "127.0.0.1", "path": "/srv/nfs"}}]}})
    ev = wait_for(lambda: v1.list_namespaced_event(ns, field_selector="involvedObject.name=nfsp,reason=FailedMount")
                  .items, 15)
    assert "127.0.0.1" in ev[0].message and "MountVolume.SetUp failed" in ev[0].message
    p = v1.read_namespaced_pod("nfsp", ns)
    assert p.status.phase == "Pending"
    assert p.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
