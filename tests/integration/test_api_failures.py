"""Transient API failures, bad credentials, no kubeconfig, against the lab cluster.

Faults are injected by the fault proxy in front of the API server (mitmproxy,
tests/support/faultproxy.py): its rules answer matching requests with 429/500/503 (and
``Retry-After``) or drop the connection, and count how often they fired.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .conftest import sts_args


def _sts(lab, ns, name="web"):
    return lab.get(f"/apis/apps/v1/namespaces/{ns}/statefulsets/{name}")


def _sts_write(ns):
    return rf"/apis/apps/v1/namespaces/{ns}/statefulsets/web\b"


def test_429_burst_on_the_write_is_retried_and_succeeds(lab, ns, run):
    # Retry-After: 0 keeps the test fast; the module must honour the header rather than its own backoff
    lab.add_fault(status=429, count=3, method="PATCH", path_regex=_sts_write(ns), retry_after=0)
    res = run("statefulset", sts_args(lab, ns, replicas=1))
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    fired = [f for f in lab.faults() if f.get("fired")]
    assert fired and fired[0]["fired"] == 3 and fired[0]["count"] == 0, lab.faults()
    sts = _sts(lab, ns)
    assert sts is not None and sts["spec"]["replicas"] == 1


def test_500_burst_on_reads_and_writes_is_retried_and_succeeds(lab, ns, run):
    lab.add_fault(status=500, count=2, method="GET", path_regex=_sts_write(ns))
    lab.add_fault(status=500, count=2, method="PATCH", path_regex=rf"/api/v1/namespaces/{ns}/services/web\b")
    res = run("statefulset", sts_args(lab, ns, replicas=1), via="inproc")
    assert not res.get("failed"), res.get("msg")
    assert [f["fired"] for f in lab.faults()] == [2, 2], lab.faults()
    assert _sts(lab, ns) is not None
    assert lab.get(f"/api/v1/namespaces/{ns}/services/web") is not None


def test_connection_dropped_mid_request_is_retried(lab, ns, run):
    lab.add_fault(drop=True, count=1, method="PATCH", path_regex=_sts_write(ns))
    res = run("statefulset", sts_args(lab, ns, replicas=1), via="inproc")
    assert not res.get("failed"), res.get("msg")
    assert lab.faults()[0]["fired"] == 1
    assert _sts(lab, ns) is not None


@pytest.mark.parametrize("status", [429, 503])
def test_burst_beyond_the_retry_budget_fails_naming_object_and_status(lab, ns, run, status):
    lab.add_fault(status=status, count=50, method="PATCH", path_regex=_sts_write(ns), retry_after=0,
                  message=f"injected {status} burst")
    res = run("statefulset", sts_args(lab, ns, replicas=1), via="inproc")
    assert res.get("failed") is True
    msg = res["msg"]
    assert "StatefulSet" in msg and f"{ns}/web" in msg, msg
    assert str(status) in msg, msg
    assert f"injected {status} burst" in msg, msg  # the API's message is passed on
    fired = lab.faults()[0]["fired"]
    assert fired == 6, f"documented budget is 6 attempts per request, the proxy saw {fired}"
    assert _sts(lab, ns) is None


def test_wrong_token_fails_clearly_and_sends_no_write(lab, ns, run, tmp_path):
    kc = yaml.safe_load(Path(lab.kubeconfig).read_text())
    kc["users"][0]["user"]["token"] = "not-the-token"
    bad = tmp_path / "wrong-token.kubeconfig"
    bad.write_text(yaml.safe_dump(kc))
    lab.reset_stats()
    res = run("statefulset", sts_args(lab, ns, replicas=1), env={"K8S_AUTH_KUBECONFIG": str(bad)})
    stats = lab.stats()
    assert res.get("failed") is True
    msg = res["msg"]
    assert "401" in msg, msg
    assert "credentials" in msg.lower() or "unauthorized" in msg.lower() or "token" in msg.lower(), msg
    assert "not-the-token" not in msg
    assert stats["unauthorized"] >= 1, stats  # the API server answered 401 (seen by the proxy)
    assert stats["writes"] == 0 and lab.write_requests() == {}, stats
    assert _sts(lab, ns) is None


def test_wrong_api_key_option_is_not_logged(lab, ns, run):
    res = run("statefulset", {**sts_args(lab, ns, replicas=1), "host": lab.url, "ca_cert": lab.ca_cert,
                              "api_key": "s3cret-wrong-key"})
    assert res.get("failed") is True and "401" in res["msg"], res.get("msg")
    assert "s3cret-wrong-key" not in str(res)  # no_log: neither in the message nor in the invocation
    assert _sts(lab, ns) is None


def test_missing_kubeconfig_fails_clearly_without_contacting_the_api(lab, ns, run, tmp_path):
    """A working kubeconfig sits in $KUBECONFIG: had the module fallen back to it, the proxy and
    the audit log would show its requests."""
    missing = tmp_path / "no-such-kubeconfig"
    lab.reset_stats()
    res = run("statefulset", sts_args(lab, ns, replicas=1),
              env={"K8S_AUTH_KUBECONFIG": str(missing), "KUBECONFIG": lab.kubeconfig})
    assert res.get("failed") is True
    assert str(missing) in res["msg"], res["msg"]
    assert "does not exist" in res["msg"] or "not found" in res["msg"], res["msg"]
    stats = lab.stats()
    assert stats["requests"] == 0 and stats["audit_requests"] == 0, stats
