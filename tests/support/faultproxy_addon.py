"""mitmproxy addon of the lab's fault proxy (tests/support/faultproxy.py starts it).

Loaded by ``mitmdump -s`` from .venv-faultproxy (requirements-faultproxy.txt), never imported by
the tests themselves. mitmdump runs in reverse mode in front of the lab's kube-apiserver; this
addon injects faults into the requests that pass and counts what it saw.

A fault rule (JSON object), as the tests add them:

    status       HTTP status to answer instead of the API server (e.g. 429, 500, 503), with a
                 Kubernetes ``Status`` body; 429 and 503 carry ``Retry-After`` (``retry_after``
                 seconds, default 1)
    message      the Status message (default "injected fault <status> from the fault proxy")
    drop         true: kill the flow, i.e. close the client's connection without an answer
    count        how many matching requests the rule acts on (default 1); 0 = spent
    method       only requests with this HTTP method (any when absent)
    path_regex   only requests whose path and query match (``re.search``)
    fired        set by the proxy: how many requests the rule acted on

Rules are tried in the order they were added; the first live match acts. Requests that no rule
matches go to the API server unchanged (responses are streamed through).

Control endpoints, answered by the proxy itself (never forwarded), each request carrying
``X-Faultproxy-Token`` (option ``faultproxy_token``; anything else gets 403):

    GET    /_faultproxy/faults        {"faults": [rules]}
    POST   /_faultproxy/faults        add one rule or a list of rules -> 201 {"faults": [...]}
    DELETE /_faultproxy/faults        remove every rule
    GET    /_faultproxy/stats         {"requests", "by_method", "by_status", "faults_fired", "writes"}
    POST   /_faultproxy/stats/reset   zero the counters

``requests``/``by_method`` count every API request that reached the proxy (before faults);
``by_status`` counts the status of every answer: the API server's and the injected ones
(a dropped request has none). ``writes`` lists the write requests (POST, PUT, PATCH, DELETE:
``{"method", "path", "dry_run"}``, the last ``MAX_WRITES``), ``dry_run`` read the way
kube-apiserver reads it: from the ``dryRun`` query parameter, except for a DELETE with a body,
whose DeleteOptions (``dryRun`` included) come from the body alone.
"""
from __future__ import annotations

import json
import re
import threading
from collections import Counter

from mitmproxy import ctx, http

CONTROL = "/_faultproxy/"
TOKEN_HEADER = "X-Faultproxy-Token"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
MAX_WRITES = 1000
REASONS = {429: "TooManyRequests", 500: "InternalError", 502: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout", 409: "Conflict"}


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> http.Response:
    return http.Response.make(status, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})


def validate_rule(rule: object) -> dict:
    """A checked copy of one rule; raises ValueError (TypeError) naming what is wrong."""
    if not isinstance(rule, dict):
        raise TypeError(f"a fault rule is an object, got {type(rule).__name__}")
    unknown = set(rule) - {"status", "message", "drop", "count", "method", "path_regex", "retry_after"}
    if unknown:
        raise ValueError(f"unknown fault rule keys: {sorted(unknown)}")
    if not (rule.get("status") or rule.get("drop")):
        raise ValueError("a fault rule needs 'status' or 'drop'")
    if rule.get("status") and not 400 <= int(rule["status"]) <= 599:
        raise ValueError(f"status must be 400..599, got {rule['status']}")
    if rule.get("path_regex"):
        re.compile(rule["path_regex"])
    checked = dict(rule)
    checked["count"] = int(rule.get("count", 1))
    checked["fired"] = 0
    return checked


