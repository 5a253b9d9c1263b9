# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiters: Deployment available, StatefulSet rolled out (partition-aware).

Each waiter reads the whole state (GET the workload, LIST its pods) and judges it, again and
again until done or ``timeout``. The StatefulSet waiter reads again as soon as a watch on the
StatefulSet or its pods reports a change (:class:`Changes`; resumed on expiry, and a read every
WATCH_RECHECK seconds all the same), so it returns within a fraction of a second of the last pod
becoming Ready; the Deployment waiter polls every ``interval`` seconds. Re-reading the whole
state, not applying events to a cache, keeps both correct across API server restarts and
watch expiry. ``clock``/``sleep`` are injectable so the logic is testable without waiting.

StatefulSet "done" (what ``kubectl rollout status`` does, plus partitions):

* ``status.observedGeneration >= metadata.generation``;
* exactly the pods ``<name>-<start>`` .. ``<name>-<start+replicas-1>`` exist
  (``start`` is ``spec.ordinals.start``), none is terminating, all are Ready;
* RollingUpdate: every pod whose *index* (ordinal - start) is ``>= partition``
  carries ``controller-revision-hash == status.updateRevision``. Pods below the
  partition only have to be Ready: they stay at the current revision by
  design, which is why waiting for ``currentRevision == updateRevision`` never
  returns for a partitioned rollout;
* OnDelete: no revision requirement (pods update when someone deletes them);
* ``minReadySeconds > 0``: ``status.availableReplicas >= replicas`` as well.
"""

from __future__ import annotations

import threading
import time

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import (
    K8sError,
    WaitTimeoutError,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref

REVISION_LABEL = "controller-revision-hash"
EVENTS_PER_OBJECT = 5


def _cond(obj, ctype):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def pod_ready(pod):
    c = _cond(pod, "Ready")
    return bool(c) and c.get("status") == "True" and not pod["metadata"].get("deletionTimestamp")


def selector_string(match_labels):
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))


# The most checks a second of a wait: a waiter woken by watch events checks after each, and a
# stream of events must not turn into a stream of requests (nor a clock that does not move into
# an endless loop).
MAX_CHECKS_PER_SECOND = 10


def _poll(check, timeout, interval, clock, sleep):
    """Call ``check()`` (-> (done, value)) until done or timeout, sleeping ``sleep(seconds)`` between
    (at most ``interval``; a watch-driven sleep returns early on a change). Returns (done, value, elapsed)."""
    start = clock()
    max_polls = int(timeout * MAX_CHECKS_PER_SECOND) + 2
    value = None
    for _poll_number in range(max_polls):
        done, value = check(clock() - start)
        if done:
            return True, value, clock() - start
        remaining = timeout - (clock() - start)
        if remaining <= 0:
            break
        sleep(min(interval, remaining))
    return False, value, clock() - start


# --------------------------------------------------------------------------- diagnostics
def _event_time(ev):
    return (ev.get("lastTimestamp") or ev.get("eventTime") or (ev.get("series") or {}).get("lastObservedTime")
            or ev.get("firstTimestamp") or (ev.get("metadata") or {}).get("creationTimestamp") or "")


def latest_events(client, kind, name, namespace, limit=EVENTS_PER_OBJECT):
    """The newest events about one object, oldest first, as short dicts."""
    try:
        items = client.list("Event", namespace,
                            field_selector=f"involvedObject.kind={kind},involvedObject.name={name}")
    except K8sError:
        return []
    items = [e for e in items if (e.get("involvedObject") or {}).get("name") == name
             and (e.get("involvedObject") or {}).get("kind") in (kind, None)]
    items.sort(key=_event_time)
    return [{"type": e.get("type"), "reason": e.get("reason"), "message": (e.get("message") or "").strip(),
             "count": e.get("count") or 1, "time": _event_time(e)} for e in items[-limit:]]


def pod_diagnostics(client, pod, vct_names=()):
    """Phase, conditions, container states, latest events (and unbound PVCs) of one pod."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    name, ns = meta.get("name"), meta.get("namespace")
    info = {
        "pod": name,
        "phase": status.get("phase"),
        "ready": pod_ready(pod),
        "terminating": bool(meta.get("deletionTimestamp")),
        "revision": (meta.get("labels") or {}).get(REVISION_LABEL),
        "node": (pod.get("spec") or {}).get("nodeName"),
        "conditions": [{k: c.get(k) for k in ("type", "status", "reason", "message") if c.get(k)}
                       for c in status.get("conditions") or []],
        "containers": [],
        "events": latest_events(client, "Pod", name, ns),
        "pvcs": [],
    }
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = cs.get("state") or {}
        for sname in ("waiting", "terminated"):
            if state.get(sname):
                info["containers"].append({"name": cs.get("name"), "state": sname,
                                           "reason": state[sname].get("reason"),
                                           "message": (state[sname].get("message") or "").strip()})
        last = (cs.get("lastState") or {}).get("terminated")
        if last and not cs.get("ready"):
            # why a crashing container ended last time: its exit code and the tail of its log
            info["containers"].append({"name": cs.get("name"), "state": "last terminated",
                                       "reason": "{} exit code {}".format(last.get("reason") or "", last.get("exitCode")).strip(),
                                       "message": (last.get("message") or "").strip()
                                       or previous_log_tail(client, ns, name, cs.get("name"))})
        if not state.get("waiting") and not state.get("terminated") and not cs.get("ready"):
            info["containers"].append({"name": cs.get("name"), "state": "running", "reason": "NotReady",
                                       "message": "readiness probe not passing yet"})
    if info["node"] and not info["ready"]:
        info["node_ready"] = node_ready_condition(client, info["node"])
    for vct in vct_names:
        pvc_name = f"{vct}-{name}"
        try:
            pvc = client.get(Ref("PersistentVolumeClaim", pvc_name, ns))
        except K8sError:
            continue
        phase = ((pvc or {}).get("status") or {}).get("phase") if pvc else "Missing"
        if phase != "Bound":
            info["pvcs"].append({"pvc": pvc_name, "phase": phase,
                                 "events": latest_events(client, "PersistentVolumeClaim", pvc_name, ns)
                                 if pvc else []})
    return info


