"""What `make bench` measures in one run, from three sources it does not control:

- the run's own event stream (stdout callback ``ansible.posix.jsonl``: every task's start and
  end, its file, its play, its per-host result), which gives the time per stage;
- the API server's audit log (tests/lab/node/rootfs/etc/kubernetes/audit-policy.yaml: one
  Metadata event per request of the group ``kubeadm:cluster-admins``, i.e. the admin
  kubeconfig), which gives the requests per stage, and which of them wrote;
- a watch on the pods (the same ``super-admin.conf``), which gives the moment each pod turned
  Ready as the bench saw it, against which the collection's rollout wait returned;
- each pod's page, fetched through the API server's pod proxy
  (``GET /api/v1/namespaces/<ns>/pods/<pod>:80/proxy/index.html``) with the lab's
  ``super-admin.conf`` (group ``system:masters``, which the audit policy does not log, so the
  poller never counts as the run's traffic), which gives the time to every pod serving its line.

Times are UTC ``datetime`` objects (the callback and the audit log both write UTC).
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kubernetes import config, watch
from kubernetes.client import CoreV1Api

from tests.support.lab import REVIEW_RESOURCES, WRITE_VERBS

# The stages of a run, in the order they run, with the report's titles. The collection's
# site.yml and the usual way map to the same names (STAGE_BY_PATH / STAGE_BY_PLAY), so their
# columns line up; "startup" and "tail" are the run's time before its first and after its last task.
STAGE_TITLES = {
    "startup": "ansible-playbook start-up",
    "facts": "facts (all hosts)",
    "nfs_server": "NFS server",
    "nfs_client": "NFS client on every node",
    "gate": "preflight gate",
    "k8s_validate": "Kubernetes inputs checked",
    "provisioner": "provisioner (RBAC, Deployment, StorageClass)",
    "statefulset": "Service + StatefulSet + rollout wait",
    "verify": "verify (exec, HTTP and DNS from a pod, storage)",
    "content": "each pod's line written",
    "report": "identity report",
    "other": "other tasks",
    "tail": "recap, exit",
}
STAGES = tuple(STAGE_TITLES)
# A task's stage: by the file it comes from (roles), else by the name of its play.
STAGE_BY_PATH = (
    (re.compile(r"/roles/nfs_server(_usual)?/"), "nfs_server"),
    (re.compile(r"/roles/nfs_client/"), "nfs_client"),
    # the walkthrough's role maps its variables (plan) and hands them to the two roles below
    (re.compile(r"/roles/k8s_statefulset_nginx/"), "k8s_validate"),
    # roles nfs_provisioner (a list of classes) and statefulset (a list of applications)
    (re.compile(r"/roles/nfs_provisioner/"), "provisioner"),
    (re.compile(r"/roles/statefulset/tasks/report\.yml"), "report"),
    (re.compile(r"/roles/statefulset/tasks/nfs_side\.yml"), "verify"),
    (re.compile(r"/roles/statefulset/tasks/(main|plan|preflight)\.yml"), "k8s_validate"),
    (re.compile(r"/roles/statefulset/"), "statefulset"),
)
# The statefulset role deploys and proves an application in one file (application.yml): its
# proof and report tasks are told apart by their names.
STAGE_BY_NAME = (
    (re.compile(r"(^|: )(Prove each pod|Check that the credentials|Stop when the proof failed)"), "verify"),
    (re.compile(r"(^|: )Write the identity report"), "report"),
)
# Plays whose every task belongs to one stage, whatever role file it comes from: site.yml's
# check of the Kubernetes side runs the roles' preflight (and application.yml in preflight mode).
STAGE_OF_WHOLE_PLAY = (
    (re.compile(r"^Check the Kubernetes side"), "k8s_validate"),
)
STAGE_BY_PLAY = (
    (re.compile(r"^Gather facts"), "facts"),
    (re.compile(r"^NFS server"), "nfs_server"),
    (re.compile(r"^NFS client"), "nfs_client"),
    (re.compile(r"^Preflight gate"), "gate"),
    (re.compile(r"^Provisioner"), "provisioner"),
    (re.compile(r"^StatefulSet"), "statefulset"),
    (re.compile(r"^Each pod's line"), "content"),
)
# Subresources whose requests open a stream into a pod (or proxy to it): they change no API
# object, so they are counted apart from the writes.
STREAM_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})


def utc(text: str) -> datetime:
    """An ISO 8601 UTC time as the callback or the audit log writes it (``...Z``)."""
    return datetime.fromisoformat(text.rstrip("Z")).replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def stage_of(path: str, play: str, name: str = "") -> str:
    for pattern, stage in STAGE_OF_WHOLE_PLAY:
        if pattern.search(play):
            return stage
    if "/roles/statefulset/" in path:
        for pattern, stage in STAGE_BY_NAME:
            if pattern.search(name):
                return stage
    for pattern, stage in STAGE_BY_PATH:
        if pattern.search(path):
            return stage
    for pattern, stage in STAGE_BY_PLAY:
        if pattern.search(play):
            return stage
    return "other"


@dataclass
class Task:
    name: str
    path: str
    play: str
    stage: str
    start: datetime
    end: datetime | None = None
    action: str = ""  # the module, from its results (ansible.builtin.command, kubernetes.core.k8s_exec, ...)
    changed: int = 0  # hosts that reported a change
    failed: list[str] = field(default_factory=list)  # "host: message"
    results: int = 0  # host results seen
    skipped_hosts: int = 0  # of which skipped (the task's condition false there)

    @property
    def skipped(self) -> bool:
        """Skipped on every host that reported (a role whose `when` is false still emits its tasks)."""
        return self.results > 0 and self.skipped_hosts == self.results


@dataclass
class PlayLog:
    """A run's jsonl event stream, read back."""

    tasks: list[Task]
    stats: dict  # the recap: {host: {ok, changed, failures, ...}}

    @classmethod
    def read(cls, path: Path) -> PlayLog:
        tasks: dict[str, Task] = {}
        stats: dict = {}
        play = ""
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            kind = event.get("_event", "")
            if kind == "v2_playbook_on_play_start":
                play = event["play"]["name"]
            elif kind == "v2_playbook_on_stats":
                stats = event.get("stats", {})
            elif "task" in event:
                info = event["task"]
                task = tasks.get(info["id"])
                if task is None:
                    task = tasks[info["id"]] = Task(info["name"], info.get("path", ""), play,
                                                    stage_of(info.get("path", ""), play, info["name"]), utc(info["duration"]["start"]))
                if info["duration"].get("end"):
                    end = utc(info["duration"]["end"])
                    task.end = end if task.end is None else max(task.end, end)
                for host, result in event.get("hosts", {}).items():
                    task.results += 1
                    task.skipped_hosts += bool(result.get("skipped"))
                    task.action = task.action or result.get("action", "")
                    if result.get("changed"):
                        task.changed += 1
                    if result.get("failed") and not result.get("ignore_errors") or result.get("unreachable"):
                        task.failed.append(f"{host}: {str(result.get('msg', ''))[:600]}")
        return cls(sorted(tasks.values(), key=lambda t: t.start), stats)

    def recap(self, key: str) -> int | None:
        return sum(s.get(key, 0) for s in self.stats.values()) if self.stats else None

    def spans(self, started: datetime, ended: datetime) -> list[tuple[str, datetime, datetime, Task | None]]:
        """The run's wall time cut into consecutive spans, each owned by a stage: start-up, then
        each task from the end of the one before to its own end (Ansible's work between two
        tasks counts to the next), then the tail. The spans add up to the wall time."""
        out: list[tuple[str, datetime, datetime, Task | None]] = []
        cursor = started
        if self.tasks:
            out.append(("startup", started, self.tasks[0].start, None))
            cursor = self.tasks[0].start
        for task in self.tasks:
            end = task.end or task.start
            end = max(end, cursor)
            out.append((task.stage, cursor, end, task))
            cursor = end
        out.append(("tail", cursor, max(cursor, ended), None))
        return out

    def durations(self, ended: datetime) -> list[tuple[Task, float]]:
        """Each task's own time, start to end. A task that reports no result (a meta task such
        as flush_handlers, or one killed with the run) ends where the next one starts."""
        out = []
        for i, task in enumerate(self.tasks):
            end = task.end or (self.tasks[i + 1].start if i + 1 < len(self.tasks) else ended)
            out.append((task, max(0.0, (end - task.start).total_seconds())))
        return out

    def first_start(self, stage: str) -> datetime | None:
        """The start of the stage's first task that ran (a task skipped on every host did nothing)."""
        return next((t.start for t in self.tasks if t.stage == stage and not t.skipped), None)

    def first_end(self, stage: str, action: str) -> datetime | None:
        """The end of the stage's first task that ran module ``action`` (e.g. the rollout wait's)."""
        return next((t.end for t in self.tasks if t.stage == stage and t.action == action and not t.skipped), None)

    def last_end(self, stages: tuple[str, ...]) -> datetime | None:
        """The end of the last task of any of ``stages`` (a task with no result: its start)."""
        ends = [t.end or t.start for t in self.tasks if t.stage in stages and not t.skipped]
        return max(ends) if ends else None


