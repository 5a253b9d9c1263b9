"""Emulated control loops: garbage collector, namespaces, Deployment/ReplicaSet, StatefulSet,
endpoints, a kubelet (fake: no container runs) and the PV binder. All run in the server's
event loop, one reconcile pass at a time, in a fixed order, so behaviour is deterministic.
"""
from __future__ import annotations

import copy
import hashlib
import json
import zlib

from . import semantics
from .registry import BY_KEY
from .store import ApiError, now_iso

R = {k[1]: v for k, v in BY_KEY.items()}  # plural -> Res
CM = "kube-controller-manager"
KUBELET = "kubelet"
STS_POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX = "apps.kubernetes.io/pod-index"
REV_HASH = "controller-revision-hash"
PVC_PROTECTION = "kubernetes.io/pvc-protection"


def short_hash(obj, n=10):
    h = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()
    # Kubernetes uses rand.SafeEncodeString: no vowels or digits that could spell words
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    v = int(h, 16)
    out = ""
    for _ in range(n):
        v, r = divmod(v, len(alphabet))
        out += alphabet[r]
    return out


def owner_ref(obj, controller=True):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": controller, "blockOwnerDeletion": True}


def controller_of(obj):
    for r in obj["metadata"].get("ownerReferences") or []:
        if r.get("controller"):
            return r
    return None


def pod_ready(pod):
    if pod is None or pod["metadata"].get("deletionTimestamp"):
        return False
    st = pod.get("status") or {}
    return st.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])


def parse_quantity(q):
    q = str(q)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
             "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "m": 1e-3}
    for u in sorted(units, key=len, reverse=True):
        if q.endswith(u):
            return float(q[: -len(u)]) * units[u]
    return float(q)