LOG_TAIL_LINES = 5


def previous_log_tail(client, namespace, pod, container):
    """The last LOG_TAIL_LINES lines its previous run logged (``pods/log?previous=true``), one line; "" when unreadable."""
    try:
        text = client.previous_log(namespace, pod, container, LOG_TAIL_LINES)
    except K8sError:
        return ""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return ("log: " + " | ".join(lines))[:600] if lines else ""


def node_ready_condition(client, node_name):
    """The Ready condition of a node as ``{status, reason, message}``; ``{status: Missing}`` when
    the node does not exist. A pod bound to a node whose kubelet stopped reporting stays Pending
    with no event of its own: the node's condition says why."""
    try:
        node = client.get(Ref("Node", node_name))
    except K8sError:
        return None
    if node is None:
        return {"status": "Missing", "reason": "NodeNotFound", "message": ""}
    cond = _cond(node, "Ready") or {}
    return {"status": cond.get("status", "Unknown"), "reason": cond.get("reason"), "message": cond.get("message")}


def format_pod_diagnostics(info):
    parts = ["phase %s" % (info.get("phase") or "unknown")]
    if info.get("node"):
        node = "on node {}".format(info["node"])
        ready = info.get("node_ready")
        if ready and ready.get("status") != "True":
            node += " (node Ready={}{}{})".format(ready.get("status"), " " + ready["reason"] if ready.get("reason") else "",
                                                  ": " + ready["message"] if ready.get("message") else "")
        parts.append(node)
    if info.get("problem"):
        parts.insert(0, info["problem"])
    if info.get("terminating"):
        parts.append("terminating")
    for c in info.get("conditions") or []:
        if c.get("status") != "True":
            text = "{}={}".format(c.get("type"), c.get("status"))
            if c.get("reason"):
                text += " {}".format(c["reason"])
            if c.get("message"):
                text += ": {}".format(c["message"])
            parts.append(text)
    for cs in info.get("containers") or []:
        text = "container {} {}".format(cs["name"], cs["state"])
        if cs.get("reason"):
            text += " {}".format(cs["reason"])
        if cs.get("message"):
            text += ": {}".format(cs["message"])
        parts.append(text)
    for pvc in info.get("pvcs") or []:
        text = "PVC {} {}".format(pvc["pvc"], pvc["phase"])
        if pvc.get("events"):
            text += " ({})".format("; ".join(_fmt_event(e) for e in pvc["events"][-2:]))
        parts.append(text)
    if info.get("events"):
        parts.append("events: " + "; ".join(_fmt_event(e) for e in info["events"]))
    else:
        parts.append("no events")
    return "{}: {}".format(info["pod"], "; ".join(parts))


