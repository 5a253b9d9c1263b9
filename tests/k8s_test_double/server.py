"""aiohttp application: the Kubernetes REST API surface of the test double."""
from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import time
from collections import Counter

import yaml
from aiohttp import web

from . import patching, registry, semantics
from .registry import BY_KEY
from .store import ApiError, invalid, not_found

GIT_VERSION = "v1.31.0-stateful-nfs-test-double"
NOTICE = ("stateful.nfs TEST DOUBLE: an aiohttp emulation of the Kubernetes API for tests. "
          "It is not a Kubernetes cluster; no containers run and pod IPs are fake.")

try:
    _YamlLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


def status_response(err: ApiError, headers=None):
    return web.json_response(err.status(), status=err.code, headers=headers)


def success_status(res, obj):
    m = obj["metadata"]
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": m["name"], "group": res.group, "kind": res.plural, "uid": m["uid"]}}


def version_doc():
    return {"major": "1", "minor": "31", "gitVersion": GIT_VERSION, "gitCommit": "test-double",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "python",
            "compiler": "aiohttp", "platform": "test-double/python (NOT a real cluster)",
            "emulationMajor": "1", "emulationMinor": "31", "testDouble": True, "notice": NOTICE}


class Faults:
    """Injected failures: [{status, count, path_regex, method, drop, delay}]."""

    def __init__(self):
        self.rules = []

    def match(self, request):
        for rule in self.rules:
            if rule.get("count", 1) <= 0:
                continue
            if rule.get("method") and rule["method"].upper() != request.method:
                continue
            if rule.get("path_regex") and not re.search(rule["path_regex"], request.path_qs):
                continue
            rule["count"] = rule.get("count", 1) - 1
            rule["fired"] = rule.get("fired", 0) + 1
            return rule
        return None


