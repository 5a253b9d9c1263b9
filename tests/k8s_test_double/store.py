"""In-memory object store: metadata, resourceVersions, writes, deletion, watch event log.

Stored objects are never mutated in place: every write stores a fresh deep copy, so
readers (handlers, controllers, watch streams) may hold references safely.
"""
from __future__ import annotations

import asyncio
import copy
import datetime as _dt
import json
import os
import uuid

from . import patching, semantics
from .registry import BY_KEY, Res

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
WATCH_LOG_SIZE = 20000


def now_iso():
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def not_found(res: Res, name):
    return ApiError(404, "NotFound", f'{res.plural}{"." + res.group if res.group else ""} "{name}" not found',
                    {"name": name, "group": res.group, "kind": res.plural})


def invalid(res: Res, name, causes):
    msg = f'{res.kind}{"." + res.group if res.group else ""} "{name}" is invalid: ' + ", ".join(
        f"{f}: {m}" for _, f, m in causes)
    return ApiError(422, "Invalid", msg, {"name": name, "group": res.group, "kind": res.kind,
                                         "causes": [{"reason": r, "message": m, "field": f} for r, f, m in causes]})


def _strip_for_compare(obj):
    o = copy.deepcopy(obj)
    o.get("metadata", {}).pop("resourceVersion", None)
    return o