def _fmt_event(e):
    count = " (x{})".format(e["count"]) if e.get("count", 1) > 1 else ""
    return "{} {}{}: {}".format(e.get("type") or "Normal", e.get("reason"), count, e.get("message"))


# --------------------------------------------------------------------------- Deployment
def deployment_available(dep):
    """(done, reason) for a Deployment object."""
    if dep is None:
        return False, "does not exist"
    meta, spec, status = dep.get("metadata") or {}, dep.get("spec") or {}, dep.get("status") or {}
    want = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return False, "controller has not observed generation {} yet".format(meta.get("generation"))
    if want == 0:
        return (status.get("replicas") or 0) == 0, "scaled to 0"
    updated, available = status.get("updatedReplicas") or 0, status.get("availableReplicas") or 0
    total = status.get("replicas") or 0
    cond = _cond(dep, "Available")
    if updated < want:
        return False, f"{updated} of {want} replicas updated"
    if total > updated:
        return False, f"{total - updated} old replicas pending termination"
    if available < want:
        return False, f"{available} of {want} replicas available"
    if not cond or cond.get("status") != "True":
        return False, "condition Available is not True"
    return True, f"{available} of {want} replicas available"


def wait_deployment_available(client, ref, timeout=300, interval=2.0, clock=time.monotonic, sleep=time.sleep):
    """Wait until the Deployment ``ref`` is Available. Returns a summary dict; raises WaitTimeoutError."""
    state = {}

    def check(_elapsed):
        dep = client.get(ref)
        state["dep"] = dep
        done, reason = deployment_available(dep)
        state["reason"] = reason
        prog = _cond(dep, "Progressing")
        if not done and prog and prog.get("reason") == "ProgressDeadlineExceeded":
            state["deadline"] = prog.get("message")
            return True, False
        return done, done

    finished, ok, elapsed = _poll(check, timeout, interval, clock, sleep)
    if finished and ok:
        return {"ready": True, "elapsed": round(elapsed, 3), "reason": state.get("reason")}
    dep = state.get("dep")
    pods_info = []
    if dep is not None:
        sel = ((dep.get("spec") or {}).get("selector") or {}).get("matchLabels")
        for pod in client.list("Pod", ref.namespace, label_selector=selector_string(sel)):
            if not pod_ready(pod):
                pods_info.append(pod_diagnostics(client, pod))
    head = ("{}: progress deadline exceeded ({})".format(ref, state["deadline"]) if state.get("deadline")
            else "Timed out after {}s waiting for {} to become Available ({})".format(timeout, ref, state.get("reason")))
    lines = [head]
    if pods_info:
        lines.append("Pods not ready:")
        lines.extend("  - " + format_pod_diagnostics(i) for i in pods_info)
    elif dep is not None:
        events = latest_events(client, "Deployment", ref.name, ref.namespace)
        if events:
            lines.append("Deployment events: " + "; ".join(_fmt_event(e) for e in events))
    raise WaitTimeoutError("\n".join(lines), not_ready=pods_info, elapsed=round(elapsed, 3))


# --------------------------------------------------------------------------- StatefulSet
def pod_ordinal(pod_name, sts_name):
    prefix = sts_name + "-"
    if not pod_name.startswith(prefix):
        return None
    tail = pod_name[len(prefix):]
    return int(tail) if tail.isdigit() else None


