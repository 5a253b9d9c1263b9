"""Retries (429 / 5xx / connection reset), error messages, and connection option handling."""

from __future__ import annotations

import socket
import time

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import (
    client as k8s_client,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.apply import FIELD_MANAGER
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import (
    ApiError,
    ApiUnreachableAfterRetries,
    ApiUnreachableError,
    ConnectionConfigError,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.retry import (
    RetryPolicy,
    TransientFailure,
    call_with_retry,
)

SVC = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"clusterIP": "None", "selector": {"app": "nginx"}}}
REF = Ref("Service", "web", "default")


# ----------------------------------------------------------------------------- policy, no HTTP
class FakeClock:
    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def __call__(self):
        return self.t

    def sleep(self, d):
        self.sleeps.append(d)
        self.t += d


def test_backoff_is_exponential_and_capped():
    p = RetryPolicy(base_delay=0.5, max_delay=3, jitter=0)
    assert [p.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert p.delay(1, retry_after=2) == 2.0
    assert p.delay(1, retry_after=120) == 3.0


def test_attempts_bound():
    clock = FakeClock()
    calls = []

    def fn():
        calls.append(1)
        raise TransientFailure(ApiError("get X", 503, "ServiceUnavailable", "busy"))

    with pytest.raises(ApiError) as exc:
        call_with_retry(fn, RetryPolicy(attempts=4, jitter=0, sleep=clock.sleep, clock=clock))
    assert len(calls) == 4 and len(clock.sleeps) == 3
    assert exc.value.attempts == 4 and "(after 4 attempts)" in str(exc.value)


def test_time_budget_bound():
    clock = FakeClock()
    calls = []

    def fn():
        calls.append(1)
        raise TransientFailure(ApiError("get X", 500))

    with pytest.raises(ApiError):
        call_with_retry(fn, RetryPolicy(attempts=100, base_delay=1, max_delay=4, budget=10, jitter=0,
                                        sleep=clock.sleep, clock=clock))
    assert clock.sleeps == [1, 2, 4]  # 7s slept; the next 4s (max_delay) would cross the 10s budget
    assert len(calls) == 4


def test_success_after_transients_returns_value():
    seq = [TransientFailure(ApiError("x", 429)), TransientFailure(ApiError("x", 500)), "ok"]
    clock = FakeClock()

    def fn():
        item = seq.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    assert call_with_retry(fn, RetryPolicy(jitter=0, sleep=clock.sleep, clock=clock)) == "ok"


# ----------------------------------------------------------------------------- over HTTP
def test_429_burst_then_success(fake_api, client, sleeps):
    fake_api.put(SVC)
    fake_api.faults += [("GET", "/services/web", 429)] * 3
    assert client.get(REF)["metadata"]["name"] == "web"
    assert len(fake_api.requests) == 4
    assert sleeps == [0.0, 0.0, 0.0]  # Retry-After: 0 honoured


def test_500_then_success_on_apply(fake_api, client, sleeps):
    fake_api.faults += [("PATCH", None, 500), ("PATCH", None, 503)]
    out = client.apply(SVC, FIELD_MANAGER)
    assert out["metadata"]["name"] == "web"
    assert [r["method"] for r in fake_api.requests] == ["PATCH"] * 3
    assert sleeps == [0.5, 1.0]


def test_connection_reset_then_success(fake_api, client, sleeps):
    fake_api.put(SVC)
    fake_api.faults += [("GET", None, "reset"), ("GET", None, "reset")]
    assert client.get(REF) is not None
    assert len(fake_api.requests) == 3 and len(sleeps) == 2


def test_reset_on_apply_is_retried(fake_api, client):
    fake_api.faults.append(("PATCH", None, "reset"))
    assert client.apply(SVC, FIELD_MANAGER)["kind"] == "Service"
    assert fake_api.get("Service", "web", "default") is not None


def test_beyond_budget_names_object_status_and_message(fake_api, client, sleeps):
    fake_api.faults += [("PATCH", None, 500)] * 10
    with pytest.raises(ApiError) as exc:
        client.apply(SVC, FIELD_MANAGER)
    msg = str(exc.value)
    assert msg == "apply Service default/web failed: HTTP 500 InternalError: injected fault 500 (after 5 attempts)"
    assert exc.value.status == 500 and exc.value.details["attempts"] == 5
    assert len(sleeps) == 4


def test_resets_beyond_budget(fake_api, client):
    fake_api.faults += [("GET", None, "reset")] * 10
    with pytest.raises(ApiUnreachableAfterRetries) as exc:
        client.get(REF)
    assert "get Service default/web failed: connection to the API was lost" in str(exc.value)
    assert "after 5 attempts" in str(exc.value)


def test_4xx_is_not_retried(fake_api, client, sleeps):
    fake_api.faults.append(("PATCH", None, 409))
    with pytest.raises(ApiError) as exc:
        client.apply(SVC, FIELD_MANAGER)
    assert exc.value.status == 409 and sleeps == [] and len(fake_api.requests) == 1


def test_404_is_none_for_get(fake_api, client):
    assert client.get(REF) is None
    assert client.delete(REF) is None


def test_wrong_token_401_message(fake_api, client):
    fake_api.token = "right"
    with pytest.raises(ApiError) as exc:
        client.get(REF)
    assert exc.value.status == 401
    assert "HTTP 401 Unauthorized" in str(exc.value) and "rejected the credentials" in str(exc.value)
    assert len(fake_api.requests) == 1


def test_unreachable_api_fails_fast():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = k8s_client.K8sClient.from_params({"host": f"http://127.0.0.1:{port}", "api_key": "x"},
                                         request_timeout=(2, 2))
    start = time.monotonic()
    with pytest.raises(ApiUnreachableError) as exc:
        c.get(REF)
    assert time.monotonic() - start < 5
    msg = str(exc.value)
    assert msg.startswith("get Service default/web failed: cannot reach the Kubernetes API at http://127.0.0.1:")
    assert "refused" in msg.lower()


def test_list_with_selectors(fake_api, client):
    fake_api.put(SVC)
    fake_api.put(dict(SVC, metadata={"name": "other", "namespace": "default", "labels": {"app": "x"}}))
    fake_api.put(dict(SVC, metadata={"name": "web", "namespace": "prod"}))
    assert len(client.list("Service", "default")) == 2
    assert [o["metadata"]["name"] for o in client.list("Service", "default", label_selector="app=x")] == ["other"]
    assert fake_api.requests[-1]["query"] == {"labelSelector": "app=x"}


# ----------------------------------------------------------------------------- connection options
KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: {server: "https://192.0.2.1:6443", insecure-skip-tls-verify: true}
- name: c2
  cluster: {server: "https://192.0.2.2:6443"}
users:
- name: u1
  user: {token: tok-1}
- name: u2
  user: {token: tok-2}
contexts:
- name: one
  context: {cluster: c1, user: u1}
- name: two
  context: {cluster: c2, user: u2}
current-context: one
"""


def params(**kw):
    base = dict.fromkeys(k8s_client.AUTH_KEYS)
    base.update(kw)
    return base


@pytest.fixture
def kubeconfig(tmp_path):
    p = tmp_path / "config"
    p.write_text(KUBECONFIG)
    return str(p)


def test_kubeconfig_current_and_named_context(kubeconfig):
    cfg = k8s_client.build_configuration(params(kubeconfig=kubeconfig))
    assert cfg.host == "https://192.0.2.1:6443" and cfg.verify_ssl is False
    assert cfg.api_key["BearerToken"] == "Bearer tok-1"
    cfg = k8s_client.build_configuration(params(kubeconfig=kubeconfig, context="two"))
    assert cfg.host == "https://192.0.2.2:6443" and cfg.api_key["BearerToken"] == "Bearer tok-2"


def test_explicit_options_override_kubeconfig(kubeconfig, tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("x")
    cfg = k8s_client.build_configuration(params(kubeconfig=kubeconfig, host="https://api.example:6443/",
                                                validate_certs=True, ca_cert=str(ca)))
    assert cfg.host == "https://api.example:6443" and cfg.verify_ssl is True and cfg.ssl_ca_cert == str(ca)
    assert cfg.retries.total == 0  # our retry policy is the only one


def test_kubeconfig_as_dict():
    import yaml

    cfg = k8s_client.build_configuration(params(kubeconfig_content=yaml.safe_load(KUBECONFIG), context="two"))
    assert cfg.host == "https://192.0.2.2:6443"


def test_kubeconfig_content_and_path_are_exclusive(kubeconfig):
    import yaml

    with pytest.raises(ConnectionConfigError, match="kubeconfig and kubeconfig_content are mutually exclusive"):
        k8s_client.build_configuration(params(kubeconfig=kubeconfig, kubeconfig_content=yaml.safe_load(KUBECONFIG)))


def test_kubeconfig_content_errors_do_not_echo_it():
    import yaml

    content = yaml.safe_load(KUBECONFIG)
    with pytest.raises(ConnectionConfigError) as exc:
        k8s_client.build_configuration(params(kubeconfig_content=content, context="three"))
    assert "kubeconfig_content (context three)" in str(exc.value) and "tok-" not in str(exc.value)


def test_kubeconfig_given_inline_to_the_path_option_is_refused_without_echo():
    """A dict given to the path option arrives as its str(); the error must not repeat it (its token)."""
    import yaml

    as_string = str(yaml.safe_load(KUBECONFIG))
    assert k8s_client.looks_inline(as_string) and k8s_client.looks_inline(KUBECONFIG)
    assert not k8s_client.looks_inline("/etc/k8s/config") and not k8s_client.looks_inline(None)
    for value in (as_string, KUBECONFIG):
        with pytest.raises(ConnectionConfigError, match="not the kubeconfig itself.*kubeconfig_content") as exc:
            k8s_client.build_configuration(params(kubeconfig=value))
        assert "tok-" not in str(exc.value)


def test_host_and_token_need_no_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nope"))
    cfg = k8s_client.build_configuration(params(host="https://h:6443", api_key="abc"))
    assert cfg.host == "https://h:6443" and cfg.api_key == {"BearerToken": "Bearer abc"}


def test_missing_kubeconfig_message(tmp_path):
    with pytest.raises(ConnectionConfigError) as exc:
        k8s_client.build_configuration(params(kubeconfig=str(tmp_path / "missing.yaml")))
    assert str(exc.value) == ("kubeconfig %s does not exist (option kubeconfig / K8S_AUTH_KUBECONFIG)"
                              % (tmp_path / "missing.yaml"))


def test_unknown_context_message(kubeconfig):
    with pytest.raises(ConnectionConfigError) as exc:
        k8s_client.build_configuration(params(kubeconfig=kubeconfig, context="three"))
    assert "context three" in str(exc.value) and kubeconfig in str(exc.value)


def test_nothing_configured_message(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConnectionConfigError) as exc:
        k8s_client.build_configuration(params())
    assert "no Kubernetes connection configured" in str(exc.value)


def test_client_cert_without_key(tmp_path):
    cert = tmp_path / "c.crt"
    cert.write_text("x")
    with pytest.raises(ConnectionConfigError, match="client_cert and client_key must be given together"):
        k8s_client.build_configuration(params(host="https://h", client_cert=str(cert)))
    with pytest.raises(ConnectionConfigError, match="ca_cert: file .* does not exist"):
        k8s_client.build_configuration(params(host="https://h", api_key="x", ca_cert=str(tmp_path / "no.crt")))


def test_argument_spec_env_fallbacks_and_no_log():
    spec = k8s_client.AUTH_ARG_SPEC
    assert spec["api_key"]["no_log"] is True and spec["client_key"]["no_log"] is True
    assert spec["kubeconfig_content"]["no_log"] is True and spec["kubeconfig"]["type"] == "path"
    assert "fallback" not in spec["kubeconfig_content"]  # secrets in the environment: only K8S_AUTH_API_KEY
    envs = {k: v["fallback"][1][0] for k, v in spec.items() if "fallback" in v}
    assert envs == {"kubeconfig": "K8S_AUTH_KUBECONFIG", "context": "K8S_AUTH_CONTEXT", "host": "K8S_AUTH_HOST",
                    "api_key": "K8S_AUTH_API_KEY", "validate_certs": "K8S_AUTH_VERIFY_SSL",
                    "ca_cert": "K8S_AUTH_SSL_CA_CERT", "client_cert": "K8S_AUTH_CERT_FILE",
                    "client_key": "K8S_AUTH_KEY_FILE"}


def test_user_agent_names_the_collection_version():
    """The User-Agent the modules send (what an API server's audit log shows) names the
    version galaxy.yml releases."""
    from pathlib import Path

    import yaml
    from ansible_collections.stateful.nfs.plugins.module_utils.k8s.client import USER_AGENT

    galaxy = yaml.safe_load((Path(__file__).resolve().parents[5] / "galaxy.yml").read_text())
    assert USER_AGENT == f"stateful.nfs/{galaxy['version']}"