@dataclass(frozen=True)
class ApiRequest:
    time: datetime
    verb: str
    uri: str
    resource: str
    subresource: str
    user_agent: str

    @property
    def kind(self) -> str:
        """read, write, dry-run (a write the server validated and dropped), review (an access or
        identity question, answered and never stored) or stream (exec, attach, port-forward,
        proxy into a pod)."""
        if self.subresource in STREAM_SUBRESOURCES:
            return "stream"
        if self.resource in REVIEW_RESOURCES:
            return "review"
        if self.verb in WRITE_VERBS:
            return "dry-run" if re.search(r"[?&]dryRun=", self.uri) else "write"
        return "read"


def audit_offset(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def audit_requests(log: Path, offset: int, started: datetime, ended: datetime,
                   group: str = "kubeadm:cluster-admins") -> list[ApiRequest]:
    """Requests of ``group`` received in [started, ended], read from byte ``offset`` of the log.
    One per request: the ResponseComplete (or Panic) event, never ResponseStarted."""
    out: list[ApiRequest] = []
    if not log.exists():
        return out
    with log.open("rb") as stream:
        stream.seek(offset)
        for raw in stream:
            try:
                event = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if event.get("stage") not in ("ResponseComplete", "Panic"):
                continue
            if group not in event.get("user", {}).get("groups", []):
                continue
            received = utc(event["requestReceivedTimestamp"])
            if not started <= received <= ended:
                continue
            ref = event.get("objectRef", {})
            out.append(ApiRequest(received, event.get("verb", ""), event.get("requestURI", ""),
                                  ref.get("resource", ""), ref.get("subresource", ""), event.get("userAgent", "")))
    return out


def pod_proxy_fetcher(kubeconfig: Path, namespace: str, port: int = 80, path: str = "index.html") -> Callable[[str], str]:
    """``fetch(pod)``: the pod's page through the API server's pod proxy, as the user of
    ``kubeconfig``; any failure comes back as ``"error: ..."`` (not serving yet)."""
    api = CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))

    def fetch(pod: str) -> str:
        try:
            body = api.connect_get_namespaced_pod_proxy_with_path(f"{pod}:{port}", namespace, path, _request_timeout=3)
        except Exception as exc:  # noqa: BLE001  # any failure is "not serving yet", kept for the record
            return f"error: {str(exc).splitlines()[0][:200]}"
        return body if isinstance(body, str) else str(body)

    return fetch