def statefulset_progress(sts, pods):
    """Evaluate a rollout. Returns a dict with ``done``, ``reason`` and per-pod ``problems``."""
    if sts is None:
        return {"done": False, "reason": "StatefulSet does not exist", "problems": {}}
    meta, spec, status = sts.get("metadata") or {}, sts.get("spec") or {}, sts.get("status") or {}
    name = meta["name"]
    replicas = spec.get("replicas", 1)
    start = (spec.get("ordinals") or {}).get("start", 0) or 0
    strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
    partition = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0) or 0
    update_rev = status.get("updateRevision")
    expected = [f"{name}-{start + i}" for i in range(replicas)]
    by_name = {}
    uid = meta.get("uid")
    for pod in pods:
        owners = (pod.get("metadata") or {}).get("ownerReferences") or []
        if uid and owners and not any(o.get("uid") == uid for o in owners):
            continue
        if pod_ordinal(pod["metadata"]["name"], name) is None:
            continue
        by_name[pod["metadata"]["name"]] = pod
    result = {"done": False, "replicas": replicas, "start": start, "partition": partition,
              "strategy": strategy, "update_revision": update_rev,
              "current_revision": status.get("currentRevision"), "expected": expected, "problems": {},
              "ready": 0, "updated": 0}
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        result["reason"] = "controller has not observed generation {} yet".format(meta.get("generation"))
        return result
    extra = sorted((n for n in by_name if n not in expected), key=lambda n: pod_ordinal(n, name))
    for index, pname in enumerate(expected):
        pod = by_name.get(pname)
        if pod is None:
            result["problems"][pname] = "not created yet"
            continue
        if pod["metadata"].get("deletionTimestamp"):
            result["problems"][pname] = "terminating"
            continue
        rev = (pod["metadata"].get("labels") or {}).get(REVISION_LABEL)
        needs_update = strategy == "RollingUpdate" and index >= partition and update_rev is not None
        ready = pod_ready(pod)
        result["ready"] += ready
        if needs_update and rev != update_rev:
            result["problems"][pname] = "at revision {}, waiting for update to {} ({})".format(
                rev, update_rev, "Ready" if ready else "not Ready")
            continue
        if rev == update_rev:
            result["updated"] += 1
        if not ready:
            result["problems"][pname] = "not ready"
    for pname in extra:
        result["problems"][pname] = "waiting to be deleted (scale down)"
    mrs = spec.get("minReadySeconds") or 0
    if not result["problems"] and mrs and (status.get("availableReplicas") or 0) < replicas:
        available = status.get("availableReplicas") or 0
        result["reason"] = f"{available} of {replicas} pods available (minReadySeconds={mrs})"
        return result
    if result["problems"]:
        first = min(result["problems"].items(), key=lambda kv: pod_ordinal(kv[0], name))
        note = ""
        if partition:
            note = f" (partition {partition}: ordinals below {start + partition} stay at the current revision)"
        result["reason"] = f"{result['ready']}/{replicas} pods ready{note}; {first[0]} {first[1]}"
        return result
    result["done"] = True
    note = ""
    if strategy == "RollingUpdate" and update_rev:
        note = f" and at revision {update_rev}" if not partition else (
            f" (ordinals >= {start + partition} at {update_rev})")
    result["reason"] = f"{replicas}/{replicas} pods ready{note}"
    return result


