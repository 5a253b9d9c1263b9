"""DNS proved without exec: stateful.nfs.statefulset_verify asks the cluster's DNS from the
namespace's DNS client pod, read through the API server's pod proxy, against the lab cluster
(real pods, the cluster's CoreDNS, the lab's busybox image). The pod is created once and kept (a
re-run writes nothing, the audit log says so), never created in check mode, recreated only when
its spec differs, removed with the namespace's last StatefulSet; a wrong record fails naming the
pod, the DNS name and what was answered."""
from __future__ import annotations

from .conftest import static_storage
from .test_statefulset_definition_and_verify import definition, deploy, verify

SELECTOR = "app.kubernetes.io/managed-by=stateful.nfs,app.kubernetes.io/component=dns-client"
CLIENT = "stateful-nfs-dns-client"


def client_pods(lab, ns):
    return lab.items(f"/api/v1/namespaces/{ns}/pods", SELECTOR)


def verify_api(lab, run, ns, name="app", check=False, **extra):
    args = {"name": name, "namespace": ns, "method": "api", "dns_timeout": 20,
            "dns_client": {"image": lab.image("busybox")}}
    args.update(extra)
    return run("statefulset_verify", args, check=check, via="inproc")


def statuses(res, kind):
    return {c["pod"]: c["status"] for c in res["checks"] if c["check"] == kind}


def details(res, kind):
    return {c["pod"]: c["detail"] for c in res["checks"] if c["check"] == kind}


def test_method_api_proves_dns_from_a_client_pod_created_once_and_kept(lab, ns, run):
    sc = static_storage(lab, ns, 2)
    deploy(lab, ns, run, definition(lab, ns, sc))

    # check mode: nothing created (not even a dry run), the check says what it would prove
    lab.reset_stats()
    dry = verify_api(lab, run, ns, check=True)
    assert not dry.get("failed"), dry.get("msg")
    assert lab.stats()["writes"] == 0 and lab.write_requests() == {}
    assert client_pods(lab, ns) == []
    assert statuses(dry, "dns") == {"app-0": "not_proved", "app-1": "not_proved"}
    assert dry["changed"] is True and dry["dns_client"]["action"] == "would_create"
    said = details(dry, "dns")["app-1"]
    assert f"DNS client pod {ns}/{CLIENT} does not exist and check mode does not create it" in said, said
    assert f"ask it for app-1.app.{ns}.svc.cluster.local and expect" in said, said

    # the first real run creates it, and proves every member's record and the Service's name
    first = verify_api(lab, run, ns)
    assert not first.get("failed"), first.get("msg")
    assert statuses(first, "dns") == {"app-0": "pass", "app-1": "pass"}, first["checks"]
    assert f"(asked from DNS client pod {ns}/{CLIENT})" in details(first, "dns")["app-1"]
    assert first["changed"] is True and first["dns_client"]["action"] == "created"
    ips = sorted(r["pod_ip"] for r in first["pods"])
    assert first["dns_answers"][f"app.{ns}.svc.cluster.local"] == ips
    [pod] = client_pods(lab, ns)
    spec = pod["spec"]
    assert pod["metadata"]["name"] == CLIENT
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 65534
    assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert not any(m["mountPath"].startswith("/var/run/secrets") for m in spec["containers"][0]["volumeMounts"])

    # a re-run creates nothing: no write in the audit log, the same pod (uid, resourceVersion)
    lab.reset_stats()
    second = verify_api(lab, run, ns)
    assert not second.get("failed"), second.get("msg")
    assert lab.stats()["writes"] == 0 and lab.write_requests() == {}
    assert second["changed"] is False and second["dns_client"]["action"] == "use"
    assert statuses(second, "dns") == {"app-0": "pass", "app-1": "pass"}
    [again] = client_pods(lab, ns)
    assert (again["metadata"]["uid"], again["metadata"]["resourceVersion"]) == (
        pod["metadata"]["uid"], pod["metadata"]["resourceVersion"])

    # check mode with the pod present proves DNS through it, and writes nothing either
    lab.reset_stats()
    checked = verify_api(lab, run, ns, check=True)
    assert statuses(checked, "dns") == {"app-0": "pass", "app-1": "pass"}, checked.get("msg")
    assert checked["changed"] is False and lab.stats()["writes"] == 0 and lab.stats()["dry_run_writes"] == 0

    # another spec (pull policy) recreates it: a new pod, proved again
    other = verify_api(lab, run, ns, dns_client={"image": lab.image("busybox"), "image_pull_policy": "Never"})
    assert not other.get("failed"), other.get("msg")
    assert other["dns_client"]["action"] == "recreated" and other["changed"] is True
    [recreated] = client_pods(lab, ns)
    assert recreated["metadata"]["uid"] != pod["metadata"]["uid"]
    assert recreated["spec"]["containers"][0]["imagePullPolicy"] == "Never"

    # teardown: kept while another StatefulSet is in the namespace, removed with the last one
    lab.create(f"/apis/apps/v1/namespaces/{ns}/statefulsets", {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "idle"},
        "spec": {"serviceName": "idle", "replicas": 0, "selector": {"matchLabels": {"app": "idle"}},
                 "template": {"metadata": {"labels": {"app": "idle"}},
                              "spec": {"containers": [{"name": "c", "image": lab.image("busybox")}]}}}})
    gone = run("statefulset", {"name": "app", "namespace": ns, "state": "absent"}, via="inproc")
    assert not gone.get("failed"), gone.get("msg")
    assert "Pod" not in {o["kind"] for o in gone["objects"]}
    assert [p["metadata"]["uid"] for p in client_pods(lab, ns)] == [recreated["metadata"]["uid"]]
    dry_last = run("statefulset", {"name": "idle", "namespace": ns, "state": "absent"}, check=True, via="inproc")
    assert ("Pod", CLIENT, "delete") in {(o["kind"], o["name"], o["action"]) for o in dry_last["objects"]}
    assert len(client_pods(lab, ns)) == 1  # check mode deletes nothing
    last = run("statefulset", {"name": "idle", "namespace": ns, "state": "absent"}, via="inproc")
    assert ("Pod", CLIENT, "delete") in {(o["kind"], o["name"], o["action"]) for o in last["objects"]}
    remaining = client_pods(lab, ns)
    assert remaining == [] or remaining[0]["metadata"].get("deletionTimestamp"), remaining


