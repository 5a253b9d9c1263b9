"""A tiny, in-test Kubernetes API fake on 127.0.0.1 that records every request.

A unit-test fake, not an emulation of a cluster (the cluster tests run against the lab's real
Kubernetes): it exists so unit tests can assert on the exact HTTP traffic the modules send
("re-apply sends no PATCH", "check mode sends dryRun=All", retries on 429/500/reset) without a
cluster. It implements only what the modules use: GET/LIST (equality label
selectors, involvedObject field selectors), server-side apply PATCH (whole
object replaced by the applied fields, managed fields recorded per manager, a
few defaults and quantity canonicalisation so that live != desired textually),
DELETE with dryRun (from the body when there is one, as the API server reads it) and
propagationPolicy, 422 for immutable StatefulSet
fields, bearer-token auth, and scripted faults.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import KINDS

PLURAL_TO_KIND = {plural: kind for kind, (_v, plural, _n) in KINDS.items()}
IMMUTABLE_STS = ("selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates")


def now():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def fields_v1(obj):
    """Approximate fieldsV1 of an applied object (lists of dicts keyed by name/containerPort, else atomic)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(v, dict):
                out["f:" + k] = fields_v1(v)
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                keyname = next((kn for kn in ("name", "containerPort", "port") if all(kn in x for x in v)), None)
                if keyname is None:
                    out["f:" + k] = {}
                else:
                    sub = {}
                    for x in v:
                        key = {keyname: x[keyname]}
                        if keyname in ("containerPort", "port"):
                            key["protocol"] = x.get("protocol", "TCP")
                        sub["k:" + json.dumps(key, sort_keys=True, separators=(",", ":"))] = dict(
                            {".": {}}, **fields_v1(x))
                    out["f:" + k] = sub
            else:
                out["f:" + k] = {}
        return out
    return {}


def canonical_quantity(q):
    if isinstance(q, str) and q.endswith("Mi") and q[:-2].isdigit() and int(q[:-2]) % 1024 == 0:
        return f"{int(q[:-2]) // 1024}Gi"
    return q


def apply_defaults(obj):
    kind, spec = obj["kind"], obj.get("spec")
    if kind == "StatefulSet":
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        for v in spec.get("volumeClaimTemplates") or []:
            v["spec"].setdefault("volumeMode", "Filesystem")
            v.setdefault("status", {"phase": "Pending"})
            req = v["spec"].get("resources", {}).get("requests", {})
            if "storage" in req:
                req["storage"] = canonical_quantity(req["storage"])
    if kind == "Deployment":
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
    if kind == "Service":
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("clusterIPs", [spec.get("clusterIP", "10.96.0.10")])
        spec.setdefault("clusterIP", "10.96.0.10")
    for c in (((spec or {}).get("template") or {}).get("spec") or {}).get("containers") or []:
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("imagePullPolicy", "IfNotPresent")
        for res in (c.get("resources") or {}).values():
            for k in list(res):
                res[k] = canonical_quantity(res[k])
    return obj