def forced_rollback_pods(sts, pods):
    """Pods a rolling update will never replace: the names, in ordinal order.

    With ``podManagementPolicy: OrderedReady`` the StatefulSet controller replaces a pod only
    once it is Ready; a pod that runs a revision other than the update revision (typically a
    broken template that was then reverted or fixed) and is not Ready stays as it is forever.
    Kubernetes docs, StatefulSets, "Forced rollback": delete such pods so that the controller
    recreates them from the current template. Pods below the partition are left out (they keep
    the current revision by design).
    """
    spec, status = (sts or {}).get("spec") or {}, (sts or {}).get("status") or {}
    update = spec.get("updateStrategy") or {}
    update_rev = status.get("updateRevision")
    if ((spec.get("podManagementPolicy") or "OrderedReady") != "OrderedReady"
            or update.get("type", "RollingUpdate") != "RollingUpdate" or not update_rev):
        return []
    name = sts["metadata"]["name"]
    start = (spec.get("ordinals") or {}).get("start", 0) or 0
    partition = (update.get("rollingUpdate") or {}).get("partition", 0) or 0
    stuck = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        ordinal = pod_ordinal(meta.get("name", ""), name)
        revision = (meta.get("labels") or {}).get(REVISION_LABEL)
        if (ordinal is None or ordinal - start < partition or revision in (None, update_rev)
                or meta.get("deletionTimestamp") or pod_ready(pod)):
            continue
        stuck.append((ordinal, meta["name"]))
    return [pname for _ordinal, pname in sorted(stuck)]


class Timeline:
    """Which pod became ready when; one entry per pod incarnation (uid). And which pod was seen
    going when (:meth:`removed`): first seen with a ``deletionTimestamp``, or gone between two
    readings without having been seen so."""

    def __init__(self, sts_name):
        self.sts_name = sts_name
        self.entries = {}
        self.seen = {}  # (name, uid) -> ordinal of every pod incarnation read
        self.removals = {}  # (name, uid) -> when it was first seen going

    def _removal(self, key, ordinal, deleted_at, elapsed):
        self.removals[key] = {"pod": key[0], "ordinal": ordinal, "uid": key[1], "deleted_at": deleted_at,
                              "observed_after_seconds": round(elapsed, 3)}

    def observe(self, pods, elapsed):
        present = set()
        for pod in pods:
            meta = pod.get("metadata") or {}
            ordinal = pod_ordinal(meta.get("name", ""), self.sts_name)
            if ordinal is None:
                continue
            key = (meta.get("name"), meta.get("uid"))
            present.add(key)
            self.seen.setdefault(key, ordinal)
            if meta.get("deletionTimestamp") and key not in self.removals:
                self._removal(key, ordinal, meta["deletionTimestamp"], elapsed)
            if not pod_ready(pod):
                continue
            if key in self.entries:
                continue
            cond = _cond(pod, "Ready") or {}
            self.entries[key] = {
                "pod": meta.get("name"),
                "ordinal": ordinal,
                "uid": meta.get("uid"),
                "revision": (meta.get("labels") or {}).get(REVISION_LABEL),
                "created_at": meta.get("creationTimestamp"),
                "ready_at": cond.get("lastTransitionTime"),
                "observed_after_seconds": round(elapsed, 3),
            }
        for key, ordinal in self.seen.items():
            if key not in present and key not in self.removals:
                self._removal(key, ordinal, None, elapsed)

    def as_list(self):
        return sorted(self.entries.values(),
                      key=lambda e: (e["ready_at"] or "", e["observed_after_seconds"], e["ordinal"]))

    def removed(self):
        """The pod incarnations seen going, in the order they were seen so (one entry each:
        ``pod``, ``ordinal``, ``uid``, ``deleted_at``, the API's ``deletionTimestamp`` or None when
        the pod was gone before it was seen going, ``observed_after_seconds``).

        Pods first seen going in the same reading (a loaded machine, a missed event) are in the
        order their deletion shows: one already gone before one still terminating, then by
        ``deletionTimestamp`` (one-second steps), then highest ordinal first, the order a
        StatefulSet removes pods in; so the list agrees with ``_gone_highest_first`` in day2.py,
        which counts such ties as in order."""
        return sorted(self.removals.values(),
                      key=lambda e: (e["observed_after_seconds"], e["deleted_at"] is not None,
                                     e["deleted_at"] or "", -(e["ordinal"] or 0)))


# Container states that do not heal by waiting: a pod in one of them that also needs a forced
# rollback (see forced_rollback_pods) ends the wait once FORCED_ROLLBACK_GRACE seconds of this
# wait have seen it so, instead of the whole timeout (a CrashLoopBackOff between restarts shows
# as running for a moment: the grace spans a few polls).
STUCK_REASONS = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                 "CreateContainerError", "InvalidImageName")
FORCED_ROLLBACK_GRACE = 20.0