def test_a_record_that_is_not_there_fails_naming_the_pod_the_name_and_the_answer(lab, ns, run):
    """The StatefulSet names a governing Service that does not exist (create_service: false): its
    pods run and are Ready with the right hostname and subdomain, but no record answers."""
    sc = static_storage(lab, ns, 2)
    deploy(lab, ns, run, definition(lab, ns, sc), create_service=False)
    res = verify_api(lab, run, ns, dns_timeout=3)
    assert res.get("failed"), res
    assert statuses(res, "identity") == {"app-0": "pass", "app-1": "pass"}
    assert statuses(res, "dns") == {"app-0": "fail", "app-1": "fail"}
    said = details(res, "dns")
    for pod in ("app-0", "app-1"):
        assert f"from DNS client pod {ns}/{CLIENT}" in said[pod], said[pod]
        assert f"can't find {pod}.app.{ns}.svc.cluster.local" in said[pod] or "NXDOMAIN" in said[pod], said[pod]
    # what was seen, in words, and why: the Service spec.serviceName names is missing
    assert said["app-1"].startswith(f"app-1.app.{ns}.svc.cluster.local answered "), said
    assert f"the Service's name app.{ns}.svc.cluster.local answered " in said["app-0"]
    assert f"app-1 dns: app-1.app.{ns}.svc.cluster.local answered " in res["msg"]
    for pod in ("app-0", "app-1"):
        assert said[pod].endswith(f"; the Service {ns}/app that spec.serviceName names does not exist: the pods get"
                                  " no DNS records until a headless Service of that name exists"), said[pod]