def _parse_path(path):
    """-> (res, namespace, name, subresource, legacy_watch) or None."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None
    if parts[0] == "api" and len(parts) >= 3 and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    legacy_watch = False
    if rest and rest[0] == "watch":
        legacy_watch, rest = True, rest[1:]
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        r = registry.lookup(group, version, rest[2])
        if r and r.namespaced:
            ns, rest = rest[1], rest[2:]
    if not rest:
        return None
    res = registry.lookup(group, version, rest[0])
    if res is None:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3:
        return None
    return res, ns, name, sub, legacy_watch


def _drop_nulls(node):
    if isinstance(node, dict):
        return {k: _drop_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_drop_nulls(x) for x in node]
    return node


class Api:
    def __init__(self, double):
        self.d = double
        self.store = double.store
        self.stats = Counter()
        self.faults = Faults()

    # ------------------------------------------------------------------ app
    def build_app(self):
        app = web.Application(middlewares=[self.middleware], client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_get("/version", self.version)
        r.add_get("/version/", self.version)
        for p in ("/healthz", "/readyz", "/livez"):
            r.add_get(p, self.healthz)
        r.add_get("/api", self.api_versions)
        r.add_get("/apis", self.api_groups)
        r.add_get("/openapi/v2", self.openapi)
        r.add_get("/openapi/v3", self.openapi)
        r.add_get("/_test_double", self.td_info)
        r.add_get("/_test_double/stats", self.td_stats)
        r.add_post("/_test_double/stats/reset", self.td_stats_reset)
        r.add_get("/_test_double/faults", self.td_faults_get)
        r.add_post("/_test_double/faults", self.td_faults_add)
        r.add_delete("/_test_double/faults", self.td_faults_clear)
        r.add_route("*", "/{tail:.*}", self.dispatch)
        return app

    @web.middleware
    async def middleware(self, request, handler):
        path = request.path
        public = path.startswith(("/version", "/healthz", "/readyz", "/livez"))
        if not public and self.d.token:
            auth = request.headers.get("Authorization", "")
            if auth != f"Bearer {self.d.token}":
                self.stats["unauthorized"] += 1
                return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                          "status": "Failure", "message": "Unauthorized",
                                          "reason": "Unauthorized", "code": 401}, status=401)
        if path.startswith(("/api", "/apis")):
            self.stats["requests"] += 1
            self.stats[f"method:{request.method}"] += 1
            parsed = _parse_path(path.rstrip("/"))
            if parsed:
                res, _, name, sub, legacy_watch = parsed
                watch = legacy_watch or request.query.get("watch") in ("true", "1")
                verb = {"GET": "watch" if watch else ("get" if name else "list"), "POST": "create",
                        "PUT": "update", "PATCH": "patch",
                        "DELETE": "delete" if name else "deletecollection"}.get(request.method,
                                                                                 request.method.lower())
                self.stats[f"verb:{verb}"] += 1
                self.stats[f"vr:{verb} {res.plural}{'/' + sub if sub else ''}"] += 1
            else:
                self.stats["verb:discovery"] += 1
            rule = self.faults.match(request)
            if rule:
                self.stats["faults_fired"] += 1
                if rule.get("delay"):
                    await asyncio.sleep(min(float(rule["delay"]), 30))
                if rule.get("drop"):
                    request.transport.abort()
                    raise web.HTTPServiceUnavailable()
                if rule.get("status"):
                    code = int(rule["status"])
                    reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
                              504: "Timeout", 409: "Conflict"}.get(code, "InternalError")
                    headers = {"Retry-After": str(rule.get("retry_after", 1))} if code in (429, 503) else None
                    return status_response(ApiError(code, reason, rule.get(
                        "message", f"injected fault {code} from the test double")), headers)
        try:
            return await handler(request)
        except ApiError as exc:
            return status_response(exc)
        except web.HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in the double must surface as a Status, with a trace
            import traceback
            self.d.log(f"internal error on {request.method} {request.path_qs}:\n{traceback.format_exc()}")
            return status_response(ApiError(500, "InternalError", f"test double internal error: {exc!r}"))

    # ------------------------------------------------------------------ misc endpoints
    async def version(self, request):
        return web.json_response(version_doc())

    async def healthz(self, request):
        return web.Response(text="ok")

    async def api_versions(self, request):
        return web.json_response(registry.api_versions())

    async def api_groups(self, request):
        return web.json_response(registry.api_group_list())

    async def openapi(self, request):
        raise ApiError(404, "NotFound", "the test double serves no OpenAPI document (discovery only)")

    async def td_info(self, request):
        return web.json_response({"testDouble": True, "notice": NOTICE, "version": version_doc(),
                                  "config": self.d.describe()})

    async def td_stats(self, request):
        return web.json_response({"testDouble": True, "requests": self.stats.get("requests", 0),
                                  "by_verb": {k[5:]: v for k, v in self.stats.items() if k.startswith("verb:")},
                                  "by_method": {k[7:]: v for k, v in self.stats.items() if k.startswith("method:")},
                                  "by_verb_resource": {k[3:]: v for k, v in self.stats.items()
                                                       if k.startswith("vr:")},
                                  "writes": self.stats.get("writes", 0),
                                  "dry_run_writes": self.stats.get("dry_run_writes", 0),
                                  "unauthorized": self.stats.get("unauthorized", 0),
                                  "faults_fired": self.stats.get("faults_fired", 0)})

    async def td_stats_reset(self, request):
        self.stats.clear()
        return web.json_response({"reset": True})

    async def td_faults_get(self, request):
        return web.json_response({"faults": self.faults.rules})

    async def td_faults_add(self, request):
        body = await request.json()
        rules = body if isinstance(body, list) else [body]
        for r in rules:
            if not isinstance(r, dict) or not (r.get("status") or r.get("drop") or r.get("delay")):
                raise ApiError(400, "BadRequest", "a fault needs 'status', 'drop' or 'delay'")
            if r.get("path_regex"):
                re.compile(r["path_regex"])
            r.setdefault("count", 1)
        self.faults.rules.extend(rules)
        return web.json_response({"faults": self.faults.rules}, status=201)

    async def td_faults_clear(self, request):
        self.faults.rules.clear()
        return web.json_response({"faults": []})

    # ------------------------------------------------------------------ dispatch
    async def dispatch(self, request):
        path = request.path.rstrip("/")
        parts = [p for p in path.split("/") if p]
        if request.method == "GET":
            if parts == ["api", "v1"]:
                return web.json_response(registry.resource_list("", "v1"))
            if len(parts) == 2 and parts[0] == "apis":
                doc = registry.api_group(parts[1])
                if doc:
                    return web.json_response(doc)
            if len(parts) == 3 and parts[0] == "apis":
                doc = registry.resource_list(parts[1], parts[2])
                if doc:
                    return web.json_response(doc)
        parsed = _parse_path(path)
        if parsed is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        res, ns, name, sub, legacy_watch = parsed
        if res.namespaced and ns is None and name is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub and sub not in res.subresources and not (res.plural == "pods" and sub in ("log", "exec",
                                                                                           "attach", "portforward")):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        q = request.query
        m = request.method
        watch = legacy_watch or q.get("watch") in ("true", "1")
        dry_run = "All" in q.getall("dryRun", [])
        if q.getall("dryRun", []) and not dry_run:
            raise ApiError(400, "BadRequest", f"unsupported dryRun value {q.getall('dryRun')}: only All")
        if m in ("POST", "PUT", "PATCH", "DELETE"):
            self.stats["dry_run_writes" if dry_run else "writes"] += 1
        if res.plural == "pods" and sub in ("exec", "attach", "portforward"):
            raise ApiError(400, "BadRequest", f"pods/{sub} is not supported by the test double: no containers run")
        if res.plural == "pods" and sub == "log":
            self._get_or_404(res, ns, name)
            return web.Response(text="(stateful.nfs test double: no container runs, so there are no logs)\n")
        if m == "GET":
            if name is None:
                if watch:
                    return await self.watch(request, res, ns)
                return self.list(request, res, ns)
            obj = self._get_or_404(res, ns, name)
            if sub == "scale":
                return web.json_response(self._scale(res, obj))
            return web.json_response(obj)
        if m == "POST" and name is None:
            body = await self._json(request)
            return self.create(request, res, ns, body, dry_run)
        if m == "PUT" and name:
            body = await self._json(request)
            return self.replace(request, res, ns, name, sub, body, dry_run)
        if m == "PATCH" and name:
            return await self.patch(request, res, ns, name, sub, dry_run)
        if m == "DELETE" and name and not sub:
            return await self.delete(request, res, ns, name, dry_run)
        if m == "DELETE" and name is None:
            return await self.delete_collection(request, res, ns, dry_run)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    # ------------------------------------------------------------------ helpers
    async def _json(self, request):
        raw = await request.read()
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"the request body is not valid JSON: {exc}") from None
        return body

    def _get_or_404(self, res, ns, name):
        obj = self.store.get(res, ns, name)
        if obj is None:
            raise not_found(res, name)
        return obj

    def _manager(self, request, default_apply=False):
        fm = request.query.get("fieldManager")
        if fm:
            if len(fm) > 128:
                raise ApiError(422, "Invalid", "fieldManager: Too long: must have at most 128 bytes")
            return fm
        ua = request.headers.get("User-Agent", "unknown")
        return ua.split("/")[0] or "unknown"

    def _check_kind(self, res, body):
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be a JSON/YAML object")
        av, kind = body.get("apiVersion"), body.get("kind")
        if (av and av != res.api_version) or (kind and kind != res.kind):
            raise ApiError(400, "BadRequest", f"the API version in the data ({av}) does not match the expected "
                           f"API version ({res.api_version})" if av != res.api_version else
                           f"the kind in the data ({kind}) does not match the expected kind ({res.kind})")

    def _scale(self, res, obj):
        spec, st, m = obj.get("spec") or {}, obj.get("status") or {}, obj["metadata"]
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in m},
                "spec": {"replicas": spec.get("replicas", 0)},
                "status": {"replicas": st.get("replicas", 0),
                           "selector": ",".join(f"{k}={v}" for k, v in sorted(sel.items()))}}

    # ------------------------------------------------------------------ list / watch
    def _filters(self, request, res):
        q = request.query
        try:
            lreq = semantics.parse_label_selector(q.get("labelSelector", ""))
            freq = semantics.parse_field_selector(q.get("fieldSelector", ""), res.plural)
        except semantics.SelectorError as exc:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {exc}") from None
        return lambda o: (o is not None and semantics.match_requirements(lreq, o["metadata"].get("labels"))
                          and semantics.match_fields(freq, o))

    def list(self, request, res, ns):
        match = self._filters(request, res)
        items = [o for o in self.store.list(res, ns) if match(o)]
        meta = {"resourceVersion": str(self.store.rv)}
        limit = int(request.query.get("limit") or 0)
        start = 0
        if request.query.get("continue"):
            try:
                start = int(base64.b64decode(request.query["continue"]).decode())
            except Exception:  # noqa: BLE001
                raise ApiError(400, "BadRequest", "invalid continue token") from None
        if limit > 0:
            page = items[start:start + limit]
            if start + limit < len(items):
                meta["continue"] = base64.b64encode(str(start + limit).encode()).decode()
                meta["remainingItemCount"] = len(items) - start - limit
            items = page
        return web.json_response({"kind": f"{res.kind}List", "apiVersion": res.api_version,
                                  "metadata": meta, "items": items})

    async def watch(self, request, res, ns):
        match = self._filters(request, res)
        q = request.query
        timeout = float(q.get("timeoutSeconds") or 1800)
        timeout = max(0.0, min(timeout, 1800.0))
        rv_param = q.get("resourceVersion", "")
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                       "Cache-Control": "no-cache"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        queue: asyncio.Queue = asyncio.Queue()
        self.store.watchers.add(queue)
        last = 0

        def in_scope(entry):
            return entry[2] == res.key and (not ns or not res.namespaced
                                            or entry[3]["metadata"].get("namespace") == ns)

        def translate(entry):
            _, etype, _, obj, old = entry
            if etype == "ADDED":
                return "ADDED" if match(obj) else None
            if etype == "DELETED":
                return "DELETED" if match(old or obj) or match(obj) else None
            now, before = match(obj), match(old)
            if now and before:
                return "MODIFIED"
            if now:
                return "ADDED"
            if before:
                return "DELETED"
            return None

        async def send(etype, obj):
            await resp.write(json.dumps({"type": etype, "object": obj}).encode() + b"\n")

        deadline = time.monotonic() + timeout
        try:
            if rv_param in ("", "0"):
                for o in self.store.list(res, ns):
                    if match(o):
                        await send("ADDED", o)
                last = self.store.rv
            else:
                try:
                    since = int(rv_param)
                except ValueError:
                    raise ApiError(400, "BadRequest", f"invalid resourceVersion {rv_param!r}") from None
                oldest = self.store.log[0][0] if self.store.log else self.store.rv + 1
                if since < oldest - 1 and since < self.store.rv:
                    await send("ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                         "status": "Failure", "message": f"too old resource version: {since} "
                                         f"({oldest - 1})", "reason": "Expired", "code": 410})
                    return resp
                for entry in list(self.store.log):
                    if entry[0] > since and in_scope(entry):
                        t = translate(entry)
                        if t:
                            await send(t, entry[3])
                last = max(since, self.store.rv)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    entry = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
                if entry[0] <= last or not in_scope(entry):
                    continue
                last = entry[0]
                t = translate(entry)
                if t:
                    await send(t, entry[3])
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.watchers.discard(queue)
        try:
            await resp.write_eof()
        except Exception:  # noqa: BLE001
            pass
        return resp

    # ------------------------------------------------------------------ writes
    def create(self, request, res, ns, body, dry_run):
        self._check_kind(res, body)
        if res.namespaced and ns is None:
            ns = (body.get("metadata") or {}).get("namespace")
            if not ns:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        obj = self.store.create(res, ns, body, self._manager(request), dry_run=dry_run)
        return web.json_response(obj, status=201)

    def replace(self, request, res, ns, name, sub, body, dry_run):
        self._check_kind(res, body) if sub != "scale" else None
        if sub == "scale":
            obj = self._get_or_404(res, ns, name)
            new = copy.deepcopy(obj)
            new["spec"]["replicas"] = int(((body or {}).get("spec") or {}).get("replicas", 0))
            out, _ = self.store.update(res, ns, name, new, self._manager(request), dry_run=dry_run)
            return web.json_response(self._scale(res, out))
        if res.namespaced:
            bns = (body.get("metadata") or {}).get("namespace")
            if bns and bns != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the "
                               "namespace sent on the request")
        obj, created = self.store.update(res, ns, name, body, self._manager(request), subresource=sub,
                                         dry_run=dry_run)
        return web.json_response(obj, status=201 if created else 200)

    async def patch(self, request, res, ns, name, sub, dry_run):
        ctype = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        raw = await request.read()
        manager = self._manager(request)
        if ctype == "application/apply-patch+yaml":
            return self._apply(request, res, ns, name, sub, raw, dry_run)
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"the patch body is not valid JSON: {exc}") from None
        if sub == "scale":
            obj = self._get_or_404(res, ns, name)
            scale = self._scale(res, obj)
            scale = patching.json_merge(scale, body) if ctype != "application/json-patch+json" \
                else patching.json_patch(scale, body)
            new = copy.deepcopy(obj)
            new["spec"]["replicas"] = int(scale["spec"]["replicas"])
            out, _ = self.store.update(res, ns, name, new, manager, dry_run=dry_run)
            return web.json_response(self._scale(res, out))
        obj = self._get_or_404(res, ns, name)
        try:
            if ctype == "application/merge-patch+json":
                new = patching.json_merge(obj, body)
            elif ctype == "application/strategic-merge-patch+json":
                new = patching.strategic_merge(obj, body)
            elif ctype == "application/json-patch+json":
                new = patching.json_patch(obj, body)
            else:
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml, "
                               "application/strategic-merge-patch+json")
        except patching.PatchError as exc:
            raise ApiError(422, "Invalid", str(exc)) from None
        if not isinstance(new, dict):
            raise ApiError(422, "Invalid", "the patch result is not an object")
        new.setdefault("metadata", {})
        new["metadata"].setdefault("resourceVersion", obj["metadata"]["resourceVersion"])
        out, _ = self.store.update(res, ns, name, new, manager, subresource=sub, dry_run=dry_run)
        return web.json_response(out)

    def _apply(self, request, res, ns, name, sub, raw, dry_run):
        manager = request.query.get("fieldManager")
        if not manager:
            raise ApiError(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required "
                           "value: is required for apply patch")
        force = request.query.get("force") in ("true", "1")
        try:
            cfg = yaml.load(raw.decode() or "{}", Loader=_YamlLoader)
        except yaml.YAMLError as exc:
            raise ApiError(400, "BadRequest", f"error decoding YAML: {exc}") from None
        if not isinstance(cfg, dict):
            raise ApiError(400, "BadRequest", "apply patch must be an object")
        cfg = _drop_nulls(cfg)  # null in an apply configuration means "not specified"
        if not cfg.get("apiVersion") or not cfg.get("kind"):
            raise ApiError(400, "BadRequest", "invalid object type: apiVersion and kind are required in an "
                           "apply configuration")
        self._check_kind(res, cfg)
        meta = cfg.setdefault("metadata", {}) or {}
        cfg["metadata"] = meta
        if meta.get("name") and meta["name"] != name:
            raise ApiError(400, "BadRequest", f"the name of the object ({meta['name']}) does not match the name "
                           f"on the URL ({name})")
        meta["name"] = name
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the "
                               "namespace sent on the request")
            meta["namespace"] = ns
        body = {k: v for k, v in cfg.items() if k not in ("apiVersion", "kind")}
        if sub == "status":
            body = {"metadata": {"name": name}, "status": cfg.get("status") or {}}
        elif "status" in res.subresources:
            body.pop("status", None)
        live = self.store.get(res, ns, name)
        if live is None and sub:
            raise not_found(res, name)
        try:
            new, owned = patching.server_side_apply(live, body, manager, force, subresource=sub)
        except patching.Conflict as exc:
            n = len(exc.conflicts)
            msg = (f"Apply failed with {n} conflict{'s' if n > 1 else ''}: " + "; ".join(
                f'conflict with "{m}": {patching.render_path(p)}' for m, p in exc.conflicts))
            raise ApiError(409, "Conflict", msg, {"causes": [
                {"reason": "FieldManagerConflict", "message": f'conflict with "{m}"',
                 "field": patching.render_path(p)} for m, p in exc.conflicts]}) from None
        if live is None:
            new["apiVersion"], new["kind"] = res.api_version, res.kind
            obj = self.store.create(res, ns, new, manager, dry_run=dry_run, owned=owned)
            return web.json_response(obj, status=201)
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        new["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        out, _ = self.store.update(res, ns, name, new, manager, subresource=sub, dry_run=dry_run, owned=owned)
        return web.json_response(out)

    async def _delete_options(self, request):
        raw = await request.read()
        opts = {}
        if raw:
            try:
                opts = json.loads(raw) or {}
            except ValueError:
                raise ApiError(400, "BadRequest", "DeleteOptions body is not valid JSON") from None
        q = request.query
        policy = q.get("propagationPolicy") or opts.get("propagationPolicy")
        orphan = q.get("orphanDependents") or opts.get("orphanDependents")
        if policy is None and orphan in (True, "true"):
            policy = "Orphan"
        grace = q.get("gracePeriodSeconds", opts.get("gracePeriodSeconds"))
        dry = "All" in (q.getall("dryRun", []) + list(opts.get("dryRun") or []))
        return policy, opts.get("preconditions"), (int(grace) if grace is not None else None), dry

    async def delete(self, request, res, ns, name, dry_run):
        policy, pre, grace, dry = await self._delete_options(request)
        obj, gone = self.store.delete(res, ns, name, propagation=policy, preconditions=pre, grace=grace,
                                      dry_run=dry_run or dry, pod_grace_delay=self.d.cfg.pod_termination_delay)
        self.d.kick()
        # like the real registries: these return the deleted object, the rest a Status
        if gone and res.plural not in ("pods", "namespaces", "persistentvolumes", "persistentvolumeclaims",
                                       "services", "serviceaccounts", "storageclasses"):
            return web.json_response(success_status(res, obj))
        return web.json_response(obj, status=200 if gone else 202 if obj["metadata"].get("deletionTimestamp")
                                 and res.plural != "pods" else 200)

    async def delete_collection(self, request, res, ns, dry_run):
        policy, pre, grace, dry = await self._delete_options(request)
        match = self._filters(request, res)
        items = [o for o in self.store.list(res, ns) if match(o)]
        out = []
        for o in items:
            obj, _ = self.store.delete(res, o["metadata"].get("namespace"), o["metadata"]["name"],
                                       propagation=policy, grace=grace, dry_run=dry_run or dry,
                                       pod_grace_delay=self.d.cfg.pod_termination_delay)
            out.append(obj)
        self.d.kick()
        return web.json_response({"kind": f"{res.kind}List", "apiVersion": res.api_version,
                                  "metadata": {"resourceVersion": str(self.store.rv)}, "items": out})


__all__ = ["BY_KEY", "GIT_VERSION", "NOTICE", "Api", "invalid"]