def stuck_reason(pod):
    """Why a container of ``pod`` cannot become ready by waiting, or None: a waiting reason of
    STUCK_REASONS, or a crash loop seen between two restarts.

    Between restarts the kubelet of Kubernetes v1.35 mostly reports the exited container as
    ``terminated`` (measured on the lab: 150 s of a 160 s back-off), and ``waiting:
    CrashLoopBackOff`` only for moments; so a container of a ``restartPolicy: Always`` pod that
    has restarted and is terminated now is in a crash loop too (``CrashLoopBackOff (exit code N,
    M restarts)``). An init container that ended with exit code 0 did its work."""
    status = pod.get("status") or {}
    always = ((pod.get("spec") or {}).get("restartPolicy") or "Always") == "Always"
    for init, statuses in ((True, status.get("initContainerStatuses")), (False, status.get("containerStatuses"))):
        for cs in statuses or []:
            state = cs.get("state") or {}
            reason = (state.get("waiting") or {}).get("reason")
            if reason in STUCK_REASONS:
                return reason
            ended = state.get("terminated")
            if (ended is not None and always and (cs.get("restartCount") or 0) >= 1
                    and not (init and ended.get("exitCode") == 0)):
                return "CrashLoopBackOff (exit code {}, {} restarts)".format(ended.get("exitCode"), cs.get("restartCount"))
    return None


# A watch ends after this many seconds and is resumed from its last resourceVersion; a waiter
# woken by nothing re-reads the state after WATCH_RECHECK seconds all the same.
WATCH_SECONDS = 60
WATCH_RECHECK = 10.0


class Changes:
    """Wakes a waiter when watched objects change, instead of a fixed poll interval.

    One daemon thread per watch (``(kind, label_selector, field_selector)`` in one namespace),
    each resumed from its last resourceVersion when the server ends it, listed anew (no
    resourceVersion) after 410 Gone or an error; :meth:`sleep` returns at the first event, or
    after ``seconds``. The waiter re-reads the whole state on waking, so a missed event costs at
    most WATCH_RECHECK seconds, never a wrong answer. :meth:`stop` ends the threads at their next
    event or watch end (at most WATCH_SECONDS; daemon threads do not keep a module alive).
    """

    def __init__(self, client, namespace, watches):
        self.client, self.namespace = client, namespace
        self.changed = threading.Event()
        self.stopped = False
        self.threads = [threading.Thread(target=self._watch, args=w, daemon=True) for w in watches]
        for thread in self.threads:
            thread.start()

    def _watch(self, kind, label_selector, field_selector):
        version = None
        while not self.stopped:
            try:
                for etype, obj in self.client.watch(kind, self.namespace, label_selector=label_selector,
                                                    field_selector=field_selector, resource_version=version,
                                                    timeout_seconds=WATCH_SECONDS):
                    version = ((obj.get("metadata") or {}).get("resourceVersion")) or version
                    if etype != "BOOKMARK":
                        self.changed.set()
                    if self.stopped:
                        return
            except K8sError:
                version = None
                self.changed.set()  # the waiter re-reads; this thread lists anew after a pause
                time.sleep(1.0)

    def sleep(self, seconds):
        if self.changed.wait(seconds):
            # let the burst that woke us settle (a pod's status changes in several writes)
            time.sleep(min(seconds, 1.0 / MAX_CHECKS_PER_SECOND))
        self.changed.clear()

    def stop(self):
        self.stopped = True