def _spec_part(obj):
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Store:
    def __init__(self):
        self.objects: dict[tuple, dict[tuple, dict]] = {r.key: {} for r in BY_KEY.values()}
        self.rv = 0
        self.log: list[tuple] = []  # (rv, type, key, obj, old)
        self.watchers: set[asyncio.Queue] = set()
        self.changed = asyncio.Event()
        self.dirty = False
        self.ip_counter: dict = {}  # node -> last pod IP index handed out (persisted: IPs change on recreate)
        self.deferred_deletes: dict = {}  # (key, ns, name) -> monotonic time when a graceful pod delete completes
        for ns in DEFAULT_NAMESPACES:
            self.create(BY_KEY[("", "namespaces")], None, {"metadata": {"name": ns}}, "test-double")

    # ------------------------------------------------------------ reads
    def get(self, res: Res, ns, name):
        return self.objects[res.key].get((ns or "" if res.namespaced else "", name))

    def list(self, res: Res, ns=None):
        items = self.objects[res.key].values()
        if ns and res.namespaced:
            items = [o for o in items if o["metadata"].get("namespace") == ns]
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def find_uid(self, uid):
        for bucket in self.objects.values():
            for o in bucket.values():
                if o["metadata"]["uid"] == uid:
                    return o
        return None

    # ------------------------------------------------------------ events
    def _emit(self, etype, res, obj, old=None):
        entry = (int(obj["metadata"]["resourceVersion"]), etype, res.key, obj, old)
        self.log.append(entry)
        if len(self.log) > WATCH_LOG_SIZE:
            del self.log[: len(self.log) - WATCH_LOG_SIZE]
        for q in list(self.watchers):
            q.put_nowait(entry)
        self.dirty = True
        self.changed.set()

    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    # ------------------------------------------------------------ writes
    def _check_namespace(self, res, ns, dry_run):
        if not res.namespaced:
            return
        nso = self.get(BY_KEY[("", "namespaces")], None, ns)
        if nso is None:
            raise ApiError(404, "NotFound", f'namespaces "{ns}" not found',
                           {"name": ns, "kind": "namespaces"})
        if nso["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden", f'{res.plural} "..." is forbidden: unable to create new content in '
                           f"namespace {ns} because it is being terminated",
                           {"name": ns, "kind": "namespaces", "causes": [{"reason": "NamespaceTerminating"}]})

    def prepare_new(self, res: Res, ns, obj):
        obj = copy.deepcopy(obj)
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        meta = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = meta
        if res.namespaced:
            if meta.get("namespace") and ns and meta["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the "
                               "namespace sent on the request")
            meta["namespace"] = ns or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        for k in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation", "selfLink",
                  "managedFields", "deletionGracePeriodSeconds"):
            meta.pop(k, None)
        return obj

    def _initial_status(self, res, obj):
        if "status" not in res.subresources or res.plural == "nodes":
            return
        st = {"pods": {"phase": "Pending", "qosClass": "BestEffort"},
              "persistentvolumeclaims": {"phase": "Pending"},
              "persistentvolumes": {"phase": "Pending"},
              "namespaces": {"phase": "Active"},
              "services": {"loadBalancer": {}},
              "statefulsets": {"replicas": 0, "availableReplicas": 0},
              "replicasets": {"replicas": 0}}.get(res.plural, {})
        obj["status"] = copy.deepcopy(st)

    def _alloc_cluster_ip(self, obj):
        spec = obj.get("spec") or {}
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
            if spec.get("clusterIP") == "None":
                spec["clusterIPs"] = ["None"]
            return
        if spec.get("clusterIP"):
            return
        used = {(o.get("spec") or {}).get("clusterIP") for o in self.objects[("", "services")].values()}
        for i in range(1, 65000):
            ip = f"10.96.{i // 250}.{i % 250 + 1}"
            if ip not in used:
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
                return

    def _apply_default_storage_class(self, res, obj):
        if res.plural != "persistentvolumeclaims":
            return
        spec = obj.setdefault("spec", {})
        if "storageClassName" in spec:
            return
        for sc in self.objects[("storage.k8s.io", "storageclasses")].values():
            ann = sc["metadata"].get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                spec["storageClassName"] = sc["metadata"]["name"]
                return

    def create(self, res: Res, ns, obj, manager, dry_run=False, owned=None, keep_status=False):
        obj = self.prepare_new(res, ns, obj)
        meta = obj["metadata"]
        ns = meta.get("namespace")
        self._check_namespace(res, ns, dry_run)
        name = meta.get("name")
        if name and self.get(res, ns, name) is not None:
            raise ApiError(409, "AlreadyExists",
                           f'{res.plural}{"." + res.group if res.group else ""} "{name}" already exists',
                           {"name": name, "group": res.group, "kind": res.plural})
        if not keep_status:
            self._initial_status(res, obj)
        semantics.default_object(res.plural, obj, self)
        self._apply_default_storage_class(res, obj)
        try:
            semantics.validate(res.plural, obj)
        except semantics.Invalid as exc:
            raise invalid(res, name or "", exc.causes) from None
        if res.plural == "services":
            self._alloc_cluster_ip(obj)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        if res.has_spec_generation:
            meta["generation"] = 1
        if owned is None:
            owned = patching.record_update(None, obj, manager)
        meta["managedFields"] = patching.render_managed(owned, res.api_version, now_iso(), {})
        if not meta["managedFields"]:
            meta.pop("managedFields")
        if dry_run:
            return obj
        meta["resourceVersion"] = self._next_rv()
        self.objects[res.key][(ns or "", name)] = obj
        self._emit("ADDED", res, obj)
        return obj

    def update(self, res: Res, ns, name, new, manager, subresource="", dry_run=False, owned=None,
               check_immutable=True, allow_create=False):
        """Replace an object (PUT semantics). `new` is the complete desired object."""
        old = self.get(res, ns, name)
        if old is None:
            if allow_create:
                return self.create(res, ns, new, manager, dry_run=dry_run, owned=owned), True
            raise not_found(res, name)
        new = copy.deepcopy(new)
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        meta = new.setdefault("metadata", {})
        if meta.get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object "
                           f"({meta.get('name')}) does not match the name on the URL ({name})")
        rv = meta.get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.plural}'
                           f'{"." + res.group if res.group else ""} "{name}": the object has been modified; '
                           "please apply your changes to the latest version and try again",
                           {"name": name, "group": res.group, "kind": res.plural})
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace",
                  "name", "generation"):
            if k in old["metadata"]:
                meta[k] = old["metadata"][k]
            else:
                meta.pop(k, None)
        if subresource == "status":
            # only status changes through /status
            keep = copy.deepcopy(old)
            keep["status"] = new.get("status", {})
            new = keep
            meta = new["metadata"]
        elif "status" in res.subresources:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
            semantics.default_object(res.plural, new, self)
        else:
            semantics.default_object(res.plural, new, self)
        if res.plural == "services":
            sp = new.setdefault("spec", {})
            if not sp.get("clusterIP") and (old.get("spec") or {}).get("clusterIP"):
                sp["clusterIP"] = old["spec"]["clusterIP"]
                sp["clusterIPs"] = old["spec"].get("clusterIPs", [sp["clusterIP"]])
        try:
            semantics.validate(res.plural, new)
            if check_immutable and subresource != "status":
                semantics.immutability(res.plural, old, new)
        except semantics.Invalid as exc:
            raise invalid(res, name, exc.causes) from None
        if res.has_spec_generation and _spec_part(old) != _spec_part(new):
            meta["generation"] = old["metadata"].get("generation", 1) + 1
        if owned is None:
            owned = patching.record_update(old, new, manager, subresource)
        meta["managedFields"] = patching.render_managed(owned, res.api_version, now_iso(),
                                                        patching.managers(old))
        if not meta["managedFields"]:
            meta.pop("managedFields")
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old:
            return old, False
        if dry_run:
            return new, False
        # finalizers emptied on an object being deleted -> it goes away
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not (
                (res.key, meta.get("namespace", ""), name) in self.deferred_deletes):
            self._remove(res, old)
            return old, False
        meta["resourceVersion"] = self._next_rv()
        self.objects[res.key][(meta.get("namespace", "") if res.namespaced else "", name)] = new
        self._emit("MODIFIED", res, new, old)
        return new, False

    def _remove(self, res, obj):
        meta = obj["metadata"]
        key = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
        self.objects[res.key].pop(key, None)
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._emit("DELETED", res, gone, obj)
        return gone

    def delete(self, res: Res, ns, name, propagation=None, preconditions=None, grace=None, dry_run=False,
               immediate_pods=False, pod_grace_delay=0.0):
        obj = self.get(res, ns, name)
        if obj is None:
            raise not_found(res, name)
        pre = preconditions or {}
        if pre.get("uid") and pre["uid"] != obj["metadata"]["uid"]:
            raise ApiError(409, "Conflict", f"Precondition failed: UID in precondition: {pre['uid']}, "
                           f"UID in object meta: {obj['metadata']['uid']}", {"name": name, "kind": res.plural})
        if pre.get("resourceVersion") and pre["resourceVersion"] != obj["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "Precondition failed: ResourceVersion in precondition: "
                           f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                           f"{obj['metadata']['resourceVersion']}", {"name": name, "kind": res.plural})
        if propagation not in (None, "Orphan", "Background", "Foreground"):
            raise ApiError(400, "BadRequest", f"propagationPolicy {propagation!r} is not supported")
        if dry_run:
            out = copy.deepcopy(obj)
            return out, False
        uid = obj["metadata"]["uid"]
        if propagation == "Orphan":
            self.orphan_dependents(uid)
        new = copy.deepcopy(obj)
        meta = new["metadata"]
        fins = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and "foregroundDeletion" not in fins:
            fins.append("foregroundDeletion")
        graceful = False
        if res.plural == "pods" and not immediate_pods:
            g = grace if grace is not None else (new.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            graceful = bool(g) and bool((new.get("spec") or {}).get("nodeName"))
            if graceful:
                meta["deletionGracePeriodSeconds"] = int(g)
        if res.plural == "namespaces":
            if meta.get("deletionTimestamp"):
                return obj, False
            meta["deletionTimestamp"] = now_iso()
            meta["deletionGracePeriodSeconds"] = 0
            new.setdefault("status", {})["phase"] = "Terminating"
            meta["resourceVersion"] = self._next_rv()
            self.objects[res.key][("", name)] = new
            self._emit("MODIFIED", res, new, obj)
            return new, False
        if fins or graceful:
            if meta.get("deletionTimestamp") and meta.get("finalizers") == fins:
                return obj, False
            meta["finalizers"] = fins
            if not fins:
                meta.pop("finalizers")
            meta.setdefault("deletionTimestamp", now_iso())
            meta.setdefault("deletionGracePeriodSeconds", 0)
            if res.has_spec_generation:
                meta["generation"] = meta.get("generation", 1) + 1
            meta["resourceVersion"] = self._next_rv()
            self.objects[res.key][(meta.get("namespace", "") if res.namespaced else "", name)] = new
            self._emit("MODIFIED", res, new, obj)
            if graceful:
                loop = asyncio.get_event_loop()
                self.deferred_deletes[(res.key, meta.get("namespace", ""), name)] = loop.time() + pod_grace_delay
            return new, False
        return self._remove(res, obj), True

    def orphan_dependents(self, uid):
        for key, bucket in self.objects.items():
            res = BY_KEY[key]
            for o in list(bucket.values()):
                refs = o["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == uid for r in refs):
                    n = copy.deepcopy(o)
                    n["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    if not n["metadata"]["ownerReferences"]:
                        n["metadata"].pop("ownerReferences")
                    self.update(res, o["metadata"].get("namespace"), o["metadata"]["name"], n,
                                "garbage-collector", check_immutable=False,
                                owned={k: v[0] for k, v in patching.managers(o).items()})

    def force_remove(self, res, obj):
        if self.get(res, obj["metadata"].get("namespace"), obj["metadata"]["name"]) is not None:
            self._remove(res, obj)

    # ------------------------------------------------------------ persistence
    def snapshot(self):
        return {"resourceVersion": self.rv, "ipCounter": self.ip_counter,
                "objects": [o for bucket in self.objects.values() for o in bucket.values()]}

    def save(self, path):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.snapshot(), f)
        os.replace(tmp, path)
        self.dirty = False

    def load(self, path):
        with open(path) as f:
            data = json.load(f)
        from .registry import by_api_version_kind
        for bucket in self.objects.values():
            bucket.clear()
        for o in data["objects"]:
            res = by_api_version_kind(o["apiVersion"], o["kind"])
            if res:
                m = o["metadata"]
                self.objects[res.key][(m.get("namespace", "") if res.namespaced else "", m["name"])] = o
        self.rv = int(data["resourceVersion"])
        self.ip_counter = dict(data.get("ipCounter") or {})