class FaultInjector:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: list[dict] = []
        self.stats: Counter = Counter()
        self.writes: list[dict] = []

    def load(self, loader) -> None:
        loader.add_option("faultproxy_token", str, "", "Token the control endpoints require (X-Faultproxy-Token).")

    # ------------------------------------------------------------------ control
    def control(self, flow: http.HTTPFlow) -> http.Response:
        token = ctx.options.faultproxy_token
        if not token or flow.request.headers.get(TOKEN_HEADER) != token:
            return _json(403, {"error": f"{TOKEN_HEADER} missing or wrong"})
        method, path = flow.request.method, flow.request.path.split("?", 1)[0].rstrip("/")
        with self.lock:
            if path == "/_faultproxy/faults" and method == "GET":
                return _json(200, {"faults": self.rules})
            if path == "/_faultproxy/faults" and method == "POST":
                try:
                    body = json.loads(flow.request.get_text() or "null")
                    added = [validate_rule(r) for r in (body if isinstance(body, list) else [body])]
                except (ValueError, TypeError, re.error) as exc:
                    return _json(400, {"error": str(exc)})
                self.rules.extend(added)
                return _json(201, {"faults": self.rules})
            if path == "/_faultproxy/faults" and method == "DELETE":
                self.rules.clear()
                return _json(200, {"faults": []})
            if path == "/_faultproxy/stats" and method == "GET":
                return _json(200, self.snapshot())
            if path == "/_faultproxy/stats/reset" and method == "POST":
                self.stats.clear()
                self.writes.clear()
                return _json(200, {"reset": True})
        return _json(404, {"error": f"no control endpoint {method} {path}"})

    def snapshot(self) -> dict:
        return {"requests": self.stats["requests"],
                "by_method": {k[7:]: v for k, v in self.stats.items() if k.startswith("method:")},
                "by_status": {k[7:]: v for k, v in self.stats.items() if k.startswith("status:")},
                "faults_fired": self.stats["faults_fired"], "writes": self.writes}

    @staticmethod
    def is_dry_run(request: http.Request) -> bool:
        if request.method == "DELETE" and request.content:
            try:
                return "All" in (json.loads(request.content).get("dryRun") or [])
            except (ValueError, AttributeError):
                return False
        return "All" in request.query.get_all("dryRun")

    def match(self, request: http.Request) -> dict | None:
        for rule in self.rules:
            if rule["count"] <= 0:
                continue
            if rule.get("method") and rule["method"].upper() != request.method:
                continue
            if rule.get("path_regex") and not re.search(rule["path_regex"], request.path):
                continue
            rule["count"] -= 1
            rule["fired"] += 1
            return rule
        return None

    # ------------------------------------------------------------------ hooks
    def request(self, flow: http.HTTPFlow) -> None:
        if flow.request.path.startswith(CONTROL):
            flow.metadata["faultproxy"] = "control"
            flow.response = self.control(flow)
            return
        with self.lock:
            self.stats["requests"] += 1
            self.stats[f"method:{flow.request.method}"] += 1
            if flow.request.method in WRITE_METHODS:
                self.writes.append({"method": flow.request.method, "path": flow.request.path,
                                    "dry_run": self.is_dry_run(flow.request)})
                del self.writes[:-MAX_WRITES]
            rule = self.match(flow.request)
            if rule is None:
                return
            self.stats["faults_fired"] += 1
            if rule.get("drop"):
                flow.kill()
                return
            code = int(rule["status"])
        flow.metadata["faultproxy"] = "injected"
        headers = {"Retry-After": str(rule.get("retry_after", 1))} if code in (429, 503) else None
        message = rule.get("message") or f"injected fault {code} from the fault proxy"
        flow.response = _json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                     "message": message, "reason": REASONS.get(code, "InternalError"),
                                     "code": code}, headers)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Every answer but the control endpoints' is counted; the API server's are streamed
        through (watches included). mitmproxy calls this for answers set in ``request`` too."""
        origin = flow.metadata.get("faultproxy")
        if origin == "control":
            return
        with self.lock:
            self.stats[f"status:{flow.response.status_code}"] += 1
        if origin is None:
            flow.response.stream = True


addons = [FaultInjector()]