def wait_statefulset(client, namespace, name, timeout=300, interval=None, clock=time.monotonic, sleep=None):
    """Wait for a StatefulSet rollout. Returns ``{ready, elapsed, timeline, in_order, ...}``.

    Reacts to watch events on the StatefulSet and its pods (:class:`Changes`): after each event
    the state is read again (the StatefulSet, its pods) and judged. With ``sleep`` given (tests),
    polls every ``interval`` seconds instead (default 2).

    Ends early, failing, when the outcome is known: every pod that needs a forced rollback has
    been stuck (STUCK_REASONS) for FORCED_ROLLBACK_GRACE seconds of this wait."""
    ref = Ref("StatefulSet", name, namespace)
    changes = None
    if sleep is None:
        live = client.get(ref) or {}
        selector = selector_string((((live.get("spec") or {}).get("selector")) or {}).get("matchLabels"))
        changes = Changes(client, namespace, [("StatefulSet", None, f"metadata.name={name}"),
                                              ("Pod", selector or None, None)])
        sleep, interval = changes.sleep, interval or WATCH_RECHECK
    try:
        return _wait_statefulset(client, ref, timeout, interval or 2.0, clock, sleep)
    finally:
        if changes is not None:
            changes.stop()


def _wait_statefulset(client, ref, timeout, interval, clock, sleep):
    timeline = Timeline(ref.name)
    state = {"stuck_since": {}}

    def check(elapsed):
        sts = client.get(ref)
        pods = []
        if sts is not None:
            sel = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels")
            pods = client.list("Pod", ref.namespace, label_selector=selector_string(sel))
        timeline.observe(pods, elapsed)
        progress = statefulset_progress(sts, pods)
        state.update(sts=sts, pods=pods, progress=progress)
        if progress["done"]:
            return True, progress
        state["known"] = _known_stuck(sts, pods, state["stuck_since"], elapsed)
        return bool(state["known"]), progress

    done, progress, elapsed = _poll(check, timeout, interval, clock, sleep)
    done = done and not state.get("known")
    entries = timeline.as_list()
    result = {
        "ready": done,
        "elapsed": round(elapsed, 3),
        "reason": progress.get("reason"),
        "partition": progress.get("partition"),
        "update_revision": progress.get("update_revision"),
        "current_revision": progress.get("current_revision"),
        "timeline": entries,
        "in_order": _in_order(entries),
        "removed": timeline.removed(),
    }
    if done:
        return result
    lines, result["not_ready"], result["forced_rollback"] = _timeout_report(
        client, ref, timeout, elapsed, progress, state, entries)
    raise WaitTimeoutError("\n".join(lines), **result)


def _known_stuck(sts, pods, since, elapsed):
    """The pods needing a forced rollback once each has been stuck for FORCED_ROLLBACK_GRACE seconds
    (the outcome is then known), else []. ``since``: when each was first seen stuck, kept current."""
    by_name = {p["metadata"]["name"]: p for p in pods}
    stuck = [n for n in forced_rollback_pods(sts, pods) if stuck_reason(by_name[n])]
    for pname in [n for n in since if n not in stuck]:
        del since[pname]
    for pname in stuck:
        since.setdefault(pname, elapsed)
    if stuck and all(elapsed - since[n] >= FORCED_ROLLBACK_GRACE for n in stuck):
        return stuck
    return []


def _timeout_report(client, ref, timeout, elapsed, progress, state, entries):
    """Why a StatefulSet wait did not end ready: ``(message lines, the pods holding it up, the pods
    that need a forced rollback)``, from the wait's last reading (``state``) and its ``progress``."""
    sts, pods = state.get("sts"), state.get("pods") or []
    known = state.get("known")
    if known:
        lines = ["{} cannot finish its rollout: {} need{} a forced rollback ({}; known after {:.0f}s of the"
                 " {}s timeout)".format(ref, ", ".join(known), "s" if len(known) == 1 else "",
                                        "; ".join(f"{n} {stuck_reason(next(p for p in pods if p['metadata']['name'] == n))}"
                                                  for n in known), elapsed, timeout)]
    else:
        lines = ["Timed out after {}s waiting for {}: {}".format(timeout, ref, progress.get("reason"))]
    not_ready = _not_ready_pods(client, ref.name, sts, pods, progress)
    if not_ready:
        lines.append("Pods holding up the rollout:")
        for info in not_ready:
            if info.get("phase") is None and not info.get("events"):
                lines.append("  - {}: {}".format(info["pod"], info["problem"]))
            else:
                lines.append("  - " + format_pod_diagnostics(info))
    if sts is not None:
        events = [e for e in latest_events(client, "StatefulSet", ref.name, ref.namespace) if e.get("type") == "Warning"]
        if events:
            lines.append("StatefulSet events: " + "; ".join(_fmt_event(e) for e in events))
    stuck = forced_rollback_pods(sts, pods)
    lines += _forced_rollback_lines(ref.namespace, stuck, pods, progress.get("update_revision"))
    # pods that became ready during the wait and still are (a pod ready once, then stuck, is above)
    ready_now = [e["pod"] for e in entries if e["pod"] not in progress.get("problems", {})]
    if ready_now:
        lines.append("Became ready meanwhile: " + ", ".join(dict.fromkeys(ready_now)))
    return lines, not_ready, stuck


