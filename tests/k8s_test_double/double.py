"""The test double as one object: store + API server + controllers + DNS (+ state dir).

Use in-process (tests)::

    d = TestDouble(Config(pod_ready_delay=0.05)).start_in_thread()
    ...  # d.url, d.token, d.kubeconfig_dict()
    d.stop()
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import sys
import threading
import time

import yaml
from aiohttp import web

from .controllers import Controllers, R
from .dns import ClusterDNS
from .provisioner import Provisioner
from .server import GIT_VERSION, NOTICE, Api
from .store import Store

DEFAULT_NODES = ("lab-node-1", "lab-node-2", "lab-node-3")
BAD_IMAGE_MARKERS = (":does-not-exist", "invalid.example/")
CRASH_IMAGE_MARKERS = (":crashloop",)


@dataclasses.dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 0
    dns_port: int | None = 0  # None disables DNS
    token: str | None = None  # None -> generated
    state_dir: str | None = None
    kubeconfig: str | None = None
    pod_ready_delay: float = 1.0
    pod_termination_delay: float = 0.5
    tick: float = 0.1
    nodes: tuple = DEFAULT_NODES
    bad_image_markers: tuple = BAD_IMAGE_MARKERS
    crash_image_markers: tuple = CRASH_IMAGE_MARKERS
    cluster_domain: str = "cluster.local"
    nfs_server: str | None = None  # default when a provisioner Deployment has no NFS_SERVER env
    nfs_export: str | None = None  # default when it has no NFS_PATH env
    nfs_address_map: dict = dataclasses.field(default_factory=dict)  # NFS_SERVER value -> address to use
    nfs_timeout: float = 5.0
    provision_retry: float = 5.0
    check_nfs_mounts: bool = True  # kubelet emulation: NFS volumes must really answer a MOUNT
    persist: bool = True
    raise_controller_errors: bool = False
    quiet: bool = False


class TestDouble:
    __test__ = False  # not a pytest class

    def __init__(self, cfg: Config | None = None):
        self.cfg = cfg or Config()
        self.token = self.cfg.token or secrets.token_urlsafe(32)
        self.loop = None
        self.thread = None
        self.tasks = set()
        self.url = None
        self.dns_port = None
        self.nfs_mounts = {}  # (server, path) -> ("ok"|"err", message, loop time)
        self.nfs_mount_inflight = set()
        self.nfs_mount_reported = {}

    # -------------------------------------------------------------- helpers for components
    def log(self, msg):
        if not self.cfg.quiet:
            print(f"[k8s-test-double] {msg}", file=sys.stderr, flush=True)

    def loop_time(self):
        return self.loop.time()

    def kick(self):
        self.store.changed.set()

    def spawn(self, coro):
        t = self.loop.create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)
        return t

    async def check_nfs_mount(self, server, path):
        from .provisioner import NfsError, NfsExport
        host = self.cfg.nfs_address_map.get(server, server)

        def probe():
            with NfsExport(host, path, self.cfg.nfs_timeout):
                return True
        try:
            await asyncio.wait_for(self.loop.run_in_executor(None, probe), self.cfg.nfs_timeout * 3)
            self.nfs_mounts[(server, path)] = ("ok", "", self.loop.time())
        except Exception as exc:  # noqa: BLE001 - any failure is a failed mount
            msg = (str(exc) if isinstance(exc, NfsError) else f"{type(exc).__name__}: {exc}") if str(exc) else ""
            msg = msg or f"timed out after {self.cfg.nfs_timeout * 3:.0f}s mounting {server}:{path}"
            self.nfs_mounts[(server, path)] = ("err", msg, self.loop.time())
        finally:
            self.nfs_mount_inflight.discard((server, path))
            self.kick()

    def describe(self):
        c = dataclasses.asdict(self.cfg)
        c.pop("token", None)
        c["url"], c["dns_port"] = self.url, self.dns_port
        return c

    # -------------------------------------------------------------- lifecycle
    async def start(self):
        self.loop = asyncio.get_running_loop()
        self.store = Store()
        snap = os.path.join(self.cfg.state_dir, "objects.json") if self.cfg.state_dir else None
        if snap and self.cfg.persist and os.path.exists(snap):
            try:
                self.store.load(snap)
                self.log(f"restored {sum(len(b) for b in self.store.objects.values())} objects from {snap}")
            except Exception as exc:  # noqa: BLE001
                self.log(f"could not restore {snap}: {exc!r}; starting empty")
                self.store = Store()
        self.api = Api(self)
        self.controllers = Controllers(self)
        self.provisioner = Provisioner(self)
        self._ensure_nodes()
        self.runner = web.AppRunner(self.api.build_app(), access_log=None, shutdown_timeout=1.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.cfg.host, self.cfg.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://{self.cfg.host}:{port}"
        self.port = port
        if self.cfg.dns_port is not None:
            self.dns = ClusterDNS(self.store, self.cfg.cluster_domain)
            self.dns_port = await self.dns.start(self.cfg.host, self.cfg.dns_port)
        else:
            self.dns = None
        self.spawn(self._control_loop())
        if snap and self.cfg.persist:
            self.spawn(self._persist_loop(snap))
        self._write_state()
        self.log(f"{NOTICE} Serving {GIT_VERSION} at {self.url}"
                 + (f", DNS emulation ({self.cfg.cluster_domain}) on udp/tcp {self.cfg.host}:{self.dns_port}"
                    if self.dns else ""))
        return self

    def _ensure_nodes(self):
        for i, name in enumerate(self.cfg.nodes):
            if self.store.get(R["nodes"], None, name) is None:
                self.store.create(R["nodes"], None, {
                    "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                          "stateful-nfs.test-double/fake-node": "true"}},
                    "spec": {"podCIDR": f"10.244.{i + 1}.0/24"},
                    "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                               "message": "test double fake node (no kubelet runs)"}],
                               "addresses": [{"type": "InternalIP", "address": f"172.31.0.{i + 10}"},
                                             {"type": "Hostname", "address": name}],
                               "nodeInfo": {"kubeletVersion": GIT_VERSION, "osImage": "test double (fake node)",
                                            "containerRuntimeVersion": "none://test-double",
                                            "architecture": "amd64", "bootID": "", "kernelVersion": "none",
                                            "kubeProxyVersion": GIT_VERSION, "machineID": "", "operatingSystem":
                                            "linux", "systemUUID": ""}}},
                    "test-double", keep_status=True)

    async def _control_loop(self):
        while True:
            try:
                await asyncio.wait_for(self.store.changed.wait(), self.cfg.tick)
            except TimeoutError:
                pass
            self.store.changed.clear()
            for _ in range(20):  # bounded burst of reconcile passes
                before = self.store.rv
                self.controllers.reconcile()
                try:
                    self.provisioner.reconcile()
                except Exception as exc:
                    self.log(f"provisioner failed: {exc!r}")
                    if self.cfg.raise_controller_errors:
                        raise
                if self.store.rv == before:
                    break
                await asyncio.sleep(0)

    async def _persist_loop(self, path):
        while True:
            await asyncio.sleep(1.0)
            if self.store.dirty:
                try:
                    self.store.save(path)
                except OSError as exc:
                    self.log(f"could not save state to {path}: {exc}")

    def kubeconfig_dict(self):
        return {"apiVersion": "v1", "kind": "Config", "preferences": {},
                "clusters": [{"name": "stateful-nfs-test-double", "cluster": {"server": self.url}}],
                "users": [{"name": "stateful-nfs-test-double", "user": {"token": self.token}}],
                "contexts": [{"name": "stateful-nfs-test-double", "context": {
                    "cluster": "stateful-nfs-test-double", "user": "stateful-nfs-test-double",
                    "namespace": "default"}}],
                "current-context": "stateful-nfs-test-double"}

    @staticmethod
    def _atomic_write(path, text, mode=0o644):
        """Readers polling for the file never see it half-written."""
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        tmp = f"{path}.tmp{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)

    def _write_state(self):
        if self.cfg.state_dir:
            info = {"testDouble": True, "notice": NOTICE, "gitVersion": GIT_VERSION, "url": self.url,
                    "port": self.port, "pid": os.getpid(), "kubeconfig": self.cfg.kubeconfig,
                    "dns": {"host": self.cfg.host, "port": self.dns_port, "domain": self.cfg.cluster_domain}
                    if self.dns else None, "nodes": list(self.cfg.nodes),
                    "bad_image_markers": list(self.cfg.bad_image_markers),
                    "crash_image_markers": list(self.cfg.crash_image_markers)}
            sd = self.cfg.state_dir
            self._atomic_write(os.path.join(sd, "token"), self.token + "\n", 0o600)
            if self.dns:
                self._atomic_write(os.path.join(sd, "dns.json"), json.dumps(info["dns"], indent=2) + "\n")
            self._atomic_write(os.path.join(sd, "server.json"), json.dumps(info, indent=2) + "\n")
        if self.cfg.kubeconfig:  # last: its appearance means everything is ready
            self._atomic_write(self.cfg.kubeconfig,
                               "# kubeconfig of the stateful.nfs TEST DOUBLE (not a Kubernetes cluster)\n"
                               + yaml.safe_dump(self.kubeconfig_dict(), sort_keys=False), 0o600)

    async def aclose(self):
        for t in list(self.tasks):
            t.cancel()
        for t in list(self.tasks):
            try:
                await t
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        if self.dns:
            self.dns.stop()
        await self.runner.cleanup()
        if self.cfg.state_dir and self.cfg.persist:
            try:
                self.store.save(os.path.join(self.cfg.state_dir, "objects.json"))
            except OSError:
                pass

    # -------------------------------------------------------------- thread mode (tests)
    def start_in_thread(self, timeout=10):
        ready = threading.Event()
        err = []

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except Exception as exc:  # noqa: BLE001
                err.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.aclose())
            loop.close()

        self.thread = threading.Thread(target=run, name="k8s-test-double", daemon=True)
        self.thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("test double did not start in time")
        if err:
            raise err[0]
        return self

    def call(self, fn, timeout=10):
        """Run fn() inside the server loop (for white-box test setup)."""
        async def wrap():
            return fn()
        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(timeout)

    def stop(self, timeout=10):
        if self.loop and self.thread:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout)


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
