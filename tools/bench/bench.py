#!/usr/bin/env python3
"""`make bench`: stateful.nfs against the usual way, on real Kubernetes labs of its own.

Each run (BENCH_RUNS, default 3) brings up fresh labs with tests/lab/lab-up.sh
(LAB_NAME=BENCH_LAB_NAME, default snfs-bench; never the main lab snfs-lab) and times:

  site     a 3-node lab: site.yml on bare hosts (cold), then again (warm)
  usual    a 3-node lab: the usual way with `kubectl apply` (tools/bench/usual_way/site_kubectl.yml),
           cold then warm; then the floor (below); then another 3-node lab: the usual way with
           one kubernetes.core.k8s task per manifest (site_k8s.yml), cold then warm
  floor    on the kubectl lab, the provisioner running: StatefulSet, Service and claims removed,
           then the walkthrough's four manifests in one `kubectl apply`, each pod's line written
           with `kubectl exec` as soon as the pod is Ready; time to every pod serving its line
  scaling  labs of 1 and 6 nodes (BENCH_SCALING_NODES): site.yml --tags nfs_server, then the
           client stage (--tags nfs_client) cold and warm; 3 nodes come from the site rows
  apt      (with scaling) on each fresh lab of the site and scaling rows, before the collection
           touches it: the apt floor, the packages role nfs_client installs put on every node at
           once with plain apt-get (no proof); the nodes are then put back as they were

The growth rows (issue 21, points 4 and 5) share one 3-node lab per run, its NFS server and
clients set up first by site.yml --tags nfs_server,nfs_client (row growth_prep):

  replicas      for each of BENCH_REPLICAS (3 10 30) pods of the walkthrough's StatefulSet: site.yml
                -e k8s_statefulset_nginx_replicas=N --tags k8s_statefulset_nginx, then the floor
                with N pods (the walkthrough's statefulset.yaml in one kubectl apply, the role's
                provisioner running, each pod's line written on Ready); StatefulSet, Service and
                claims removed before each; each bounded by BENCH_GROWTH_TIMEOUT
  applications  the roles nfs_provisioner + statefulset through site.yml (--tags
                provisioner,statefulset): two classes, then 1 and 3 StatefulSets of 3 nginx pods
                each, proved per pod with an HTTP check of the storage marker
  app           the lab's redis example (examples/redis/redis.yaml: a primary and two replicas)
                through site.yml with its application check (redis-cli info replication), then the
                same manifest the usual way: kubectl apply + kubectl rollout status, then
                redis-cli ping in each pod with kubectl exec

For every play run: wall time, time per stage and API requests per stage (measure.py: the
run's jsonl events and the API server's audit log), the recap; for every cold run and the
floor: the time until every pod serves its line over HTTP (pod proxy). Results:
results/bench/raw.jsonl (one line per row and run), logs/ (each run's jsonl and stderr),
results.md and results.png (report.py). Every lab it brought up is taken down at the end,
also on failure, Ctrl-C or SIGTERM (BENCH_KEEP=1 leaves the last one up).

Environment: BENCH_RUNS (3), BENCH_ROWS ("site usual floor scaling replicas applications app"),
BENCH_SCALING_NODES ("1 6"), BENCH_REPLICAS ("3 10 30"), BENCH_GROWTH_TIMEOUT (900 s per growth
row's play and floor), BENCH_PLAY_TIMEOUT (900 s per ansible-playbook), BENCH_LAB_TIMEOUT (900 s per lab-up),
BENCH_SERVING_TIMEOUT (300 s for the floor's pods), BENCH_LAB_NAME (snfs-bench), BENCH_OUT
(results/bench), BENCH_KEEP.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.waiting import wait_for
from tools.bench.measure import (
    STAGES,
    PlayLog,
    ReadyWatcher,
    ServingPoller,
    audit_offset,
    audit_requests,
    now,
    pod_proxy_fetcher,
)

PODS = ["web-0", "web-1", "web-2"]
NAMESPACE = "default"
LINE = "congratulations {pod} for k8s"  # the walkthrough's line, the role's default
MANIFESTS = ("rbac.yaml", "deployment.yaml", "class.yaml", "statefulset.yaml")
EXPORT_PATH = "/srv/nfs"

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
GROUPS = ("site", "usual", "floor", "scaling", "replicas", "applications", "app")
# The growth groups (issue 21, points 4 and 5) share one 3-node lab per run (run_growth).
GROWTH_GROUPS = ("replicas", "applications", "app")
ROWS = os.environ.get("BENCH_ROWS", " ".join(GROUPS)).split()
SCALING_NODES = [int(n) for n in os.environ.get("BENCH_SCALING_NODES", "1 6").split()]
REPLICAS = [int(n) for n in os.environ.get("BENCH_REPLICAS", "3 10 30").split()]
GROWTH_TIMEOUT = int(os.environ.get("BENCH_GROWTH_TIMEOUT", "900"))
APPLICATIONS = (1, 3)
REDIS = REPO / "examples" / "redis" / "redis.yaml"
REDIS_PODS = ["redis-0", "redis-1", "redis-2"]
PLAY_TIMEOUT = int(os.environ.get("BENCH_PLAY_TIMEOUT", "900"))
LAB_TIMEOUT = int(os.environ.get("BENCH_LAB_TIMEOUT", "900"))
SERVING_TIMEOUT = int(os.environ.get("BENCH_SERVING_TIMEOUT", "300"))
LAB_NAME = os.environ.get("BENCH_LAB_NAME", "snfs-bench")
OUT = Path(os.environ.get("BENCH_OUT", REPO / "results" / "bench"))
KEEP = os.environ.get("BENCH_KEEP", "0") == "1"
# What the bench's labs are made of, pinned for the whole bench (pin_images).
LAB_CACHE = Path(os.environ.get("SNFS_LAB_CACHE", "/var/cache/stateful-nfs-lab"))
PIN = LAB_CACHE / "pinned" / LAB_NAME
DOCKER = "/usr/bin/docker"
T0 = time.monotonic()


def rel(path: Path) -> str:
    """A path as the report shows it: relative to the checkout when inside it (BENCH_OUT may not be)."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.0f}s] {message}", file=sys.stderr, flush=True)


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP: stop, take the lab down, exit."""


def on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


class LabError(RuntimeError):
    pass


# The child process running now (ansible-playbook, lab-up), killed with its group on interrupt.
CHILD: subprocess.Popen | None = None


def run_bounded(argv: list[str], timeout: float, stdout, stderr=subprocess.STDOUT, env=None) -> tuple[int, bool]:
    """Run ``argv`` in a session of its own, at most ``timeout`` seconds: (exit code, timed out)."""
    global CHILD
    CHILD = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, cwd=REPO, env=env,  # noqa: S603
                             start_new_session=True)
    try:
        return CHILD.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        kill_child()
        return 124, True
    except BaseException:
        kill_child()
        raise
    finally:
        CHILD = None


def kill_child() -> None:
    child = CHILD
    if child is None or child.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def pin_images() -> Path:
    """Hard links to what this checkout's `make images` built (the Kubernetes and etcd programs,
    the pods' image archive) under the build cache's pinned/<lab name>/, and an images.json that
    names them, for lab-up (LAB_IMAGES_JSON). A build in another checkout removes the cache's
    entries it does not use (tests/lab/build-binaries.sh, build-k8s-images.sh); the links keep
    this bench's inputs whole for as long as it runs. Removed at the end."""
    source = json.loads((REPO / ".lab" / "images.json").read_text())
    pinned = json.loads(json.dumps(source))
    shutil.rmtree(PIN, ignore_errors=True)
    PIN.mkdir(parents=True)
    for component, path in source["binaries"].items():
        if not (Path(path) / ".complete").exists():
            raise LabError(f"{path} is missing (removed by a build in another checkout?): run `make images`")
        shutil.copytree(path, PIN / Path(path).name, copy_function=link_or_copy)
        pinned["binaries"][component] = str(PIN / Path(path).name)
    if not Path(source["archive"]).exists():
        raise LabError(f"{source['archive']} is missing (removed by a build in another checkout?): run `make images`")
    link_or_copy(source["archive"], str(PIN / Path(source["archive"]).name))
    pinned["archive"] = str(PIN / Path(source["archive"]).name)
    (PIN / "images.json").write_text(json.dumps(pinned, indent=1) + "\n")
    return PIN / "images.json"