def _not_ready_pods(client, name, sts, pods, progress):
    """The diagnostics of each pod with a problem, in ordinal order (a missing pod: its problem alone)."""
    vct_names = [v["metadata"]["name"] for v in ((sts or {}).get("spec") or {}).get("volumeClaimTemplates") or []]
    pods_by_name = {p["metadata"]["name"]: p for p in pods}
    not_ready = []
    for pname, problem in sorted(progress.get("problems", {}).items(), key=lambda kv: pod_ordinal(kv[0], name)):
        pod = pods_by_name.get(pname)
        if pod is None:
            info = {"pod": pname, "problem": problem, "phase": None, "conditions": [], "containers": [],
                    "events": [], "pvcs": []}
        else:
            info = pod_diagnostics(client, pod, vct_names)
            info["problem"] = problem
        not_ready.append(info)
    return not_ready


def _forced_rollback_lines(namespace, stuck, pods, update_revision):
    """One line per pod of ``stuck``: why it needs a forced rollback, and the command that does it."""
    pods_by_name = {p["metadata"]["name"]: p for p in pods}
    lines = []
    for pname in stuck:
        rev = ((pods_by_name[pname]["metadata"].get("labels") or {}).get(REVISION_LABEL))
        lines.append(
            f"Forced rollback needed: {pname} runs revision {rev}, not the update revision"
            f" {update_revision}, and is not Ready. With podManagementPolicy OrderedReady the"
            " StatefulSet controller replaces a pod only once it is Ready, so a pod broken by an earlier template"
            " stays broken after the template was reverted or fixed (Kubernetes docs, StatefulSets, \"Forced"
            f" rollback\"). Delete it so that the controller recreates it from the current template:"
            f" kubectl delete pod -n {namespace} {pname}")
    return lines


def _in_order(entries):
    """True when the first readiness of each pod happened in ordinal order."""
    first = {}
    for e in entries:
        first.setdefault(e["pod"], e)
    ordered = sorted(first.values(), key=lambda e: (e["ready_at"] or "", e["observed_after_seconds"]))
    ords = [e["ordinal"] for e in ordered]
    return ords == sorted(ords)


def wait_claim_bound(client, ref, timeout=300, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """Read PersistentVolumeClaim ``ref`` every ``interval`` seconds until its phase is Bound or
    ``timeout`` seconds passed. Returns ``(bound, claim as last read or {}, seconds waited)``."""
    def bound(_elapsed):
        claim = client.get(ref) or {}
        return (claim.get("status") or {}).get("phase") == "Bound", claim
    return _poll(bound, timeout, interval, clock, sleep)


def wait_deleted(client, ref, timeout=120, interval=1.0, clock=time.monotonic, sleep=time.sleep):
    """Wait until ``ref`` is gone (404). Raises WaitTimeoutError."""
    done, _value, elapsed = _poll(lambda _e: (client.get(ref) is None, None), timeout, interval, clock, sleep)
    if not done:
        raise WaitTimeoutError("Timed out after {}s waiting for {} to be deleted (finalizers: {})".format(
            timeout, ref, ", ".join(((client.get(ref) or {}).get("metadata") or {}).get("finalizers") or [])
            or "none"))
    return round(elapsed, 3)
