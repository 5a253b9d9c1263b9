"""identity.http_get: a row's page fetched through the pod proxy, named ports, errors kept in the row.

The HTTP itself is exercised against the lab's API server in tests/integration
(test_statefulset_info_http_get_reads_each_pods_page_through_the_pod_proxy); here, the mapping.
"""
from __future__ import annotations

from ansible_collections.stateful.nfs.plugins.module_utils.k8s import identity
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import ApiError

POD = {"metadata": {"name": "web-0", "namespace": "shop"},
       "spec": {"containers": [{"name": "sidecar"}, {"name": "nginx", "ports": [
           {"name": "metrics", "containerPort": 9113}, {"name": "web", "containerPort": 80}]}]}}


class ProxyClient:
    """Records proxy_get calls; answers ``body`` or raises ``error``."""

    def __init__(self, body=b"", error=None):
        self.body, self.error, self.calls = body, error, []

    def proxy_get(self, namespace, pod, port, path):
        self.calls.append((namespace, pod, port, path))
        if self.error:
            raise self.error
        return self.body


def test_container_port_by_number_and_by_name():
    assert identity.container_port(POD, 8080) == 8080
    assert identity.container_port(POD, "web") == 80
    assert identity.container_port(POD, "metrics") == 9113
    assert identity.container_port(POD, "admin") is None


def test_named_port_is_resolved_before_the_proxy_is_asked():
    client = ProxyClient(b"hello\n")
    row = identity.http_get(client, POD, {"port": "web", "path": "/index.html"})
    assert client.calls == [("shop", "web-0", 80, "/index.html")]
    assert row == {"url": "/api/v1/namespaces/shop/pods/web-0:80/proxy/index.html", "status": 200,
                   "body": "hello\n", "error": None}


def test_body_is_cut_to_the_limit_and_undecodable_bytes_replaced():
    row = identity.http_get(ProxyClient(b"\xff" + b"a" * 10000), POD, {"port": 80, "path": "/"})
    assert len(row["body"]) == identity.HTTP_BODY_LIMIT and row["body"][0] == "\ufffd"


def test_unknown_port_name_is_reported_without_a_request():
    client = ProxyClient()
    row = identity.http_get(client, POD, {"port": "admin", "path": "/"})
    assert client.calls == []
    assert row["url"] is None and row["status"] is None and "port named 'admin'" in row["error"]


def test_error_status_is_kept_in_the_row():
    err = ApiError("GET /none.html on pod shop/web-0 port 80 (pod proxy)", 404, reason="NotFound")
    row = identity.http_get(ProxyClient(error=err), POD, {"port": 80, "path": "/none.html"})
    assert row["status"] == 404 and row["body"] is None
    assert row["error"].startswith("GET /none.html on pod shop/web-0 port 80 (pod proxy) failed: HTTP 404")