def test_with_exec_no_member_proves_its_own_name_from_its_hosts_file(lab, ns, run):
    """Found by a new user (an etcd of their own): a member answers its own name from the
    /etc/hosts kubelet writes, so a missing Service still "proved" the asking member's record.
    Now the second member asks the first one's name."""
    sc = static_storage(lab, ns, 3)
    deploy(lab, ns, run, definition(lab, ns, sc), create_service=False)
    res = verify(run, ns, dns_timeout=3)
    assert res.get("failed"), res
    said = details(res, "dns")
    assert statuses(res, "dns") == {"app-0": "fail", "app-1": "fail"}, said
    assert res["dns_answers"][f"app-0.app.{ns}.svc.cluster.local"] == [], res["dns_answers"]  # asked from app-1
    assert said["app-1"].startswith(f"app-1.app.{ns}.svc.cluster.local answered no address (getent ahosts exit 2"), said
    assert ", asked from app-0; expected ['" in said["app-1"] and "does not exist" in said["app-1"], said

    # a lone member, its Service there: nobody else can ask its name; the Service's name (asked
    # from the cluster's DNS) answering its address is what proves it, and the detail says so
    deploy(lab, ns, run, definition(lab, ns, sc, name="solo", replicas=1))
    # (a pass returns at the first right answer; the bound only covers CoreDNS catching up under load)
    alone = verify(run, ns, name="solo", dns_timeout=60)
    assert statuses(alone, "dns") == {"solo-0": "pass"}, alone["checks"]
    assert f"the Service's name solo.{ns}.svc.cluster.local answered it too" in details(alone, "dns")["solo-0"]


def test_a_member_without_a_shell_is_asked_for_through_the_client_pod_with_method_exec(lab, ns, run):
    """The pause image has no shell: the hostname is not provable by exec (accepted with
    identity_by_exec: false), the DNS records are proved from the client pod instead."""
    defn = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "bare", "namespace": ns},
            "spec": {"serviceName": "bare", "replicas": 1, "selector": {"matchLabels": {"app": "bare"}},
                     "template": {"metadata": {"labels": {"app": "bare"}}, "spec": {
                         "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "pause", "image": lab.image("pause"),
                                         "imagePullPolicy": "IfNotPresent"}]}}}}
    deploy(lab, ns, run, defn)
    res = run("statefulset_verify", {"name": "bare", "namespace": ns, "identity_by_exec": False, "dns_timeout": 20,
                                     "dns_client": {"image": lab.image("busybox")}}, via="inproc")
    assert not res.get("failed"), res.get("msg")
    assert statuses(res, "hostname") == {"bare-0": "not_proved"}
    assert statuses(res, "dns") == {"bare-0": "pass"}, res["checks"]
    assert res["dns_client"]["used_because"] == "bare-0 cannot resolve (no shell)"
    assert len(client_pods(lab, ns)) == 1


def test_a_client_pod_that_cannot_start_fails_the_dns_check_naming_it_and_its_image(lab, ns, run):
    sc = static_storage(lab, ns, 1)
    deploy(lab, ns, run, definition(lab, ns, sc, replicas=1))
    missing = "localhost/stateful-nfs-lab/no-such-image:0"
    res = verify_api(lab, run, ns, dns_client={"image": missing, "image_pull_policy": "Never", "start_timeout": 5})
    assert res.get("failed"), res
    said = details(res, "dns")["app-0"]
    assert said.startswith(f"app-0.app.{ns}.svc.cluster.local not asked: DNS client pod {ns}/{CLIENT} (image {missing})"
                           " is not Ready after 5 s"), said
    assert "ErrImageNeverPull" in said, said
    assert res["dns_client"]["action"] == "created"
    # a pod whose image never started takes the kubelet long to delete: gone at once, for the namespace's end
    code, _ = lab.http("DELETE", f"/api/v1/namespaces/{ns}/pods/{CLIENT}", {"gracePeriodSeconds": 0})
    assert code == 200, code
