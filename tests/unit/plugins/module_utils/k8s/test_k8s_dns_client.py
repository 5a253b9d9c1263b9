"""The DNS client pod's pieces that need no cluster: its manifest (non-root, no token, small),
the decision to use, create or recreate it, its query, its CGI program (run here under the local
sh with a stand-in nslookup; the cluster tests run it in busybox's httpd), and check mode, which
never writes. tests/integration/test_verify_dns_client.py proves the rest on the lab."""
from __future__ import annotations

import copy
import os
import shutil
import subprocess

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import dns_client as dc
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import validation
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import verify as v
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError

OPTIONS = {"name": "stateful-nfs-dns-client", "image": "busybox:1.28", "image_pull_policy": "IfNotPresent",
           "start_timeout": 60, "enabled": True}


def verify_params(params):
    checked = ArgumentSpecValidator(validation.VERIFY_OPTIONS).validate(params)
    assert not checked.error_messages, checked.error_messages
    return validation.validate_verify_params(checked.validated_parameters)


def test_the_options_default_to_busybox_and_are_checked_naming_the_option():
    assert verify_params({"name": "web"})["dns_client"] == OPTIONS
    for params, message in [({"name": "Client_1"}, "dns_client.name: 'Client_1' is not a valid DNS-1123 label"),
                            ({"image": "bad image"}, "dns_client.image: 'bad image' is not a container image"),
                            ({"start_timeout": 0}, "dns_client.start_timeout: must be >= 1")]:
        with pytest.raises(InputError) as err:
            verify_params({"name": "web", "dns_client": params})
        assert str(err.value).startswith(message)