class ServingPoller(threading.Thread):
    """Calls ``fetch(pod)`` for every pod, ``interval`` seconds apart, until each pod has returned
    its expected line (``line`` with ``{pod}`` replaced) once, or ``stop()``; keeps the first time
    each one did."""

    def __init__(self, fetch: Callable[[str], str], pods: list[str], line: str, interval: float = 0.1):
        super().__init__(daemon=True)
        self.fetch, self.pods, self.line, self.interval = fetch, pods, line, interval
        self.first: dict[str, datetime] = {}
        self.last_answer: dict[str, str] = {}
        self.rounds, self.busy = 0, 0.0  # rounds over the pods, and their time without the sleeps
        self._stop_event = threading.Event()

    def period(self) -> float | None:
        """The measured time between two samples of one pod (the interval plus a round's own time), in seconds."""
        return round(self.interval + self.busy / self.rounds, 3) if self.rounds else None

    def run(self) -> None:
        while not self._stop_event.is_set() and len(self.first) < len(self.pods):
            began = time.monotonic()
            self.rounds += 1
            for pod in self.pods:
                if pod in self.first:
                    continue
                answer = self.fetch(pod).strip()
                self.last_answer[pod] = answer[:200]
                if answer == self.line.replace("{pod}", pod):
                    self.first[pod] = now()
            self.busy += time.monotonic() - began
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def wait(self, timeout: float) -> bool:
        """Wait until every pod served its line (True) or ``timeout`` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while len(self.first) < len(self.pods) and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.2)
        return len(self.first) == len(self.pods)

    def all_serving(self) -> datetime | None:
        return max(self.first.values()) if len(self.first) == len(self.pods) else None


class ReadyWatcher(threading.Thread):
    """Watches the pods of ``namespace`` matching ``label_selector`` (bounded watches of 5 s,
    resumed from the last resourceVersion) and keeps the first time, as this process saw the
    event, each of ``pods`` was Ready (condition ``Ready`` True), until ``stop()``."""

    def __init__(self, kubeconfig: Path, namespace: str, label_selector: str, pods: list[str]):
        super().__init__(daemon=True)
        self.api = CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
        self.namespace, self.selector, self.pods = namespace, label_selector, set(pods)
        self.ready: dict[str, datetime] = {}
        self.errors: list[str] = []
        self._stop_event = threading.Event()

    def _seen(self, pod) -> None:
        name = pod.metadata.name
        conditions = (pod.status and pod.status.conditions) or []
        if name in self.pods and name not in self.ready and any(
                c.type == "Ready" and c.status == "True" for c in conditions):
            self.ready[name] = now()

    def run(self) -> None:
        version = None
        while not self._stop_event.is_set():
            try:
                if version is None:
                    listed = self.api.list_namespaced_pod(self.namespace, label_selector=self.selector, _request_timeout=10)
                    for pod in listed.items:
                        self._seen(pod)
                    version = listed.metadata.resource_version
                for event in watch.Watch().stream(self.api.list_namespaced_pod, self.namespace,
                                                  label_selector=self.selector, resource_version=version,
                                                  timeout_seconds=5, _request_timeout=10):
                    version = event["object"].metadata.resource_version
                    self._seen(event["object"])
                    if self._stop_event.is_set():
                        return
            except Exception as exc:  # noqa: BLE001  # a gone resourceVersion or a dropped watch: list again
                self.errors.append(str(exc).splitlines()[0][:200])
                version = None
                self._stop_event.wait(0.2)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def all_ready(self) -> datetime | None:
        return max(self.ready.values()) if self.pods and set(self.ready) == self.pods else None