class Lab:
    """A lab of tests/lab/lab-up.sh beside the main one (LAB_NAME, LAB_NODES), made of the
    pinned images (pin_images)."""

    def __init__(self, nodes: int):
        self.nodes = nodes
        self.dir = REPO / ".lab" / "labs" / LAB_NAME
        self.images_json = PIN / "images.json"
        self.images = json.loads(self.images_json.read_text())
        self.kubectl_path = str(Path(self.images["binaries"]["kubernetes"]) / "kubectl")

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (group kubeadm:cluster-admins, audited): what the runs use."""
        return self.dir / "kubeconfig"

    @property
    def super_admin(self) -> Path:
        """system:masters, not audited: what the bench itself uses (poller, clean-up)."""
        return self.dir / "cluster" / "super-admin.conf"

    @property
    def audit_log(self) -> Path:
        return self.dir / "audit" / "audit.log"

    @property
    def nfs_host(self) -> str:
        return f"{LAB_NAME}-nfs"

    @property
    def node_names(self) -> list[str]:
        return [f"{LAB_NAME}-node-{i}" for i in range(1, self.nodes + 1)]

    def env(self) -> dict[str, str]:
        return {**os.environ, "LAB_NAME": LAB_NAME, "LAB_NODES": str(self.nodes), "LAB_IMAGES_JSON": str(self.images_json)}

    def up(self) -> None:
        down()
        check_inotify(self.nodes)
        # The bench lab's own state from an earlier lab of the same name: a fresh audit log.
        for sub in ("audit", "report"):
            shutil.rmtree(self.dir / sub, ignore_errors=True)
        logfile = OUT / "logs" / f"lab-up-{self.nodes}-nodes.log"
        started = time.monotonic()
        with logfile.open("a") as out:
            out.write(f"== {datetime.now():%F %T} lab-up {LAB_NAME}, {self.nodes} node(s)\n")
            out.flush()
            rc, timed_out = run_bounded([str(REPO / "tests/lab/lab-up.sh")], LAB_TIMEOUT, out, env=self.env())
        if rc != 0:
            raise LabError(f"lab-up of {LAB_NAME} ({self.nodes} nodes) {'timed out' if timed_out else f'exited {rc}'}; "
                           f"log {rel(logfile)}")
        log(f"lab {LAB_NAME} up: NFS host, control plane, {self.nodes} node(s) in {time.monotonic() - started:.0f} s")

    def address(self, host: str) -> str:
        proc = subprocess.run([DOCKER, "container", "inspect", "-f",  # noqa: S603
                               f'{{{{ (index .NetworkSettings.Networks "{LAB_NAME}").IPAddress }}}}', host],
                              capture_output=True, text=True, timeout=30, check=True)
        return proc.stdout.strip()

    def kubectl(self, *args: str, admin: bool = False, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
        """kubectl of the lab's release; the bench's own calls go as super-admin (not audited)."""
        config = self.kubeconfig if admin else self.super_admin
        proc = subprocess.run([self.kubectl_path, "--kubeconfig", str(config), *args],  # noqa: S603
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise LabError(f"kubectl {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[:500]}")
        return proc

    def inventory(self) -> Path:
        """The inventory tests/lab/lab-up.sh wrote for this lab (``<lab dir>/inventory``): its hosts, the
        main lab inventory's group_vars (the lab's images, Ganesha, the node proof method), this lab's
        kubeconfig and report dir."""
        directory = self.dir / "inventory"
        if not (directory / "hosts.yml").is_file():
            raise LabError(f"{directory}/hosts.yml is missing: tests/lab/lab-up.sh writes it when lab {LAB_NAME} comes up")
        return directory

    def render_manifests(self, replicas: int | None = None) -> Path:
        """The walkthrough's manifests with the lab's images and NFS server, the same for both
        ways of the usual way and the floor (the role gets the same images from group_vars);
        with ``replicas``, the StatefulSet's replicas set to it (the replicas rows' floor)."""
        server = self.address(self.nfs_host)
        directory = OUT / "work" / ("manifests" if replicas is None else f"manifests-{replicas}")
        directory.mkdir(parents=True, exist_ok=True)
        for name in MANIFESTS:
            docs = [d for d in yaml.safe_load_all((REPO / "tests/lab/walkthrough" / name).read_text()) if d]
            for doc in docs:
                if doc["kind"] == "Deployment":
                    pod = doc["spec"]["template"]["spec"]
                    pod["containers"][0]["image"] = self.images["provisioner"]
                    for env in pod["containers"][0]["env"]:
                        if env["name"] == "NFS_SERVER":
                            env["value"] = server
                        if env["name"] == "NFS_PATH":
                            env["value"] = EXPORT_PATH
                    pod["volumes"][0]["nfs"] = {"server": server, "path": EXPORT_PATH}
                if doc["kind"] == "StatefulSet":
                    doc["spec"]["template"]["spec"]["containers"][0]["image"] = self.images["nginx"]
                    if replicas is not None:
                        doc["spec"]["replicas"] = replicas
            (directory / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))
        return directory


# inotify instances a lab holds (measured on a running lab: about 13 per kubelet node, 18 for the
# control plane, 5 for the NFS host before Ganesha). Every container runs as the
# host's root, so they all count against root's fs.inotify.max_user_instances (128 by default);
# a kubelet that gets none fails with "Failed to start cAdvisor ... inotify_init: too many open
# files" and its node never becomes Ready (kind documents the same limit).
INOTIFY_PER_NODE, INOTIFY_PER_LAB = 13, 23


def inotify_in_use() -> int:
    count = 0
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            count += sum(1 for fd in fd_dir.iterdir() if os.readlink(fd) == "anon_inode:inotify")
        except OSError:
            continue  # the process ended, or its fds are not ours to read
    return count


def check_inotify(nodes: int) -> None:
    """Refuse a lab that cannot start: name the limit, what holds it, and the way out."""
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    used, need = inotify_in_use(), INOTIFY_PER_LAB + INOTIFY_PER_NODE * nodes
    if limit - used < need:
        raise LabError(f"a lab of {nodes} node(s) needs about {need} inotify instances and {limit - used} of "
                       f"fs.inotify.max_user_instances={limit} are free ({used} in use by the host's containers, "
                       "e.g. the main lab): its kubelets would fail with 'inotify_init: too many open files'. Raise "
                       "the limit (sysctl -w fs.inotify.max_user_instances=512, as kind documents) or run with fewer "
                       "labs up")


def client_packages() -> list[str]:
    """The packages role nfs_client installs on a Debian node with its default
    ``nfs_client_nfs_version: auto`` (the role's vars/Debian.yml: its list plus the NFSv3 one), read
    from the role so the apt floor installs exactly those."""
    packages = yaml.safe_load((REPO / "roles/nfs_client/vars/Debian.yml").read_text())
    return [*packages["__nfs_client_packages"], *packages["__nfs_client_packages_nfsv3"]]


def docker_sh(container: str, script: str, timeout: float) -> tuple[int, str, float]:
    """``sh -c script`` in a lab container: (exit code, its output, seconds); 124 on timeout."""
    started = time.monotonic()
    try:
        proc = subprocess.run([DOCKER, "exec", container, "sh", "-c", script], capture_output=True,  # noqa: S603
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {timeout:.0f} s", time.monotonic() - started
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def down() -> None:
    """Take the bench lab down (everything labelled with its instance), bounded."""
    if KEEP:
        return
    rc, _ = run_bounded([str(REPO / "tests/lab/lab-down.sh")], 300, subprocess.DEVNULL,
                        env={**os.environ, "LAB_NAME": LAB_NAME})
    if rc != 0:
        log(f"lab-down of {LAB_NAME} exited {rc}")


class Bench:
    def __init__(self):
        self.logs = OUT / "logs"
        self.raw = OUT / "raw.jsonl"
        self.failed: list[str] = []

    def record(self, rec: dict) -> None:
        with self.raw.open("a") as out:
            out.write(json.dumps(rec, sort_keys=True) + "\n")
        api = rec.get("api", {})
        serving = (rec.get("serving") or {}).get("from_start")
        log(f"run {rec['run']} {rec['row']:<20} {rec['seconds'] if rec['seconds'] is not None else 'n/a':>7} s  "
            f"rc={rec['rc']} changed={rec.get('changed')} api={api.get('requests')} writes={api.get('write')}"
            + (f" serving={serving:.1f} s" if serving is not None else ""))
        if rec["rc"] != 0:
            self.failed.append(f"{rec['row']} (run {rec['run']})")
            for line in rec.get("failures", [])[:5]:
                log(f"  FAILED: {line}")

    def ansible_env(self, lab: Lab) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{REPO / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.jsonl",
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "ANSIBLE_NOCOLOR": "1",
            # The lab's images.json (k8s_api group_vars); the kubeconfig is the inventory's.
            "SNFS_LAB_DIR": str(REPO / ".lab"),
            # The usual way reaches the API the usual way: kubectl and kubernetes.core read these.
            "KUBECONFIG": str(lab.kubeconfig),
            "K8S_AUTH_KUBECONFIG": str(lab.kubeconfig),
        }

    def play(self, run: int, row: str, lab: Lab, playbook: str, *args: str, serving: bool = False,
             pods: list[str] | None = None, timeout: int = PLAY_TIMEOUT, extra_vars: dict | None = None) -> dict:
        """One ansible-playbook run, measured (``pods``: the pods the serving poller watches;
        ``extra_vars``: given to the run as a JSON file)."""
        logfile, errfile = self.logs / f"{row}.run{run}.jsonl", self.logs / f"{row}.run{run}.stderr"
        if extra_vars is not None:
            varfile = OUT / "work" / f"{row}.run{run}.vars.json"
            varfile.parent.mkdir(parents=True, exist_ok=True)
            varfile.write_text(json.dumps(extra_vars, indent=1))
            shutil.copy2(varfile, self.logs / varfile.name)  # kept with the logs: what the row ran
            args = (*args, "-e", f"@{varfile}")
        offset = audit_offset(lab.audit_log)
        poller = (ServingPoller(pod_proxy_fetcher(lab.super_admin, NAMESPACE), pods or PODS, LINE)
                  if serving else None)
        watcher = ReadyWatcher(lab.super_admin, NAMESPACE, "", pods or PODS) if serving else None
        argv = [str(REPO / ".venv/bin/ansible-playbook"), "-i", str(lab.inventory()), playbook, *args]
        load_start = os.getloadavg()
        started = now()
        if poller and watcher:
            watcher.start()
            poller.start()
        with logfile.open("w") as out, errfile.open("w") as err:
            rc, timed_out = run_bounded(argv, timeout, out, err, env=self.ansible_env(lab))
        ended = now()
        if poller and watcher:
            poller.wait(10 if rc == 0 else 0)  # a last look: content written in the run's last second
            poller.stop()
            watcher.stop()
        time.sleep(0.5)  # ResponseComplete events are written as the responses end: a margin for the last one
        playlog = PlayLog.read(logfile)
        rec = self.measure(run, row, lab, playlog, started, ended, offset, poller, watcher)
        rec.update(rc=rc, timed_out=timed_out, argv=argv[3:], log=rel(logfile),
                   load={"start": list(load_start), "end": list(os.getloadavg())})
        if timed_out:
            rec["failures"] = [f"ansible-playbook timed out after {timeout} s", *rec["failures"]]
        elif rc != 0 and not rec["failures"]:
            rec["failures"] = [errfile.read_text(errors="replace")[-600:]]
        self.record(rec)
        return rec

    @staticmethod
    def measure(run: int, row: str, lab: Lab, playlog: PlayLog, started, ended, offset: int,
                poller: ServingPoller | None, watcher: ReadyWatcher | None = None) -> dict:
        spans = playlog.spans(started, ended)
        stages: dict[str, dict] = {}
        def stage_entry(stage: str) -> dict:
            return stages.setdefault(stage, {"seconds": 0.0, "tasks": 0, "changed": 0, "requests": 0, "read": 0,
                                             "write": 0, "dry-run": 0, "review": 0, "stream": 0})

        for stage, begin, end, task in spans:
            entry = stage_entry(stage)
            entry["seconds"] += (end - begin).total_seconds()
            if task is not None:
                entry["tasks"] += 1
                entry["changed"] += task.changed
        requests = audit_requests(lab.audit_log, offset, started, ended)
        api = {"requests": len(requests), "read": 0, "write": 0, "dry-run": 0, "review": 0, "stream": 0, "writes": []}
        for req in requests:
            stage = next((s for s, begin, end, _ in spans if begin <= req.time <= end), "tail")
            entry = stage_entry(stage)
            entry["requests"] += 1
            entry[req.kind] += 1
            api[req.kind] += 1
            if req.kind not in ("read", "review"):
                api["writes"].append(f"{stage}: {req.kind} {req.verb} {req.uri.split('?')[0]}")
        durations = playlog.durations(ended)
        tasks = sorted(((t.name, t.stage, secs) for t, secs in durations), key=lambda t: -t[2])
        by_action: dict[str, list] = {}
        for task, secs in durations:
            entry = by_action.setdefault(task.action or "(no result)", [0, 0.0])
            entry[0] += 1
            entry[1] = round(entry[1] + secs, 2)
        rec = {
            "run": run, "row": row, "nodes": lab.nodes, "started": started.isoformat(),
            "seconds": round((ended - started).total_seconds(), 2),
            "by_action": by_action,
            "changed": playlog.recap("changed"), "failed": playlog.recap("failures"),
            "unreachable": playlog.recap("unreachable"),
            "stages": {k: {kk: round(vv, 2) if isinstance(vv, float) else vv for kk, vv in v.items()} for k, v in stages.items()},
            "api": api,
            "top_tasks": [[name, stage, round(secs, 2)] for name, stage, secs in tasks[:15]],
            "failures": [f"{t.name}: {msg}" for t in playlog.tasks for msg in t.failed],
            "serving": None,
            # From the StatefulSet's apply to the end of the last apply, proof or report task:
            # the application role's whole time for its StatefulSets.
            "to_proved": None,
        }
        sts, proved = playlog.first_start("statefulset"), playlog.last_end(("statefulset", "verify", "report"))
        if sts and proved:
            rec["to_proved"] = round((proved - sts).total_seconds(), 2)
        if poller is not None:
            rec["serving"] = serving_record(poller, started, playlog.first_start("statefulset"))
            if watcher is not None:
                rec["serving"].update(ready_record(watcher, started, playlog.first_end("statefulset", "stateful.nfs.statefulset")))
            # What ran between the StatefulSet's apply and the last pod serving its line.
            sts, served = playlog.first_start("statefulset"), poller.all_serving()
            if sts and served:
                rec["serving"]["path"] = [
                    [t.name, t.stage, round(min(secs, (served - t.start).total_seconds()), 2)]
                    for t, secs in durations if sts <= t.start < served]
        return rec

    @staticmethod
    def clean_web(lab: Lab, pods: list[str], timeout: int = 180) -> None:
        """Clean slate for the walkthrough's pods, the provisioner stays: StatefulSet, Service and
        claims go, and their volumes (the provisioner archives the directories)."""
        lab.kubectl("delete", "statefulset", "web", "service", "web", "-n", NAMESPACE, "--ignore-not-found",
                    "--wait=true", f"--timeout={timeout}s", timeout=timeout + 30)
        wait_for("the StatefulSet's pods to be gone", lambda: not lab.kubectl(
            "get", "pods", "-n", NAMESPACE, "-l", "app=nginx", "-o", "name").stdout.strip(), timeout=timeout, interval=1)
        lab.kubectl("delete", "pvc", "-n", NAMESPACE, *[f"nginx-pvc-{p}" for p in pods], "--ignore-not-found",
                    "--wait=true", f"--timeout={timeout}s", timeout=timeout + 30)
        wait_for("the claims' volumes to be released", lambda: not [
            pv for pv in json.loads(lab.kubectl("get", "pv", "-o", "json").stdout)["items"]
            if pv["spec"].get("storageClassName") == "managed-nfs-storage"], timeout=timeout, interval=1)

    def floor(self, run: int, lab: Lab, manifests: Path, row: str = "floor", pods: list[str] | None = None,
              names: tuple[str, ...] = MANIFESTS, timeout: int = SERVING_TIMEOUT) -> dict:
        """The walkthrough's manifests (``names``) in one kubectl apply, the provisioner already
        running, each pod's line written as soon as it is Ready: the time the cluster itself needs."""
        pods = pods or PODS
        self.clean_web(lab, pods)
        lab.kubectl("rollout", "status", "deployment/nfs-client-provisioner", "-n", NAMESPACE, "--timeout=120s")

        logfile = self.logs / f"{row}.run{run}.log"
        offset = audit_offset(lab.audit_log)
        poller = ServingPoller(pod_proxy_fetcher(lab.super_admin, NAMESPACE), pods, LINE)
        steps: list[str] = []
        load_start = os.getloadavg()
        started = now()
        poller.start()
        rc = 0
        deadline = time.monotonic() + timeout

        def step(*args: str) -> bool:
            return kubectl_step(lab, steps, started, deadline, *args).returncode == 0

        ok = step("apply", *[arg for name in names for arg in ("-f", str(manifests / name))])
        for pod in pods:
            ok = ok and step("wait", "-n", NAMESPACE, "--for=create", f"pod/{pod}", f"--timeout={max(1, int(deadline - time.monotonic()))}s")
            ok = ok and step("wait", "-n", NAMESPACE, "--for=condition=Ready", f"pod/{pod}",
                             f"--timeout={max(1, int(deadline - time.monotonic()))}s")
            ok = ok and step("exec", "-n", NAMESPACE, pod, "--", "sh", "-c",
                             f"echo '{LINE.replace('{pod}', pod)}' > /usr/share/nginx/html/index.html")
        if ok:
            poller.wait(max(1.0, deadline - time.monotonic()))
        poller.stop()
        serving_at = poller.all_serving()
        ended = serving_at or now()
        if not ok or serving_at is None:
            rc = 1
        logfile.write_text("\n".join(steps) + "\n")
        requests = audit_requests(lab.audit_log, offset, started, ended)
        rec = {
            "run": run, "row": row, "nodes": lab.nodes, "started": started.isoformat(), "rc": rc,
            "timed_out": serving_at is None and time.monotonic() >= deadline,
            "load": {"start": list(load_start), "end": list(os.getloadavg())},
            "seconds": round((ended - started).total_seconds(), 2), "changed": None,
            "api": api_summary(requests),
            "serving": serving_record(poller, started, started),
            "steps": steps, "log": rel(logfile),
            "failures": [] if rc == 0 else [(f"not every pod served its line within {timeout} s: "
                                             f"{dict(list(poller.last_answer.items())[:5])}; steps: {steps[-3:]}")],
        }
        self.record(rec)
        return rec

    def apt_floor(self, run: int, lab: Lab, timeout: int = 600) -> dict:
        """Row ``apt_floor_<nodes>``: what installing the client stage's packages costs without the
        collection, on a fresh lab: ``apt-get update`` and ``apt-get install -y`` of
        :func:`client_packages` on every node at once (the collection's apt task refreshes a missing
        index too). Afterwards each node is put back as it was, so the collection's cold row starts
        from the same bare hosts: the packages the floor added are purged, the package cache is
        cleaned and the package lists are removed where there were none."""
        packages = client_packages()
        install = ("apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                   + " ".join(packages) + " >/dev/null")
        listing = "dpkg-query -W -f '${Package}\\n' | sort"
        before = {node: docker_sh(node, listing, 60)[1] for node in lab.node_names}
        had_lists = {node: docker_sh(node, "ls /var/lib/apt/lists | grep -q _Packages", 30)[0] == 0
                     for node in lab.node_names}
        load_start = os.getloadavg()
        started = now()
        with ThreadPoolExecutor(len(lab.node_names)) as pool:
            results = dict(zip(lab.node_names, pool.map(lambda node: docker_sh(node, install, timeout), lab.node_names)))
        ended = now()
        undo = []
        for node in lab.node_names:
            added = sorted(set(docker_sh(node, listing, 60)[1].split()) - set(before[node].split()))
            script = ("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q " + " ".join(added) + " >/dev/null && "
                      if added else "") + "apt-get clean" + ("" if had_lists[node] else "; rm -rf /var/lib/apt/lists/*")
            rc, out, _ = docker_sh(node, script, timeout)
            undo.append(f"{node}: purged {len(added)} package(s)" + ("" if rc == 0 else f", exit {rc}: {out[-400:]}"))
        failures = [f"{node}: apt-get exited {rc}: {out[-400:]}" for node, (rc, out, _) in results.items() if rc != 0]
        rec = {
            "run": run, "row": f"apt_floor_{lab.nodes}", "nodes": lab.nodes, "started": started.isoformat(),
            "rc": 1 if failures else 0, "timed_out": any(rc == 124 for rc, _, _ in results.values()),
            "load": {"start": list(load_start), "end": list(os.getloadavg())},
            "seconds": round((ended - started).total_seconds(), 2), "changed": None,
            "per_node": {node: round(secs, 2) for node, (_, _, secs) in results.items()},
            "packages": packages, "undo": undo, "serving": None, "api": {}, "failures": failures,
        }
        self.record(rec)
        return rec

    def usual_app(self, run: int, lab: Lab, manifest: Path, namespace: str, pods: list[str]) -> dict:
        """The usual way for the application: its manifest in one kubectl apply (the class's
        provisioner already running), kubectl rollout status, then each pod's own check the
        usual way (kubectl exec redis-cli ping). Times: apply to rollout done, and to every pod
        answering."""
        logfile = self.logs / f"app_kubectl.run{run}.log"
        offset = audit_offset(lab.audit_log)
        steps: list[str] = []
        marks: dict[str, float] = {}
        load_start = os.getloadavg()
        started = now()
        deadline = time.monotonic() + GROWTH_TIMEOUT

        def step(*args: str) -> bool:
            proc = kubectl_step(lab, steps, started, deadline, *args)
            return proc.returncode == 0 and (args[0] != "exec" or proc.stdout.strip() == "PONG")

        ok = step("create", "namespace", namespace)
        ok = ok and step("apply", "-n", namespace, "-f", str(manifest))
        ok = ok and step("rollout", "status", "-n", namespace, "statefulset/redis",
                         f"--timeout={max(1, int(deadline - time.monotonic()))}s")
        marks["rollout"] = (now() - started).total_seconds()
        for pod in pods:
            ok = ok and step("exec", "-n", namespace, pod, "--", "redis-cli", "ping")
        ended = now()
        logfile.write_text("\n".join(steps) + "\n")
        requests = audit_requests(lab.audit_log, offset, started, ended)
        rec = {
            "run": run, "row": "app_kubectl", "nodes": lab.nodes, "started": started.isoformat(),
            "rc": 0 if ok else 1, "timed_out": not ok and time.monotonic() >= deadline,
            "load": {"start": list(load_start), "end": list(os.getloadavg())},
            "seconds": round((ended - started).total_seconds(), 2), "changed": None,
            "to_rollout": round(marks["rollout"], 2) if ok else None,
            "to_proved": round((ended - started).total_seconds(), 2) if ok else None,
            "api": api_summary(requests),
            "steps": steps, "log": rel(logfile), "serving": None,
            "failures": [] if ok else [f"the usual way's redis did not finish: {steps[-2:]}"],
        }
        self.record(rec)
        return rec


def redis_manifest(lab: Lab, storage_class: str) -> tuple[list[dict], Path]:
    """The lab's redis example (Service, StatefulSet) with the lab's image and the bench's class,
    the same for site.yml (as its definition) and the usual way (as a file for kubectl apply)."""
    docs = [d for d in yaml.safe_load_all(REDIS.read_text()) if d]
    for doc in docs:
        if doc["kind"] == "StatefulSet":
            doc["spec"]["template"]["spec"]["containers"][0]["image"] = lab.images["redis"]
            doc["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = storage_class
    path = OUT / "work" / "redis.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return docs, path


# The classes of the applications and app rows (roles nfs_provisioner + statefulset): two, one
# archiving deleted claims and one deleting them under a pathPattern, as the lab's tests declare.
BENCH_CLASSES = [
    {"storage_class_name": "bench-data", "archive_on_delete": True},
    {"storage_class_name": "bench-scratch", "on_delete": "delete", "path_pattern": "${.PVC.namespace}/${.PVC.name}"},
]


def applications_vars(lab: Lab, count: int) -> dict:
    """``count`` StatefulSets of 3 nginx pods in one namespace, on the two classes in turn, each
    proved per pod (identity, DNS, claims, storage) and by HTTP: the storage marker served."""
    namespace = f"bench-apps{count}"
    apps = []
    for i in range(1, count + 1):
        name = f"web{i}"
        klass = BENCH_CLASSES[(i - 1) % len(BENCH_CLASSES)]["storage_class_name"]
        apps.append({"name": name, "statefulset": {
            "name": name, "namespace": namespace, "replicas": 3, "labels": {"app": name}, "image": lab.images["nginx"],
            "ports": [{"name": "web", "container_port": 80}],
            "volume_claim_templates": [{"name": "www", "storage_class_name": klass, "size": "1Mi",
                                        "mount_path": "/usr/share/nginx/html"}]},
            "verify": {"app_check": {"http_get": {"path": "/.stateful-nfs-verify", "port": 80, "status": 200,
                                                  "body": "^stateful\\.nfs .*/{pod} "}}}})
    return {"nfs_provisioner_classes": BENCH_CLASSES, "nfs_provisioner_namespace": "bench-nfs",
            "statefulset_applications": apps}


def redis_vars(docs: list[dict], namespace: str) -> dict:
    """The redis example as the lab declares it (examples/redis/inventory-vars.yml), its class on
    the lab's export, in ``namespace``."""
    service, sts = docs
    sts = {**sts, "metadata": {**sts["metadata"], "namespace": namespace}}
    return {"nfs_provisioner_classes": BENCH_CLASSES, "nfs_provisioner_namespace": "bench-nfs",
            "statefulset_applications": [{"name": "cache", "statefulset": {"definition": sts, "service": service},
                                          "verify": {"app_check": {"exec": {
                                              "command": ["redis-cli", "info", "replication"],
                                              "stdout": "role:(master|slave)"}}}}]}


def kubectl_step(lab: Lab, steps: list[str], started, deadline: float, *args: str):
    """One kubectl command of a usual-way row, bounded by the row's ``deadline`` (monotonic),
    logged in ``steps`` with its time since ``started``; returns the finished process."""
    left = max(1, int(deadline - time.monotonic()))
    proc = lab.kubectl(*args, admin=True, timeout=left + 10, check=False)
    steps.append(f"{(now() - started).total_seconds():7.2f} s  kubectl {' '.join(args)} -> {proc.returncode} "
                 f"{(proc.stdout + proc.stderr).strip()[:300]}")
    return proc


def api_summary(requests) -> dict:
    """A usual-way row's API requests (audit_requests): the count, the count per kind, and every
    request that is neither a read nor an access review."""
    kinds = {k: sum(1 for r in requests if r.kind == k) for k in ("read", "write", "dry-run", "review", "stream")}
    return {"requests": len(requests), **kinds,
            "writes": [f"{r.kind} {r.verb} {r.uri.split('?')[0]}" for r in requests if r.kind not in ("read", "review")]}


def serving_record(poller: ServingPoller, started, statefulset_started) -> dict:
    all_at = poller.all_serving()
    return {
        "from_start": round((all_at - started).total_seconds(), 2) if all_at else None,
        "from_statefulset": round((all_at - statefulset_started).total_seconds(), 2)
        if all_at and statefulset_started else None,
        "statefulset_at": round((statefulset_started - started).total_seconds(), 2) if statefulset_started else None,
        "per_pod": {pod: round((t - started).total_seconds(), 2) for pod, t in sorted(poller.first.items())},
        "sample_period": poller.period(),
        "last_answer": {} if all_at else poller.last_answer,
    }


def ready_record(watcher: ReadyWatcher, started, wait_returned) -> dict:
    """When each pod turned Ready (the bench's own watch, seconds from the run's start), and how long
    after the last of them the collection's rollout wait (the first statefulset task) returned."""
    all_ready = watcher.all_ready()
    return {
        "ready_per_pod": {pod: round((t - started).total_seconds(), 3) for pod, t in sorted(watcher.ready.items())},
        "wait_returned_at": round((wait_returned - started).total_seconds(), 3) if wait_returned else None,
        "wait_return_delay": round((wait_returned - all_ready).total_seconds(), 3)
        if wait_returned and all_ready else None,
        "watch_errors": watcher.errors[:5],
    }


def main() -> int:
    if LAB_NAME == "snfs-lab":
        print("bench: BENCH_LAB_NAME must not be the main lab (snfs-lab)", file=sys.stderr)
        return 2
    unknown = [r for r in ROWS if r not in GROUPS]
    if unknown or not 1 <= RUNS <= 99 or not REPLICAS or min(REPLICAS) < 1:
        print(f"bench: BENCH_ROWS takes {' '.join(GROUPS)} (got {unknown}); BENCH_RUNS 1..99 (got {RUNS}); "
              f"BENCH_REPLICAS one or more pod counts (got {REPLICAS})", file=sys.stderr)
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    (OUT / "logs").mkdir(parents=True, exist_ok=True)
    for old in (OUT / "logs").iterdir():
        old.unlink()
    (OUT / "raw.jsonl").unlink(missing_ok=True)
    bench = Bench()
    try:
        pin_images()
    except (LabError, OSError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    (OUT / "meta.json").write_text(json.dumps({
        "runs": RUNS, "rows": ROWS, "scaling_nodes": SCALING_NODES, "client_packages": client_packages(), "replicas": REPLICAS,
        "applications": list(APPLICATIONS), "growth_timeout": GROWTH_TIMEOUT, "lab": LAB_NAME, "stages": STAGES,
        "cpus": os.cpu_count(), "loadavg_start": os.getloadavg(), "started": now().isoformat(),
        "kubernetes": Lab(3).images["kubernetes_version"],
    }, indent=1))
    rc = 0
    try:
        for run in range(1, RUNS + 1):
            for group in [g for g in GROUPS if g in ROWS or (g == "usual" and "floor" in ROWS)]:
                if group == "floor" or group in GROWTH_GROUPS:
                    continue  # the floor on the usual way's kubectl lab; the growth rows below
                try:
                    run_group(bench, run, group)
                except (LabError, AssertionError, subprocess.SubprocessError) as exc:
                    log(f"run {run} {group}: {exc}")
                    bench.failed.append(f"{group} (run {run}): {exc}")
            growth = [g for g in GROWTH_GROUPS if g in ROWS]
            if growth:
                run_growth(bench, run, growth)
        log(f"all runs done; load average {os.getloadavg()[0]:.1f}")
    except Interrupted as exc:
        log(f"interrupted ({exc}): stopping, taking the lab down")
        kill_child()
        rc = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        down()
        if not KEEP:
            shutil.rmtree(OUT / "work", ignore_errors=True)
            shutil.rmtree(PIN, ignore_errors=True)
            with contextlib.suppress(OSError):
                PIN.parent.rmdir()  # only when no other bench (another BENCH_LAB_NAME) pins there
        log(f"lab {LAB_NAME} down" if not KEEP else f"BENCH_KEEP=1: lab {LAB_NAME} left up")
    meta = json.loads((OUT / "meta.json").read_text())
    meta.update(ended=now().isoformat(), loadavg_end=os.getloadavg(), failed=bench.failed)
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1))
    if (OUT / "raw.jsonl").exists():
        subprocess.run([sys.executable, str(REPO / "tools/bench/report.py"), str(OUT)], check=False)  # noqa: S603
    if bench.failed:
        log(f"failed: {'; '.join(bench.failed)}")
    return rc or (1 if bench.failed else 0)


def run_group(bench: Bench, run: int, group: str) -> None:
    if group == "site":
        lab = Lab(3)
        lab.up()
        if "scaling" in ROWS:
            bench.apt_floor(run, lab)
        bench.play(run, "site_cold", lab, "site.yml", serving=True)
        bench.play(run, "site_warm", lab, "site.yml")
    elif group == "usual":
        lab = Lab(3)
        lab.up()
        manifests = ["-e", f"usual_manifests={lab.render_manifests()}", "-e", f"usual_kubectl={lab.kubectl_path}"]
        cold = bench.play(run, "usual_kubectl_cold", lab, "tools/bench/usual_way/site_kubectl.yml", *manifests, serving=True)
        if "usual" in ROWS:
            bench.play(run, "usual_kubectl_warm", lab, "tools/bench/usual_way/site_kubectl.yml", *manifests)
        if "floor" in ROWS and cold["rc"] == 0:
            bench.floor(run, lab, lab.render_manifests())
        if "usual" in ROWS:
            lab = Lab(3)
            lab.up()
            manifests = ["-e", f"usual_manifests={lab.render_manifests()}"]
            bench.play(run, "usual_k8s_cold", lab, "tools/bench/usual_way/site_k8s.yml", *manifests, serving=True)
            bench.play(run, "usual_k8s_warm", lab, "tools/bench/usual_way/site_k8s.yml", *manifests)
    elif group == "scaling":
        for nodes in SCALING_NODES:
            lab = Lab(nodes)
            lab.up()
            bench.apt_floor(run, lab)
            bench.play(run, f"scaling{nodes}_nfs_server", lab, "site.yml", "--tags", "nfs_server")
            bench.play(run, f"clients_{nodes}_cold", lab, "site.yml", "--tags", "nfs_client")
            bench.play(run, f"clients_{nodes}_warm", lab, "site.yml", "--tags", "nfs_client")


def run_growth(bench: Bench, run: int, groups: list[str]) -> None:
    """The growth rows on one 3-node lab: its NFS server and clients first, then each group; a
    group that fails does not stop the next one (each cleans up what it made first)."""
    lab = Lab(3)
    try:
        lab.up()
    except LabError as exc:
        log(f"run {run} growth lab: {exc}")
        bench.failed.append(f"{' '.join(groups)} (run {run}): {exc}")
        return
    prep = bench.play(run, "growth_prep", lab, "site.yml", "--tags", "nfs_server,nfs_client")
    if prep["rc"] != 0:
        bench.failed.append(f"{' '.join(groups)} (run {run}): the NFS server and clients were not set up")
        return
    for group in groups:
        try:
            if group == "replicas":
                growth_replicas(bench, run, lab)
            elif group == "applications":
                growth_applications(bench, run, lab)
            elif group == "app":
                growth_app(bench, run, lab)
        except (LabError, AssertionError, subprocess.SubprocessError) as exc:
            log(f"run {run} {group}: {exc}")
            bench.failed.append(f"{group} (run {run}): {exc}")


def growth_replicas(bench: Bench, run: int, lab: Lab) -> None:
    """Per size: the role (site.yml, the walkthrough's StatefulSet with N replicas) from a clean
    slate, then the floor with N pods. The provisioner comes from the role's first run and stays."""
    for count in REPLICAS:
        pods = [f"web-{i}" for i in range(count)]
        if lab.kubectl("get", "statefulset", "web", "-n", NAMESPACE, check=False).returncode == 0:
            Bench.clean_web(lab, [f"web-{i}" for i in range(max(REPLICAS))], timeout=max(180, 10 * count))
        bench.play(run, f"replicas{count}_site", lab, "site.yml", "--tags", "k8s_statefulset_nginx",
                   "-e", f"k8s_statefulset_nginx_replicas={count}",
                   "-e", f"k8s_statefulset_nginx_wait_timeout={GROWTH_TIMEOUT}",
                   serving=True, pods=pods, timeout=GROWTH_TIMEOUT)
        bench.floor(run, lab, lab.render_manifests(replicas=count), row=f"replicas{count}_floor", pods=pods,
                    names=("statefulset.yaml",), timeout=GROWTH_TIMEOUT)
    Bench.clean_web(lab, [f"web-{i}" for i in range(max(REPLICAS))], timeout=max(180, 10 * max(REPLICAS)))


def growth_applications(bench: Bench, run: int, lab: Lab) -> None:
    """The application role with 1, then 3 StatefulSets (a namespace each), on the same two
    classes (made by the first row: compare the application stages, not the wall time)."""
    for count in APPLICATIONS:
        bench.play(run, f"apps{count}", lab, "site.yml", "--tags", "provisioner,statefulset",
                   extra_vars=applications_vars(lab, count), timeout=GROWTH_TIMEOUT)
    for count in APPLICATIONS:  # their pods leave the lab's cores to the next rows
        lab.kubectl("delete", "namespace", f"bench-apps{count}", "--ignore-not-found", "--wait=false", check=False)


def growth_app(bench: Bench, run: int, lab: Lab) -> None:
    """redis through site.yml with its application check, then the same manifest the usual way in
    a namespace of its own, the class's provisioner running for both."""
    docs, manifest = redis_manifest(lab, BENCH_CLASSES[0]["storage_class_name"])
    ours = bench.play(run, "app_site", lab, "site.yml", "--tags", "provisioner,statefulset",
                      extra_vars=redis_vars(docs, "bench-redis"), timeout=GROWTH_TIMEOUT)
    # the usual way needs the class (and its provisioner) the role makes
    if ours["rc"] != 0 and lab.kubectl("get", "storageclass", BENCH_CLASSES[0]["storage_class_name"],
                                       check=False).returncode != 0:
        raise LabError("app: site.yml did not make the class the usual way's redis needs")
    lab.kubectl("delete", "namespace", "bench-redis-usual", "--ignore-not-found", "--wait=true", "--timeout=180s",
                timeout=210)
    bench.usual_app(run, lab, manifest, "bench-redis-usual", REDIS_PODS)
    for namespace in ("bench-redis", "bench-redis-usual"):
        lab.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)


if __name__ == "__main__":
    sys.exit(main())
