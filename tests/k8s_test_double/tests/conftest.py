"""Fixtures: one in-process test double per session (fast controller delays), real clients."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from kubernetes import client, config, dynamic

from tests.k8s_test_double.double import Config, TestDouble, wait_for  # noqa: F401  (re-exported)

FAST = dict(pod_ready_delay=0.05, pod_termination_delay=0.05, tick=0.02, provision_retry=0.5, nfs_timeout=2.0,
            quiet=True, raise_controller_errors=False)


@pytest.fixture(scope="session")
def double():
    d = TestDouble(Config(**FAST)).start_in_thread()
    yield d
    d.stop()


@pytest.fixture(scope="session")
def api(double):
    c = config.new_client_from_config_dict(double.kubeconfig_dict())
    yield c
    c.close()


@pytest.fixture(scope="session")
def v1(api):
    return client.CoreV1Api(api)


@pytest.fixture(scope="session")
def apps(api):
    return client.AppsV1Api(api)


@pytest.fixture(scope="session")
def dyn(api, tmp_path_factory):
    # discovery cache in a temp dir of the session, not /tmp/osrcp-*.json
    return dynamic.DynamicClient(api, cache_file=str(tmp_path_factory.mktemp("discovery") / "cache.json"))


@pytest.fixture
def ns(v1):
    name = f"t-{uuid.uuid4().hex[:8]}"
    v1.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        v1.delete_namespace(name)
    except client.ApiException:
        pass


class Raw:
    """Plain HTTP for what the generated client hides (status codes, auth, control endpoints)."""

    def __init__(self, double):
        self.d = double

    def __call__(self, method, path, body=None, token="__default__", ctype="application/json", timeout=10):
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        req = urllib.request.Request(self.d.url + path, data=data, method=method)
        if token == "__default__":
            token = self.d.token
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw.strip().startswith(b"{") else raw.decode()
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw.strip().startswith(b"{") else raw.decode()


@pytest.fixture(scope="session")
def raw(double):
    return Raw(double)


def sts_manifest(name="web", replicas=3, image="nginx:1.25", **spec_extra):
    spec = {"serviceName": name, "replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "nginx", "image": image,
                                                  "ports": [{"containerPort": 80, "name": "web"}]}]}}}
    spec.update(spec_extra)
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name}, "spec": spec}


def headless_service(name="web"):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"clusterIP": "None", "selector": {"app": name}, "ports": [{"port": 80, "name": "web"}]}}


def apply(api_fn, name, ns, body, manager="stateful.nfs", force=True, **kw):
    return api_fn(name, ns, body, field_manager=manager, force=force, _content_type="application/apply-patch+yaml",
                  **kw)


def pytest_configure(config):
    config.addinivalue_line("markers", "nfs: needs docker and an NFS-Ganesha container (k8sdouble-ganesha-*)")
    # pyNfsClient imports xdrlib (deprecated since 3.11, removed in 3.13)
    config.addinivalue_line("filterwarnings", "ignore:'xdrlib' is deprecated:DeprecationWarning")