def test_the_pod_runs_as_nobody_without_token_privileges_or_writable_root():
    pod = dc.client_pod_manifest("shop", OPTIONS)
    assert pod["metadata"] == {"name": "stateful-nfs-dns-client", "namespace": "shop", "labels": {
        "app.kubernetes.io/managed-by": "stateful.nfs", "app.kubernetes.io/component": "dns-client"}}
    spec = pod["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 65534
    [container] = spec["containers"]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    assert container["resources"]["limits"] == {"cpu": "100m", "memory": "32Mi"}
    assert container["image"] == "busybox:1.28" and container["ports"][0]["containerPort"] == dc.PORT
    assert container["command"][-1] == dc.CGI_PROGRAM


def live_of(manifest, **status):
    """The pod as the API server keeps it: the manifest plus defaults, bookkeeping and status."""
    live = copy.deepcopy(manifest)
    live["metadata"].update(uid="u-1", resourceVersion="7", creationTimestamp="2026-01-01T00:00:00Z")
    live["spec"]["dnsPolicy"] = "ClusterFirst"
    live["spec"]["containers"][0]["resources"]["requests"]["memory"] = "8388608"  # the same, in bytes
    live["spec"]["containers"][0]["readinessProbe"].update(timeoutSeconds=1, successThreshold=1)
    live["status"] = dict({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}, **status)
    return live


def test_the_live_pod_is_used_when_it_matches_else_recreated():
    desired = dc.client_pod_manifest("shop", OPTIONS)
    assert dc.plan(None, desired) == ("create", "does not exist")
    assert dc.plan(live_of(desired), desired) == ("use", "matches")
    other = live_of(dc.client_pod_manifest("shop", dict(OPTIONS, image="busybox:1.36")))
    assert dc.plan(other, desired) == ("recreate", "field spec.containers[0].image differs")
    ended = live_of(desired, phase="Failed", reason="Evicted")
    assert dc.plan(ended, desired) == ("recreate", "has ended (phase Failed: Evicted)")
    leaving = live_of(desired)
    leaving["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:01Z"
    assert dc.plan(leaving, desired) == ("recreate", "is being deleted")


def test_the_query_takes_dns_names_only():
    assert dc.query(["web-0.web.shop.svc.cluster.local", "web.shop.svc.cluster.local"]) == [
        ("name", "web-0.web.shop.svc.cluster.local"), ("name", "web.shop.svc.cluster.local")]
    with pytest.raises(ValueError, match="not DNS names"):
        dc.query(["web-0;reboot"])


@pytest.mark.skipif(not shutil.which("sh"), reason="no sh on this host")
def test_the_cgi_program_answers_one_record_per_name(tmp_path):
    fake = tmp_path / "nslookup"
    fake.write_text('#!/bin/sh\ncase $1 in\n  web-0.*) printf "Server:\\t\\t10.96.0.10\\nAddress:\\t10.96.0.10:53'
                    '\\n\\nName:\\t%s\\nAddress: 10.244.1.5\\n" "$1";;\n'
                    '  *) echo "** server can\'t find $1: NXDOMAIN"; exit 1;;\nesac\n')
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:{os.environ.get('PATH', '/usr/bin:/bin')}",
           "QUERY_STRING": "name=web-0.web.shop.svc.cluster.local&name=web-9.web.shop.svc.cluster.local&name=a;b"}
    done = subprocess.run(["sh", "-c", dc.CGI_PROGRAM], env=env, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    head, _sep, body = done.stdout.decode().partition("\r\n\r\n")
    assert head == "Content-Type: text/plain"
    answers = dc.parse_answers(body)
    assert v.addresses_in(answers["web-0.web.shop.svc.cluster.local"]) == ["10.244.1.5"]
    assert "NXDOMAIN" in answers["web-9.web.shop.svc.cluster.local"]
    assert v.addresses_in(answers["web-9.web.shop.svc.cluster.local"]) == []
    assert answers["a;b"] == "!bad-name"


class ReadOnlyApi:
    """A client that answers reads from ``objects`` and fails the test on any write."""

    def __init__(self, objects=None):
        self.objects = objects or {}

    def get(self, ref):
        return copy.deepcopy(self.objects.get(ref.name))

    def apply(self, *args, **kwargs):
        raise AssertionError("check mode sent an apply")

    def delete(self, *args, **kwargs):
        raise AssertionError("check mode sent a delete")


def test_check_mode_never_creates_it_and_says_so():
    client = dc.DnsClient(ReadOnlyApi(), "shop", OPTIONS, check_mode=True)
    assert client.prepare() == "DNS client pod shop/stateful-nfs-dns-client does not exist and check mode does not" \
                               " create it"
    assert client.changed is True and client.usable is False and client.state["action"] == "would_create"
    # present and Ready, another image: asked all the same, a run would recreate it
    stale = live_of(dc.client_pod_manifest("shop", dict(OPTIONS, image="busybox:1.36")))
    client = dc.DnsClient(ReadOnlyApi({OPTIONS["name"]: stale}), "shop", OPTIONS, check_mode=True)
    assert client.prepare() is None and client.usable and client.state["action"] == "would_recreate"


def test_a_matching_ready_pod_is_used_without_a_write():
    live = live_of(dc.client_pod_manifest("shop", OPTIONS))
    client = dc.DnsClient(ReadOnlyApi({OPTIONS["name"]: live}), "shop", OPTIONS, check_mode=False)
    assert client.prepare() is None
    assert client.changed is False and client.state["action"] == "use" and client.state["uid"] == "u-1"


def test_the_client_pod_goes_with_the_namespace_s_last_statefulset(fake_api, client):
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.runners import (
        Outcome,
        _remove_dns_client_after_last,
    )
    fake_api.put(dc.client_pod_manifest("shop", OPTIONS))
    fake_api.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "shop"}})
    for name in ("web", "db"):
        fake_api.put({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": "shop"},
                      "spec": {}})

    def removed(check_mode):
        outcome = Outcome()
        others = [s for s in client.list("StatefulSet", "shop") if s["metadata"]["name"] != "web"]
        _remove_dns_client_after_last(client, {"namespace": "shop", "name": "web"}, others, check_mode, outcome)
        return [(r.ref.kind, r.ref.name, r.action) for r in outcome.results]

    assert removed(False) == []  # db is left: the pod stays
    assert fake_api.get("Pod", OPTIONS["name"], "shop") is not None
    del fake_api.objects[("StatefulSet", "shop", "db")]
    assert removed(True) == [("Pod", OPTIONS["name"], "delete")]
    assert fake_api.get("Pod", OPTIONS["name"], "shop") is not None  # check mode: a dry run
    assert removed(False) == [("Pod", OPTIONS["name"], "delete")]
    assert fake_api.get("Pod", OPTIONS["name"], "shop") is None
    assert fake_api.get("Pod", "web-0", "shop") is not None  # only the collection's DNS client pod