def _resolve_percent(v, total, round_up):
    if isinstance(v, str) and v.endswith("%"):
        x = total * int(v[:-1]) / 100
        return int(-(-x // 1)) if round_up else int(x)
    return int(v or 0)


class Controllers:
    def __init__(self, double):
        self.d = double
        self.store = double.store
        self.cfg = double.cfg
        self.pod_timers = {}  # pod uid -> loop time when it was scheduled
        self.event_seq = 0

    @property
    def now(self):
        return self.d.loop_time()

    # ------------------------------------------------------------ write helpers
    def put(self, res, obj, manager=CM, status=False):
        meta = obj["metadata"]
        old = self.store.get(res, meta.get("namespace"), meta["name"])
        if old is None:
            return None
        out, _ = self.store.update(res, meta.get("namespace"), meta["name"], obj, manager,
                                   subresource="status" if status else "", check_immutable=False)
        return out

    def set_status(self, res, obj, status, manager=CM):
        if obj.get("status") == status:
            return obj
        new = copy.deepcopy(obj)
        new["status"] = status
        new["metadata"].pop("resourceVersion", None)
        return self.put(res, new, manager, status=True) or obj

    def create(self, res, ns, obj, manager=CM):
        try:
            return self.store.create(res, ns, obj, manager, keep_status=False)
        except ApiError as exc:
            if exc.code != 409:
                self.d.log(f"controller create {res.plural} {ns}/{obj['metadata'].get('name')} failed: "
                           f"{exc.message}")
            return None

    def delete(self, res, obj, propagation=None, immediate=False):
        m = obj["metadata"]
        try:
            self.store.delete(res, m.get("namespace"), m["name"], propagation=propagation,
                              immediate_pods=immediate, pod_grace_delay=self.cfg.pod_termination_delay)
        except ApiError:
            pass

    def event(self, obj, reason, message, etype="Normal", component=CM):
        ns = obj["metadata"].get("namespace") or "default"
        evres = R["events"]
        inv = {"kind": obj["kind"], "namespace": obj["metadata"].get("namespace", ""),
               "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
               "apiVersion": obj["apiVersion"], "resourceVersion": obj["metadata"].get("resourceVersion", "")}
        if not inv["namespace"]:
            inv.pop("namespace")
        for ev in self.store.list(evres, ns):
            i = ev.get("involvedObject") or {}
            if i.get("uid") == inv["uid"] and ev.get("reason") == reason and ev.get("message") == message:
                new = copy.deepcopy(ev)
                new["count"] = ev.get("count", 1) + 1
                new["lastTimestamp"] = now_iso()
                self.put(evres, new, component)
                return
        self.event_seq += 1
        ts = now_iso()
        self.create(evres, ns, {
            "metadata": {"name": f"{obj['metadata']['name']}.{self.event_seq:016x}"},
            "involvedObject": inv, "reason": reason, "message": message, "type": etype,
            "source": {"component": component}, "reportingComponent": component,
            "reportingInstance": "", "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
            "eventTime": None}, component)

    def has_event(self, obj, reason):
        for ev in self.store.list(R["events"], obj["metadata"].get("namespace") or "default"):
            if (ev.get("involvedObject") or {}).get("uid") == obj["metadata"]["uid"] and ev.get("reason") == reason:
                return True
        return False

    # ------------------------------------------------------------ main pass
    def reconcile(self):
        for step in (self.gc, self.namespaces, self.deployments, self.replicasets, self.statefulsets,
                     self.pvc_protection, self.kubelet, self.endpoints):
            try:
                step()
            except Exception as exc:
                self.d.log(f"controller {step.__name__} failed: {exc!r}")
                if self.d.cfg.raise_controller_errors:
                    raise

    # ------------------------------------------------------------ GC
    def gc(self):
        # graceful pod deletions whose grace period elapsed
        for (key, ns, name), when in list(self.store.deferred_deletes.items()):
            if self.now >= when:
                self.store.deferred_deletes.pop((key, ns, name), None)
                pod = self.store.get(BY_KEY[key], ns, name)
                if pod is not None and pod["metadata"].get("deletionTimestamp"):
                    if pod["metadata"].get("finalizers"):
                        continue
                    self.store.force_remove(BY_KEY[key], pod)
        # pods left Terminating without a timer (e.g. restored from the state dir) get one
        for pod in self.store.list(R["pods"]):
            m = pod["metadata"]
            k = (R["pods"].key, m["namespace"], m["name"])
            if m.get("deletionTimestamp") and not m.get("finalizers") and k not in self.store.deferred_deletes:
                self.store.deferred_deletes[k] = self.now + self.cfg.pod_termination_delay
        uids = {}
        for key, bucket in self.store.objects.items():
            for o in bucket.values():
                uids[o["metadata"]["uid"]] = (key, o)
        dependents = {}
        for key, bucket in self.store.objects.items():
            for o in list(bucket.values()):
                for ref in o["metadata"].get("ownerReferences") or []:
                    dependents.setdefault(ref.get("uid"), []).append((key, o))
        for key, bucket in list(self.store.objects.items()):
            for o in list(bucket.values()):
                refs = o["metadata"].get("ownerReferences") or []
                if not refs:
                    continue
                owners = [uids.get(r.get("uid")) for r in refs]
                live = [x for x in owners if x is not None]
                if not live:
                    if not o["metadata"].get("deletionTimestamp"):
                        self.delete(BY_KEY[key], o, "Background")
                    continue
                fg = [x for x in live if "foregroundDeletion" in (x[1]["metadata"].get("finalizers") or [])
                      and x[1]["metadata"].get("deletionTimestamp")]
                if fg and len(fg) == len(live) and not o["metadata"].get("deletionTimestamp"):
                    self.delete(BY_KEY[key], o, "Foreground")
        for key, bucket in list(self.store.objects.items()):
            for o in list(bucket.values()):
                m = o["metadata"]
                if m.get("deletionTimestamp") and "foregroundDeletion" in (m.get("finalizers") or []):
                    still = [d for d in dependents.get(m["uid"], [])
                             if self.store.get(BY_KEY[d[0]], d[1]["metadata"].get("namespace"),
                                               d[1]["metadata"]["name"]) is not None]
                    if not still:
                        new = copy.deepcopy(o)
                        new["metadata"]["finalizers"] = [f for f in m["finalizers"] if f != "foregroundDeletion"]
                        self.put(BY_KEY[key], new, "garbage-collector")

    def namespaces(self):
        nsres = R["namespaces"]
        for ns in self.store.list(nsres):
            if not ns["metadata"].get("deletionTimestamp"):
                continue
            name = ns["metadata"]["name"]
            left = 0
            for key, bucket in self.store.objects.items():
                res = BY_KEY[key]
                if not res.namespaced:
                    continue
                for o in list(bucket.values()):
                    if o["metadata"].get("namespace") != name:
                        continue
                    left += 1
                    if not o["metadata"].get("deletionTimestamp"):
                        self.delete(res, o, "Background", immediate=True)
                    elif res.plural == "pods" and not o["metadata"].get("finalizers"):
                        self.store.force_remove(res, o)
            if left == 0:
                self.store.force_remove(nsres, ns)

    # ------------------------------------------------------------ Deployment / ReplicaSet
    def _owned(self, plural, owner):
        uid = owner["metadata"]["uid"]
        return [o for o in self.store.list(R[plural], owner["metadata"]["namespace"])
                if (controller_of(o) or {}).get("uid") == uid]

    def deployments(self):
        for dep in self.store.list(R["deployments"]):
            if dep["metadata"].get("deletionTimestamp"):
                continue
            spec = dep["spec"]
            ns = dep["metadata"]["namespace"]
            tpl = copy.deepcopy(spec["template"])
            phash = short_hash(tpl, 10)
            rs_name = f"{dep['metadata']['name']}-{phash}"
            rss = self._owned("replicasets", dep)
            new_rs = next((r for r in rss if r["metadata"]["name"] == rs_name), None)
            desired = spec.get("replicas", 1)
            if new_rs is None:
                tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = phash
                sel = copy.deepcopy(spec["selector"])
                sel.setdefault("matchLabels", {})["pod-template-hash"] = phash
                new_rs = self.create(R["replicasets"], ns, {
                    "metadata": {"name": rs_name, "labels": dict(tpl["metadata"]["labels"]),
                                 "annotations": {"deployment.kubernetes.io/revision": str(len(rss) + 1)},
                                 "ownerReferences": [owner_ref(dep)]},
                    "spec": {"replicas": desired, "selector": sel, "template": tpl,
                             "minReadySeconds": spec.get("minReadySeconds", 0)}})
                if new_rs is None:
                    continue
                self.event(dep, "ScalingReplicaSet", f"Scaled up replica set {rs_name} from 0 to {desired}",
                           component="deployment-controller")
            elif new_rs["spec"].get("replicas") != desired:
                n = copy.deepcopy(new_rs)
                n["spec"]["replicas"] = desired
                self.put(R["replicasets"], n)
            for r in rss:  # simplified rollout: old ReplicaSets go to 0 at once
                if r["metadata"]["name"] != rs_name and r["spec"].get("replicas", 0) != 0:
                    n = copy.deepcopy(r)
                    n["spec"]["replicas"] = 0
                    self.put(R["replicasets"], n)
                    self.event(dep, "ScalingReplicaSet", f"Scaled down replica set {r['metadata']['name']} "
                               f"from {r['spec'].get('replicas')} to 0", component="deployment-controller")
            rss = self._owned("replicasets", dep)
            total = sum((r.get("status") or {}).get("replicas", 0) for r in rss)
            ready = sum((r.get("status") or {}).get("readyReplicas", 0) for r in rss)
            avail = sum((r.get("status") or {}).get("availableReplicas", 0) for r in rss)
            nst = (next((r for r in rss if r["metadata"]["name"] == rs_name), new_rs).get("status") or {})
            updated = nst.get("replicas", 0)
            strat = spec.get("strategy") or {}
            max_unavail = 0
            if strat.get("type") == "RollingUpdate":
                ru = strat.get("rollingUpdate") or {}
                max_unavail = _resolve_percent(ru.get("maxUnavailable", "25%"), desired, False)
            old = dep.get("status") or {}
            old_conds = {c["type"]: c for c in old.get("conditions") or []}
            ts = now_iso()

            def cond(ctype, status, reason, message, ts=ts, old_conds=old_conds):
                prev = old_conds.get(ctype)
                c = {"type": ctype, "status": status, "reason": reason, "message": message,
                     "lastUpdateTime": ts, "lastTransitionTime": ts}
                if prev and prev.get("status") == status:
                    c["lastTransitionTime"] = prev.get("lastTransitionTime", ts)
                    if prev.get("reason") == reason and prev.get("message") == message:
                        c["lastUpdateTime"] = prev.get("lastUpdateTime", ts)
                return c
            is_avail = avail >= desired - max_unavail
            conds = [cond("Available", "True" if is_avail else "False",
                          "MinimumReplicasAvailable" if is_avail else "MinimumReplicasUnavailable",
                          "Deployment has minimum availability." if is_avail
                          else "Deployment does not have minimum availability.")]
            done = updated == desired and nst.get("availableReplicas", 0) == desired and total == desired
            conds.append(cond("Progressing", "True", "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                              f'ReplicaSet "{rs_name}" has successfully progressed.' if done
                              else f'ReplicaSet "{rs_name}" is progressing.'))
            status = {"observedGeneration": dep["metadata"].get("generation", 1), "replicas": total,
                      "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": avail,
                      "conditions": conds}
            if total - avail > 0:
                status["unavailableReplicas"] = total - avail
            for k in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
                if not status[k]:
                    status.pop(k)
            self.set_status(R["deployments"], dep, status)

    def _pod_from_template(self, tpl, name, owner, extra_labels):
        t = copy.deepcopy(tpl)
        meta = t.get("metadata") or {}
        meta.pop("creationTimestamp", None)
        labels = dict(meta.get("labels") or {})
        labels.update(extra_labels)
        return {"metadata": {"name": name, "labels": labels, "annotations": meta.get("annotations") or {},
                             "ownerReferences": [owner_ref(owner)]},
                "spec": t.get("spec") or {}}

    def replicasets(self):
        for rs in self.store.list(R["replicasets"]):
            if rs["metadata"].get("deletionTimestamp"):
                continue
            ns = rs["metadata"]["namespace"]
            pods = [p for p in self._owned("pods", rs) if not p["metadata"].get("deletionTimestamp")]
            want = rs["spec"].get("replicas", 1)
            if len(pods) < want:
                for i in range(want - len(pods)):
                    seed = f"{rs['metadata']['uid']}-{self.event_seq}-{len(pods) + i}-{self.now}"
                    name = f"{rs['metadata']['name']}-{short_hash(seed, 5)}"
                    if self.create(R["pods"], ns, self._pod_from_template(rs["spec"]["template"], name, rs, {})):
                        self.event(rs, "SuccessfulCreate", f"Created pod: {name}", component="replicaset-controller")
            elif len(pods) > want:
                for p in sorted(pods, key=lambda p: (pod_ready(p), p["metadata"]["name"]))[: len(pods) - want]:
                    self.delete(R["pods"], p)
                    self.event(rs, "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}",
                               component="replicaset-controller")
            pods = [p for p in self._owned("pods", rs) if not p["metadata"].get("deletionTimestamp")]
            ready = sum(1 for p in pods if pod_ready(p))
            status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
                      "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
            for k in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
                if not status[k]:
                    status.pop(k)
            self.set_status(R["replicasets"], rs, status)

    # ------------------------------------------------------------ StatefulSet
    def _revision(self, sts):
        """Ensure a ControllerRevision for the current template; return (name, hash)."""
        tpl = sts["spec"]["template"]
        h = short_hash(tpl, 10)
        name = f"{sts['metadata']['name']}-{h}"
        ns = sts["metadata"]["namespace"]
        revs = self._owned("controllerrevisions", sts)
        existing = next((r for r in revs if r["metadata"]["name"] == name), None)
        if existing is None:
            orphan = self.store.get(R["controllerrevisions"], ns, name)
            if orphan is not None and controller_of(orphan) is None:  # adopt (after an Orphan delete)
                n = copy.deepcopy(orphan)
                n["metadata"]["ownerReferences"] = (orphan["metadata"].get("ownerReferences") or []) + [
                    owner_ref(sts)]
                self.put(R["controllerrevisions"], n)
                return name, h
        if existing is None:
            number = max([r.get("revision", 0) for r in revs] + [0]) + 1
            labels = dict((sts["spec"].get("selector") or {}).get("matchLabels") or {})
            labels[REV_HASH] = h
            self.create(R["controllerrevisions"], ns, {
                "metadata": {"name": name, "labels": labels, "ownerReferences": [owner_ref(sts)]},
                "data": {"spec": {"template": dict(copy.deepcopy(tpl), **{"$patch": "replace"})}},
                "revision": number})
        elif existing.get("revision") != max(r.get("revision", 0) for r in revs):
            # rolling back to an older template: it becomes the newest revision again
            n = copy.deepcopy(existing)
            n["revision"] = max(r.get("revision", 0) for r in revs) + 1
            self.put(R["controllerrevisions"], n)
        return name, h

    def _revision_template(self, sts, rev_name):
        r = self.store.get(R["controllerrevisions"], sts["metadata"]["namespace"], rev_name)
        if r is None:
            return sts["spec"]["template"]
        tpl = copy.deepcopy(r["data"]["spec"]["template"])
        tpl.pop("$patch", None)
        return tpl

    def _sts_pvc_refs(self, sts, pod, condemned):
        pol = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        refs = []
        if pol.get("whenDeleted") == "Delete":
            r = owner_ref(sts, controller=False)
            refs.append(r)
        if condemned and pol.get("whenScaled") == "Delete" and pod is not None:
            refs.append(owner_ref(pod, controller=False))
        return refs

    def _ensure_pvcs(self, sts, ordinal, pod=None, condemned=False):
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        sel_labels = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
        for t in sts["spec"].get("volumeClaimTemplates") or []:
            tname = t["metadata"]["name"]
            pvc_name = f"{tname}-{name}-{ordinal}"
            refs = self._sts_pvc_refs(sts, pod, condemned)
            cur = self.store.get(R["persistentvolumeclaims"], ns, pvc_name)
            if cur is None:
                if condemned:
                    continue
                labels = dict((t.get("metadata") or {}).get("labels") or {})
                labels.update(sel_labels)
                spec = copy.deepcopy(t.get("spec") or {})
                meta = {"name": pvc_name, "labels": labels}
                if (t.get("metadata") or {}).get("annotations"):
                    meta["annotations"] = dict(t["metadata"]["annotations"])
                if refs:
                    meta["ownerReferences"] = refs
                if self.create(R["persistentvolumeclaims"], ns, {"metadata": meta, "spec": spec},
                               "kube-controller-manager"):
                    self.event(sts, "SuccessfulCreate", f"create Claim {pvc_name} Pod {name}-{ordinal} in "
                               f"StatefulSet {name} success", component="statefulset-controller")
            else:
                mine = {sts["metadata"]["uid"]} | ({pod["metadata"]["uid"]} if pod else set())
                others = [r for r in cur["metadata"].get("ownerReferences") or []
                          if r.get("uid") not in mine and r.get("kind") not in ("StatefulSet", "Pod")]
                want = others + refs
                if (cur["metadata"].get("ownerReferences") or []) != want and not cur["metadata"].get(
                        "deletionTimestamp"):
                    n = copy.deepcopy(cur)
                    if want:
                        n["metadata"]["ownerReferences"] = want
                    else:
                        n["metadata"].pop("ownerReferences", None)
                    self.put(R["persistentvolumeclaims"], n)

    def _new_sts_pod(self, sts, ordinal, rev_name, rev_hash):
        name = f"{sts['metadata']['name']}-{ordinal}"
        tpl = self._revision_template(sts, rev_name)
        pod = self._pod_from_template(tpl, name, sts, {REV_HASH: rev_name, STS_POD_NAME: name,
                                                       POD_INDEX: str(ordinal)})
        spec = pod["spec"]
        spec["hostname"] = name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        vols = [v for v in spec.get("volumes") or []]
        for t in sts["spec"].get("volumeClaimTemplates") or []:
            tname = t["metadata"]["name"]
            vols = [v for v in vols if v.get("name") != tname]
            vols.append({"name": tname, "persistentVolumeClaim": {
                "claimName": f"{tname}-{sts['metadata']['name']}-{ordinal}"}})
        if vols:
            spec["volumes"] = vols
        return pod

    def statefulsets(self):
        for sts in self.store.list(R["statefulsets"]):
            if sts["metadata"].get("deletionTimestamp"):
                continue
            self._reconcile_sts(sts)

    def _reconcile_sts(self, sts):
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        spec = sts["spec"]
        update_rev, update_hash = self._revision(sts)
        status = sts.get("status") or {}
        current_rev = status.get("currentRevision") or update_rev
        replicas = spec.get("replicas", 1)
        start = ((spec.get("ordinals") or {}).get("start")) or 0
        parallel = spec.get("podManagementPolicy") == "Parallel"
        strategy = spec.get("updateStrategy") or {}
        partition = ((strategy.get("rollingUpdate") or {}).get("partition")) or 0
        # adopt orphans that match the selector and look like members
        for p in self.store.list(R["pods"], ns):
            if controller_of(p) is None and not p["metadata"].get("deletionTimestamp") and \
                    semantics.selector_object_matches(spec.get("selector"), p["metadata"].get("labels")):
                suffix = p["metadata"]["name"][len(name) + 1:]
                if p["metadata"]["name"].startswith(name + "-") and suffix.isdigit():
                    n = copy.deepcopy(p)
                    n["metadata"]["ownerReferences"] = (p["metadata"].get("ownerReferences") or []) + [
                        owner_ref(sts)]
                    self.put(R["pods"], n)
        pods = {}
        for p in self._owned("pods", sts):
            suffix = p["metadata"]["name"][len(name) + 1:]
            if p["metadata"]["name"].startswith(name + "-") and suffix.isdigit():
                pods[int(suffix)] = p
        wanted = list(range(start, start + replicas))
        condemned = sorted([o for o in pods if o not in wanted], reverse=True)

        def rev_of(p):
            return p["metadata"].get("labels", {}).get(REV_HASH)

        # PVC ownership for condemned ordinals (whenScaled)
        for o in condemned:
            self._ensure_pvcs(sts, o, pods[o], condemned=True)
        blocked = False
        for o in wanted:
            p = pods.get(o)
            if p is not None and (p.get("status") or {}).get("phase") in ("Failed", "Succeeded") and \
                    not p["metadata"].get("deletionTimestamp"):
                self.delete(R["pods"], p, immediate=True)
                self.event(sts, "SuccessfulDelete", f"delete Pod {p['metadata']['name']} in StatefulSet {name} "
                           "successful (recreating a failed pod)", component="statefulset-controller")
                p = None
                pods.pop(o, None)
            if p is None:
                self._ensure_pvcs(sts, o)
                rev = update_rev if (o >= partition + start or strategy.get("type") == "OnDelete") else current_rev
                if strategy.get("type") == "OnDelete":
                    rev = update_rev
                new = self._new_sts_pod(sts, o, rev, update_hash)
                if self.create(R["pods"], ns, new, "kube-controller-manager"):
                    self.event(sts, "SuccessfulCreate", f"create Pod {name}-{o} in StatefulSet {name} successful",
                               component="statefulset-controller")
                if not parallel:
                    blocked = True
                    break
                continue
            self._ensure_pvcs(sts, o, p)
            if not parallel and not pod_ready(p):
                blocked = True
                break
        pods = {}
        for p in self._owned("pods", sts):
            suffix = p["metadata"]["name"][len(name) + 1:]
            if p["metadata"]["name"].startswith(name + "-") and suffix.isdigit():
                pods[int(suffix)] = p
        # scale down: highest ordinal first; OrderedReady waits for every pod to be ready and gone
        if condemned and not blocked:
            all_ready = all(pod_ready(pods.get(o)) for o in wanted)
            for o in condemned:
                p = pods.get(o)
                if p is None:
                    continue
                if p["metadata"].get("deletionTimestamp"):
                    if not parallel:
                        break
                    continue
                if not parallel and not all_ready:
                    break
                self.delete(R["pods"], p)
                self.event(sts, "SuccessfulDelete", f"delete Pod {p['metadata']['name']} in StatefulSet {name} "
                           "successful", component="statefulset-controller")
                if not parallel:
                    break
            blocked = True
        # rolling update: from the highest ordinal down to the partition, one pod at a time
        if not blocked and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            all_ready = all(pod_ready(pods.get(o)) for o in wanted)
            if all_ready:
                for o in sorted(wanted, reverse=True):
                    if o < start + partition:
                        break
                    p = pods[o]
                    if rev_of(p) != update_rev:
                        self.delete(R["pods"], p)
                        self.event(sts, "SuccessfulDelete", f"delete Pod {p['metadata']['name']} in "
                                   f"StatefulSet {name} successful (rolling update to revision {update_rev})",
                                   component="statefulset-controller")
                        break
        # status
        live = [p for p in pods.values() if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in live if pod_ready(p))
        updated = sum(1 for p in live if rev_of(p) == update_rev)
        cur_count = sum(1 for p in live if rev_of(p) == current_rev)
        if updated == replicas and len(live) == replicas and all(rev_of(p) == update_rev for p in live):
            current_rev, cur_count = update_rev, updated
        new_status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(live),
                      "readyReplicas": ready, "currentReplicas": cur_count, "updatedReplicas": updated,
                      "availableReplicas": ready, "currentRevision": current_rev, "updateRevision": update_rev,
                      "collisionCount": 0}
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not new_status[k]:
                new_status.pop(k)
        self.set_status(R["statefulsets"], sts, new_status)
        # revision history
        revs = sorted(self._owned("controllerrevisions", sts), key=lambda r: r.get("revision", 0))
        in_use = {current_rev, update_rev} | {rev_of(p) for p in pods.values()}
        stale = [r for r in revs if r["metadata"]["name"] not in in_use]
        limit = spec.get("revisionHistoryLimit", 10)
        for r in stale[: max(0, len(stale) - limit)]:
            self.delete(R["controllerrevisions"], r)

    # ------------------------------------------------------------ PVC protection
    def pvc_protection(self):
        res = R["persistentvolumeclaims"]
        for pvc in self.store.list(res):
            m = pvc["metadata"]
            fins = m.get("finalizers") or []
            if not m.get("deletionTimestamp"):
                if PVC_PROTECTION not in fins:
                    n = copy.deepcopy(pvc)
                    n["metadata"]["finalizers"] = fins + [PVC_PROTECTION]
                    self.put(res, n)
                continue
            if PVC_PROTECTION not in fins:
                continue
            used = any(
                (v.get("persistentVolumeClaim") or {}).get("claimName") == m["name"]
                for p in self.store.list(R["pods"], m["namespace"])
                for v in (p.get("spec") or {}).get("volumes") or [])
            if not used:
                n = copy.deepcopy(pvc)
                n["metadata"]["finalizers"] = [f for f in fins if f != PVC_PROTECTION]
                self.put(res, n)

    # ------------------------------------------------------------ kubelet (fake)
    def _bad_image(self, image):
        return any(marker in image for marker in self.cfg.bad_image_markers)

    def _node_for(self, pod):
        nodes = self.cfg.nodes
        return nodes[zlib.crc32(pod["metadata"]["name"].encode()) % len(nodes)]

    def _alloc_ip(self, node):
        idx = self.cfg.nodes.index(node) if node in self.cfg.nodes else 0
        used = {(p.get("status") or {}).get("podIP") for p in self.store.list(R["pods"])}
        ip = None
        for _ in range(254):
            n = self.store.ip_counter.get(node, 1) + 1
            self.store.ip_counter[node] = n
            ip = f"10.244.{idx + 1}.{(n - 2) % 253 + 2}"
            if ip not in used:
                break
        return ip, f"172.31.0.{idx + 10}"

    def kubelet(self):
        res = R["pods"]
        for pod in self.store.list(res):
            m = pod["metadata"]
            if m.get("deletionTimestamp"):
                continue
            spec, st = pod.get("spec") or {}, pod.get("status") or {}
            if not spec.get("nodeName"):
                self._schedule(pod)
                continue
            if self.cfg.check_nfs_mounts:
                problem = self._nfs_mount_state(pod)
                if problem == "pending":
                    continue
                if problem:
                    continue
            started = self.pod_timers.setdefault(m["uid"], self.now)
            if self.now - started < self.cfg.pod_ready_delay:
                continue
            images = {c["name"]: c["image"] for c in spec.get("containers") or []}
            bad = [n for n, i in images.items() if self._bad_image(i)]
            if bad:
                self._image_failure(pod, bad)
                continue
            crash = [n for n, i in images.items() if any(mk in i for mk in self.cfg.crash_image_markers)]
            if crash:
                self._crash_loop(pod, crash)
                continue
            if st.get("phase") == "Running" and all(
                    cs.get("image") == images.get(cs["name"]) for cs in st.get("containerStatuses") or []):
                continue
            self._run(pod)

    # NFS volumes (direct or through a bound PV) are checked for real: the kubelet "mounts" them with
    # an NFSv3 MOUNT call from this host; a failure keeps the pod ContainerCreating with FailedMount.
    def _nfs_sources(self, pod):
        out = []
        ns = pod["metadata"]["namespace"]
        for v in (pod.get("spec") or {}).get("volumes") or []:
            if isinstance(v.get("nfs"), dict):
                out.append((v["name"], v["nfs"].get("server"), v["nfs"].get("path")))
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                pvc = self.store.get(R["persistentvolumeclaims"], ns, claim)
                pvname = ((pvc or {}).get("spec") or {}).get("volumeName")
                pv = self.store.get(R["persistentvolumes"], None, pvname) if pvname else None
                nfs = ((pv or {}).get("spec") or {}).get("nfs")
                if nfs:
                    out.append((pvname, nfs.get("server"), nfs.get("path")))
        return out

    def _nfs_mount_state(self, pod):
        cache = self.d.nfs_mounts
        for vol, server, path in self._nfs_sources(pod):
            key = (server, path)
            entry = cache.get(key)
            stale = entry is None or (entry[0] == "err" and self.now - entry[2] > self.cfg.provision_retry) or \
                (entry[0] == "ok" and self.now - entry[2] > 60)
            if stale and key not in self.d.nfs_mount_inflight:
                self.d.nfs_mount_inflight.add(key)
                self.d.spawn(self.d.check_nfs_mount(server, path))
            if entry is None:
                return "pending"
            if entry[0] == "err":
                rep = (pod["metadata"]["uid"], key)
                if self.d.nfs_mount_reported.get(rep) != entry[2]:
                    self.d.nfs_mount_reported[rep] = entry[2]
                    self.event(pod, "FailedMount", f'MountVolume.SetUp failed for volume "{vol}" : mount failed: '
                               f"{entry[1]} (test double: checked with an NFSv3 MOUNT of {server}:{path})",
                               "Warning", component=KUBELET)
                return entry[1]
        return None

    def _schedule(self, pod):
        ns = pod["metadata"]["namespace"]
        problems = []
        for v in (pod.get("spec") or {}).get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = self.store.get(R["persistentvolumeclaims"], ns, claim)
            if pvc is None:
                problems.append(f'persistentvolumeclaim "{claim}" not found')
            elif pvc["metadata"].get("deletionTimestamp"):
                problems.append(f'persistentvolumeclaim "{claim}" is being deleted')
            elif (pvc.get("status") or {}).get("phase") != "Bound":
                problems.append("pod has unbound immediate PersistentVolumeClaims")
        n = len(self.cfg.nodes)
        if problems:
            msg = (f"0/{n} nodes are available: {problems[0]}. preemption: 0/{n} nodes are available: "
                   f"{n} Preemption is not helpful for scheduling.")
            cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg,
                    "lastProbeTime": None}
            old = next((c for c in (pod.get("status") or {}).get("conditions") or []
                        if c["type"] == "PodScheduled"), None)
            if old and old.get("message") == msg:
                return
            cond["lastTransitionTime"] = now_iso()
            st = copy.deepcopy(pod.get("status") or {})
            st["phase"] = "Pending"
            st["conditions"] = [cond]
            self.set_status(R["pods"], pod, st, "default-scheduler")
            self.event(pod, "FailedScheduling", msg, "Warning", component="default-scheduler")
            return
        node = self._node_for(pod)
        new = copy.deepcopy(pod)
        new["spec"]["nodeName"] = node
        new = self.put(R["pods"], new, "default-scheduler")
        if new is None:
            return
        ts = now_iso()
        st = copy.deepcopy(new.get("status") or {})
        st.update({"phase": "Pending", "startTime": ts, "conditions": [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts}],
            "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "", "ready": False,
                                   "started": False, "restartCount": 0,
                                   "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
                                  for c in new["spec"].get("containers") or []]})
        self.set_status(R["pods"], new, st, KUBELET)
        self.pod_timers[new["metadata"]["uid"]] = self.now
        self.event(new, "Scheduled", f"Successfully assigned {new['metadata']['namespace']}/"
                   f"{new['metadata']['name']} to {node}", component="default-scheduler")

    def _image_failure(self, pod, bad):
        st = copy.deepcopy(pod.get("status") or {})
        images = {c["name"]: c["image"] for c in pod["spec"].get("containers") or []}
        already = all(((cs.get("state") or {}).get("waiting") or {}).get("reason") == "ImagePullBackOff"
                      for cs in st.get("containerStatuses") or [] if cs["name"] in bad) and st.get("containerStatuses")
        if already:
            return
        for name in bad:
            img = images[name]
            self.event(pod, "Pulling", f'Pulling image "{img}"', component=KUBELET)
            self.event(pod, "Failed", f'Failed to pull image "{img}": rpc error: code = NotFound desc = failed to '
                       f'pull and unpack image "{img}": not found (stateful.nfs test double: image name contains '
                       f"a fault marker {list(self.cfg.bad_image_markers)})", "Warning", component=KUBELET)
            self.event(pod, "Failed", "Error: ErrImagePull", "Warning", component=KUBELET)
            self.event(pod, "BackOff", f'Back-off pulling image "{img}"', "Normal", component=KUBELET)
            self.event(pod, "Failed", "Error: ImagePullBackOff", "Warning", component=KUBELET)
        ts = now_iso()
        st["phase"] = "Pending"
        st["containerStatuses"] = [{
            "name": c["name"], "image": c["image"], "imageID": "", "ready": False, "started": False,
            "restartCount": 0, "lastState": {},
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{c["image"]}"'}}
            if c["name"] in bad else {"running": {"startedAt": ts}}} for c in pod["spec"]["containers"]]
        st["conditions"] = [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts},
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastProbeTime": None,
             "lastTransitionTime": ts, "message": f"containers with unready status: [{' '.join(bad)}]"},
            {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "lastProbeTime": None,
             "lastTransitionTime": ts, "message": f"containers with unready status: [{' '.join(bad)}]"}]
        self.set_status(R["pods"], pod, st, KUBELET)

    def _crash_loop(self, pod, crash):
        st = copy.deepcopy(pod.get("status") or {})
        prev = {cs["name"]: cs for cs in st.get("containerStatuses") or []}
        if all(((prev.get(n, {}).get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
               for n in crash):
            return
        ts = now_iso()
        node = pod["spec"]["nodeName"]
        if not st.get("podIP"):
            ip, host_ip = self._alloc_ip(node)
            st.update({"podIP": ip, "podIPs": [{"ip": ip}], "hostIP": host_ip, "hostIPs": [{"ip": host_ip}]})
        for n in crash:
            self.event(pod, "BackOff", f"Back-off restarting failed container {n} in pod {pod['metadata']['name']}"
                       " (test double: image name contains a crash marker)", "Warning", component=KUBELET)
        st["phase"] = "Running"
        st["containerStatuses"] = [{
            "name": c["name"], "image": c["image"], "imageID": f"test-double://{c['image']}", "started": False,
            "ready": c["name"] not in crash, "restartCount": 3 if c["name"] in crash else 0,
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts, "finishedAt": ts}}
            if c["name"] in crash else {},
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": f"back-off 40s restarting failed "
                                  f"container={c['name']} pod={pod['metadata']['name']}"}}
            if c["name"] in crash else {"running": {"startedAt": ts}}} for c in pod["spec"]["containers"]]
        msg = f"containers with unready status: [{' '.join(crash)}]"
        st["conditions"] = [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts},
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "message": msg,
             "lastProbeTime": None, "lastTransitionTime": ts},
            {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady", "message": msg,
             "lastProbeTime": None, "lastTransitionTime": ts}]
        self.set_status(R["pods"], pod, st, KUBELET)

    def _run(self, pod):
        st = copy.deepcopy(pod.get("status") or {})
        ts = now_iso()
        node = pod["spec"]["nodeName"]
        restarting = st.get("phase") == "Running"
        if not st.get("podIP"):
            ip, host_ip = self._alloc_ip(node)
            st.update({"podIP": ip, "podIPs": [{"ip": ip}], "hostIP": host_ip, "hostIPs": [{"ip": host_ip}]})
        prev = {cs["name"]: cs for cs in st.get("containerStatuses") or []}
        for c in pod["spec"].get("containers") or []:
            if not restarting or prev.get(c["name"], {}).get("image") != c["image"]:
                self.event(pod, "Pulled", f'Container image "{c["image"]}" already present on machine '
                           "(test double: nothing is pulled)", component=KUBELET)
                self.event(pod, "Created", f"Created container {c['name']}", component=KUBELET)
                self.event(pod, "Started", f"Started container {c['name']} (test double: no process runs)",
                           component=KUBELET)
        st["phase"] = "Running"
        st["qosClass"] = st.get("qosClass", "BestEffort")
        st["containerStatuses"] = [{
            "name": c["name"], "image": c["image"],
            "imageID": f"test-double://{c['image']}", "containerID": f"test-double://{pod['metadata']['uid'][:12]}-"
            f"{c['name']}", "ready": True, "started": True,
            "restartCount": prev.get(c["name"], {}).get("restartCount", 0) + (
                1 if restarting and prev.get(c["name"], {}).get("image") != c["image"] else 0),
            "state": {"running": {"startedAt": ts}}, "lastState": {}} for c in pod["spec"]["containers"]]
        st["conditions"] = [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": ts}
                            for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                      "PodScheduled")]
        self.set_status(R["pods"], pod, st, KUBELET)

    # ------------------------------------------------------------ endpoints
    def endpoints(self):
        for svc in self.store.list(R["services"]):
            sel = (svc.get("spec") or {}).get("selector")
            if not sel or svc["metadata"].get("deletionTimestamp"):
                continue
            ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
            ready, not_ready = [], []
            for p in self.store.list(R["pods"], ns):
                if not semantics.selector_object_matches({"matchLabels": sel}, p["metadata"].get("labels")):
                    continue
                ip = (p.get("status") or {}).get("podIP")
                if not ip or p["metadata"].get("deletionTimestamp"):
                    continue
                addr = {"ip": ip, "nodeName": p["spec"].get("nodeName"),
                        "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                      "uid": p["metadata"]["uid"]}}
                if p["spec"].get("hostname") and p["spec"].get("subdomain") == name:
                    addr["hostname"] = p["spec"]["hostname"]
                (ready if pod_ready(p) else not_ready).append(addr)
            ports = [{k: v for k, v in {"name": pt.get("name"), "port": pt.get("targetPort")
                      if isinstance(pt.get("targetPort"), int) else pt.get("port"),
                      "protocol": pt.get("protocol", "TCP")}.items() if v is not None}
                     for pt in svc["spec"].get("ports") or []]
            subset = {}
            if ready:
                subset["addresses"] = ready
            if not_ready:
                subset["notReadyAddresses"] = not_ready
            if subset and ports:
                subset["ports"] = ports
            body = {"metadata": {"name": name, "labels": dict(svc["metadata"].get("labels") or {}),
                                 "annotations": {}},
                    "subsets": [subset] if subset else []}
            if svc["spec"].get("clusterIP") == "None":
                body["metadata"]["labels"]["service.kubernetes.io/headless"] = ""
            cur = self.store.get(R["endpoints"], ns, name)
            if cur is None:
                self.create(R["endpoints"], ns, body, "endpoint-controller")
            elif cur.get("subsets") != body["subsets"] or cur["metadata"].get("labels") != body["metadata"]["labels"]:
                n = copy.deepcopy(cur)
                n["subsets"] = body["subsets"]
                n["metadata"]["labels"] = body["metadata"]["labels"]
                self.put(R["endpoints"], n, "endpoint-controller")

