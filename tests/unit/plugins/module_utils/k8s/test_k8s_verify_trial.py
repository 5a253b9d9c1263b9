"""What a user's trial (a NATS cluster from a definition, create_service: false) found in the proof:
an application check's port name no container declares was asked again until the timeout, and a
failed DNS check ended in an empty ": " without saying that the Service was missing; a failed proof
could only fail the module, so the role's report kept an older run's verdicts."""
from __future__ import annotations

import copy

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import verify as v
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import ApiError, VerificationError

from tests.unit.plugins.module_utils.k8s.test_k8s_verify_nfs_side import NS, Cluster, own_dirs, params, rollout

PORTS = [{"name": "client", "containerPort": 4222}, {"name": "monitor", "containerPort": 8222}]


class Clock:
    """A clock that moves only when the proof sleeps; counts the sleeps."""

    def __init__(self):
        self.now, self.sleeps = 0.0, 0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += seconds


def cluster_with_ports(template_ports, pod_ports):
    cluster = Cluster(rollout(), own_dirs(), {})
    cluster.sts["spec"]["template"]["spec"]["containers"][0]["ports"] = template_ports
    for pod in cluster.pods.values():
        pod["spec"]["containers"][0]["ports"] = pod_ports
    cluster.asked = []
    get = cluster.proxy_get

    def proxy_get(namespace, name, port, path):
        cluster.asked.append((name, port))
        return get(namespace, name, port, path)
    cluster.proxy_get = proxy_get
    return cluster


def app(port):
    return {"http_get": {"port": port, "path": "/varz", "status": 200, "body": None}, "timeout": 60}


def test_a_port_name_the_pod_template_does_not_declare_is_refused_before_any_write():
    cluster, clock = cluster_with_ports(PORTS, PORTS), Clock()
    p = params(nfs_side=None, storage_marker={"enabled": True}, app_check=app("monitoring"))
    with pytest.raises(VerificationError) as err:
        v.Proof(cluster, p, False, clock=clock, sleep=clock.sleep).run()
    assert str(err.value) == ("app_check.http_get.port: no container declares a port named 'monitoring'; the"
                              " containers declare client (4222), monitor (8222) (give one of those names, or a port"
                              f" number), in the pod template of StatefulSet {NS}/web; nothing was written")
    assert cluster.asked == [] and clock.sleeps == 0


def test_a_pod_without_the_port_fails_at_once_not_asked_again_until_the_timeout():
    # the template declares it, the running pods (of an older revision) do not: no wait changes that
    cluster, clock = cluster_with_ports(PORTS, PORTS[:1]), Clock()
    p = params(nfs_side=None, app_check=app("monitor"))
    with pytest.raises(VerificationError) as err:
        v.Proof(cluster, p, False, clock=clock, sleep=clock.sleep).run()
    app_checks = [c for c in err.value.details["checks"] if c["check"] == "app"]
    assert {c["status"] for c in app_checks} == {"fail"}
    assert app_checks[0]["detail"].startswith("no container declares a port named 'monitor'; the containers declare"
                                              " client (4222)")
    assert clock.sleeps == 0 and clock.now == 0 and cluster.asked == []


def test_a_declared_port_name_is_asked_by_its_number_and_retried_while_it_fails():
    cluster, clock = cluster_with_ports(PORTS, PORTS), Clock()
    p = params(nfs_side=None, app_check=dict(app("monitor"), timeout=3))
    failing = dict(p, app_check=dict(p["app_check"], http_get=dict(p["app_check"]["http_get"], body="^never$")))
    with pytest.raises(VerificationError):  # a body that never matches: asked each second up to the timeout
        v.Proof(cluster, failing, False, clock=clock, sleep=clock.sleep).run()
    assert {port for _pod, port in cluster.asked} == {8222} and clock.sleeps == 3


@pytest.mark.parametrize(("answer", "addresses", "said"), [
    ("", [], "gave no answer (the resolver printed nothing)"),
    (" !getent-exit-2", [], "answered no address (getent ahosts exit 2: NXDOMAIN"),
    ("Server: 10.96.0.10 Address 1: 10.96.0.10 ** server can't find x: NXDOMAIN", [], "answered NXDOMAIN"),
    ("203.0.113.9 STREAM x", ["203.0.113.9"], "answered ['203.0.113.9']"),
    ("nslookup: can't resolve 'x'", [], "answered no address: \"nslookup: can't resolve 'x'\""),
])
def test_a_dns_answer_is_said_in_words(answer, addresses, said):
    assert v.seen_answer(answer, addresses).startswith(said)