class FakeApi:
    """Start with ``FakeApi().start()``; ``stop()`` when done (tests use the ``fake_api`` fixture)."""

    def __init__(self, token=None):
        self.token = token
        self.objects = {}  # (kind, namespace, name) -> object
        self.requests = []  # dicts: method, path, query, body, content_type
        self.faults = []  # [(method or None, path substring or None, action)]; action: int status or "reset"
        self.hooks = []  # callables(fake, method, path) run before each request is answered
        self.rv = 100
        self.version = {"major": "1", "minor": "34", "gitVersion": "v1.34.0-fake"}  # what /version answers
        self.lock = threading.RLock()
        self.server = None
        self.thread = None

    # -- lifecycle
    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes

            def log_message(self, *_args):
                return

            def _handle(self):
                fake.handle(self)

            do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- helpers for tests
    def put(self, obj, manager=None):
        """Store ``obj`` as if it had been applied (``manager``) or created by someone else."""
        obj = apply_defaults(copy.deepcopy(obj))
        meta = obj.setdefault("metadata", {})
        if KINDS[obj["kind"]][2]:
            meta.setdefault("namespace", "default")
        else:
            meta.pop("namespace", None)
        self._bookkeep(obj, None, manager)
        self.objects[self._key(obj)] = obj
        return obj

    def get(self, kind, name, namespace=None):
        return self.objects.get((kind, namespace if KINDS[kind][2] else None, name))

    def writes(self):
        return [r for r in self.requests if r["method"] in ("PATCH", "POST", "PUT", "DELETE")]

    def clear_log(self):
        self.requests.clear()

    # -- internals
    @staticmethod
    def _key(obj):
        meta = obj["metadata"]
        return (obj["kind"], meta.get("namespace") if KINDS[obj["kind"]][2] else None, meta["name"])

    def _bookkeep(self, obj, old, manager, operation="Apply", applied=None):
        meta = obj["metadata"]
        self.rv += 1
        meta["resourceVersion"] = str(self.rv)
        if old is None:
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now())
            meta["generation"] = 1
        else:
            meta["uid"] = old["metadata"]["uid"]
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            gen = old["metadata"].get("generation", 1)
            meta["generation"] = gen + 1 if old.get("spec") != obj.get("spec") else gen
            if "status" in old and "status" not in obj:
                obj["status"] = old["status"]
        if manager:
            applied = copy.deepcopy({k: v for k, v in (applied or obj).items() if k != "status"})
            for k in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
                applied["metadata"].pop(k, None)
            others = [e for e in ((old or {}).get("metadata") or {}).get("managedFields") or []
                      if e.get("manager") != manager]
            meta["managedFields"] = others + [{"manager": manager, "operation": operation,
                                              "apiVersion": obj["apiVersion"], "time": now(),
                                              "fieldsType": "FieldsV1", "fieldsV1": fields_v1(applied)}]

    def _route(self, path):
        # path segments are percent-encoded (an RBAC name may hold ':'), as the API server reads them
        parts = [unquote(p) for p in path.split("/") if p]
        if parts[:1] == ["api"]:
            rest = parts[2:]
        elif parts[:1] == ["apis"]:
            rest = parts[3:]
        else:
            return None
        ns = None
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        if not rest:
            return None
        if rest[0] == "namespaces" and len(rest) <= 2:
            return ("Namespace", None, rest[1] if len(rest) == 2 else None)
        kind = PLURAL_TO_KIND.get(rest[0])
        if kind is None:
            return None
        return (kind, ns, rest[1] if len(rest) > 1 else None)

    def _send(self, h, code, body, headers=None):
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def handle(self, h):
        u = urlparse(h.path)
        query = {k: v[0] for k, v in parse_qs(u.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with self.lock:
            self.requests.append({"method": h.command, "path": u.path, "query": query, "body": body,
                                  "content_type": h.headers.get("Content-Type"),
                                  "authorization": h.headers.get("Authorization")})
            for i, (m, sub, action) in enumerate(self.faults):
                if (m is None or m == h.command) and (sub is None or sub in u.path):
                    del self.faults[i]
                    if action == "reset":
                        h.close_connection = True
                        try:
                            h.connection.shutdown(2)
                        except OSError:
                            pass
                        return
                    headers = {"Retry-After": "0"} if action == 429 else None
                    reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}.get(
                        action, "Failure")
                    return self._send(h, action, status_body(action, reason, f"injected fault {action}"),
                                      headers)
            if self.token is not None and h.headers.get("Authorization") != f"Bearer {self.token}":
                return self._send(h, 401, status_body(401, "Unauthorized", "Unauthorized"))
            for hook in list(self.hooks):
                hook(self, h.command, u.path)
            if u.path == "/version":
                return self._send(h, 200, self.version)
            route = self._route(u.path)
            if route is None:
                return self._send(h, 404, status_body(404, "NotFound", "the server could not find the requested"
                                                                        " resource"))
            kind, ns, name = route
            if h.command == "GET":
                return self._get(h, kind, ns, name, query)
            if h.command == "PATCH":
                return self._apply(h, kind, ns, name, query, body, h.headers.get("Content-Type"))
            if h.command == "DELETE":
                return self._delete(h, kind, ns, name, query, body)
            return self._send(h, 405, status_body(405, "MethodNotAllowed", "not supported by the fake"))

    def _notfound(self, h, kind, name):
        plural = KINDS[kind][1]
        group = KINDS[kind][0].split("/")[0] if "/" in KINDS[kind][0] else ""
        what = f"{plural}.{group}" if group else plural
        return self._send(h, 404, status_body(404, "NotFound", f'{what} "{name}" not found'))

    def _get(self, h, kind, ns, name, query):
        if name:
            obj = self.objects.get((kind, ns, name))
            if obj is None:
                return self._notfound(h, kind, name)
            return self._send(h, 200, obj)
        items = [o for (k, n, _), o in sorted(self.objects.items()) if k == kind and (ns is None or n == ns)]
        sel = query.get("labelSelector")
        if sel:
            pairs = [s.split("=", 1) for s in sel.split(",") if s]
            items = [o for o in items if all((o["metadata"].get("labels") or {}).get(k) == v for k, v in pairs)]
        fsel = query.get("fieldSelector")
        if fsel:
            for term in fsel.split(","):
                key, _, value = term.partition("=")
                if key.startswith("involvedObject."):
                    attr = key.split(".", 1)[1]
                    items = [o for o in items if (o.get("involvedObject") or {}).get(attr) == value]
                elif key == "metadata.name":
                    items = [o for o in items if o["metadata"]["name"] == value]
        return self._send(h, 200, {"kind": kind + "List", "apiVersion": KINDS[kind][0],
                                   "metadata": {"resourceVersion": str(self.rv)}, "items": items})

    def _apply(self, h, kind, ns, name, query, body, content_type):
        if content_type != "application/apply-patch+yaml":
            return self._send(h, 415, status_body(415, "UnsupportedMediaType", "fake supports only apply"))
        if not query.get("fieldManager"):
            return self._send(h, 422, status_body(422, "Invalid", "fieldManager is required for apply"))
        obj = apply_defaults(copy.deepcopy(body))
        obj["metadata"]["name"] = name
        if ns:
            obj["metadata"]["namespace"] = ns
        old = self.objects.get((kind, ns, name))
        if old is not None and kind == "StatefulSet":
            for f in IMMUTABLE_STS:
                if old["spec"].get(f) != obj["spec"].get(f):
                    return self._send(h, 422, status_body(
                        422, "Invalid", f'StatefulSet.apps "{name}" is invalid: spec: Forbidden: updates to statefulset'
                                        " spec for fields other than 'replicas', 'ordinals', 'template',"
                                        " 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and"
                                        " 'minReadySeconds' are forbidden"))
        if old is not None and kind == "StorageClass" and old.get("provisioner") != obj.get("provisioner"):
            return self._send(h, 422, status_body(422, "Invalid", f"StorageClass.storage.k8s.io \"{name}\" is invalid:"
                                                                  " provisioner: Forbidden: updates to provisioner"
                                                                  " are forbidden."))
        self._bookkeep(obj, old, query["fieldManager"], applied=body)
        if query.get("dryRun") != "All":
            self.objects[(kind, ns, name)] = obj
        else:
            self.rv -= 1
        return self._send(h, 201 if old is None else 200, obj)

    def _delete(self, h, kind, ns, name, query, body):
        obj = self.objects.get((kind, ns, name))
        if obj is None:
            return self._notfound(h, kind, name)
        # As the API server: a DELETE with a body takes its DeleteOptions (dryRun included) from
        # the body alone; only a DELETE without one reads them from the query.
        options = body if body else {"dryRun": [query["dryRun"]] if query.get("dryRun") else []}
        if "All" not in (options.get("dryRun") or []):
            del self.objects[(kind, ns, name)]
            policy = (body or {}).get("propagationPolicy")
            if policy in ("Background", "Foreground", "Orphan") and kind in ("StatefulSet", "Deployment"):
                uid = obj["metadata"]["uid"]
                for key, o in list(self.objects.items()):
                    refs = o["metadata"].get("ownerReferences") or []
                    if not any(r.get("uid") == uid for r in refs):
                        continue
                    if policy == "Orphan":  # the garbage collector drops the owner reference
                        o["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    else:
                        del self.objects[key]
        return self._send(h, 200, {"kind": "Status", "apiVersion": "v1", "status": "Success",
                                   "details": {"name": name, "kind": KINDS[kind][1]}})


def make_pod(sts, ordinal, ready=True, revision=None, phase=None, conditions=None, ip=None):
    """A pod as the StatefulSet controller would create it (for wait and info tests)."""
    name = "{}-{}".format(sts["metadata"]["name"], ordinal)
    labels = dict(sts["spec"]["template"]["metadata"]["labels"])
    labels["controller-revision-hash"] = revision or (sts.get("status") or {}).get("updateRevision", "rev-1")
    labels["statefulset.kubernetes.io/pod-name"] = name
    conds = conditions if conditions is not None else [
        {"type": "PodScheduled", "status": "True"},
        {"type": "Ready", "status": "True" if ready else "False",
         "lastTransitionTime": f"2024-05-01T10:00:{ordinal:02d}Z"},
    ]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": sts["metadata"].get("namespace", "default"), "labels": labels,
                     "uid": f"uid-{name}",
                     "ownerReferences": [{"kind": "StatefulSet", "name": sts["metadata"]["name"],
                                          "uid": sts["metadata"].get("uid", "sts-uid"), "controller": True}]},
        "spec": {"hostname": name, "subdomain": sts["spec"]["serviceName"], "nodeName": f"node-{ordinal % 2}",
                 "containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": phase or ("Running" if ready else "Pending"), "conditions": conds,
                   "podIP": ip or f"10.244.0.{10 + ordinal}"},
    }


def run_module(main, args, capsys, check_mode=False, diff=False):
    """Run a module's ``main()`` in-process; returns its JSON result (``failed`` set on fail_json)."""
    from ansible.module_utils.common import warnings
    from ansible.module_utils.testing import patch_module_args

    # warnings are process-wide in ansible-core: each run reports only its own
    warnings._global_warnings.clear()
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    capsys.readouterr()
    with patch_module_args(args):
        try:
            main()
        except SystemExit:
            pass
    out = capsys.readouterr().out
    return json.loads(out)


def warnings_of(result):
    """Warning texts of a module result (plain strings, or ansible-core 2.19's WarningSummary dicts)."""
    out = []
    for w in result.get("warnings") or []:
        if isinstance(w, dict):
            out.append(((w.get("event") or {}).get("msg")) or w.get("msg") or str(w))
        else:
            out.append(w)
    return out