def test_the_pod_program_marks_a_name_getent_cannot_find(tmp_path):
    import shutil
    import subprocess
    if not shutil.which("getent"):
        pytest.skip("no getent here")
    done = subprocess.run(["sh", "-c", v.POD_PROGRAM, "x", "1", "no-such-name.invalid"], capture_output=True,
                          text=True, timeout=30, check=False)
    answer = v.parse_program_output(done.stdout)["dns"]["no-such-name.invalid"]
    assert "!getent-exit-2" in answer and v.addresses_in(answer) == []


class Services(Cluster):
    def __init__(self, service):
        super().__init__(rollout(), own_dirs(), {})
        self.service = service
        self.sts["spec"]["template"]["metadata"] = {"labels": {"app": "nginx"}}

    def get(self, ref):
        if ref.kind == "Service":
            if isinstance(self.service, Exception):
                raise self.service
            return copy.deepcopy(self.service)
        return super().get(ref)


def dns_verdicts(service):
    """The DNS verdicts of three ready pods whose names answer nothing (the trial's missing Service)."""
    cluster = Services(service)
    proof = v.Proof(cluster, params(nfs_side=None, dns_timeout=0), False)
    proof.sts = cluster.sts
    ready = [{"name": p, "dns_name": f"{p}.web.{NS}.svc.cluster.local", "pod_ip": f"10.244.1.{p[-1]}"} for p in
             ("web-0", "web-1", "web-2")]
    want = {r["dns_name"]: [r["pod_ip"]] for r in ready}
    domain = f"web.{NS}.svc.cluster.local"
    want[domain] = sorted(r["pod_ip"] for r in ready)
    results = {r["name"]: {} for r in ready}
    answers = {name: "" for name in want}
    answers[ready[1]["dns_name"]] = " !getent-exit-2"
    proof.resolve(ready, want, domain, answers, lambda names: {}, "web-0", "web-0", results)
    return {name: r["dns"]["detail"] for name, r in results.items()}


def test_a_failed_dns_check_says_what_was_seen_and_that_the_service_is_missing():
    got = dns_verdicts(None)
    assert got["web-0"].startswith(f"the Service's name web.{NS}.svc.cluster.local gave no answer (the resolver printed"
                                   f" nothing), asked from web-0; expected the ready members")
    assert got["web-1"].startswith(f"web-1.web.{NS}.svc.cluster.local answered no address (getent ahosts exit 2")
    for detail in got.values():
        assert not detail.rstrip().endswith(":"), detail
        assert detail.endswith(f"; the Service {NS}/web that spec.serviceName names does not exist: the pods get no DNS"
                               " records until a headless Service of that name exists"), detail


@pytest.mark.parametrize(("service", "note"), [
    ({"spec": {"clusterIP": "10.96.0.7", "selector": {"app": "nginx"}}}, "is not headless (clusterIP 10.96.0.7)"),
    ({"spec": {"clusterIP": "None", "selector": {"app": "other"}}}, "selects {'app': 'other'}, which the pods' labels"),
    ({"spec": {"clusterIP": "None", "selector": {"app": "nginx"}}}, None),
    (ApiError("get Service", 403, "Forbidden"), None),  # may not read Services: the verdict stands alone
])
def test_a_failed_dns_check_says_what_is_wrong_with_the_service(service, note):
    got = dns_verdicts(service)["web-2"]
    if note:
        assert f"; the Service {NS}/web that spec.serviceName names {note}" in got, got
    else:
        assert "spec.serviceName" not in got, got


def test_a_failed_proof_is_returned_for_the_report_when_asked_not_to_fail():
    cluster = cluster_with_ports(PORTS, PORTS[:1])
    p = params(nfs_side=None, app_check=app("monitor"), fail_on_failure=False)
    proof_p = dict(p, app_check=dict(p["app_check"], timeout=0))
    res = v.run_verify(cluster, proof_p, False, None)
    assert res["msg"].startswith(f"Verification of StatefulSet {NS}/web failed: web-0 app: no container declares")
    assert res["failures"][0].startswith("web-0 app: no container declares a port named 'monitor'")
    assert [c["status"] for c in res["checks"] if c["check"] == "app"] == ["fail"] * 3
    assert [p_["name"] for p_ in res["pods"]] == ["web-0", "web-1", "web-2"]
    # a proof that cannot be made at all: returned too, saying why
    gone = Cluster({}, {}, {})
    gone.sts = None
    res = v.run_verify(gone, dict(proof_p), False, None)
    assert res["failures"] == [f"StatefulSet {NS}/web does not exist"] and res["pods"] == [] and res["msg"]
    # by default the module fails, as before
    with pytest.raises(VerificationError):
        v.run_verify(cluster, dict(proof_p, fail_on_failure=True), False, None)
