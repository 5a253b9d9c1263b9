"""The fault proxy: mitmproxy's ``mitmdump`` in reverse mode in front of the lab's kube-apiserver,
with the addon tests/support/faultproxy_addon.py, which injects HTTP errors and dropped
connections by rule and counts what passed (issue 11, section 3: faults through a well-kept
fault-injecting proxy, not our own emulation).

mitmproxy lives in a venv of its own, .venv-faultproxy (requirements-faultproxy.txt, `make
faultproxy`): its pins conflict with ansible-lint's. One proxy per test session, on a free
loopback port; upstream TLS is verified against the lab's CA, clients verify the proxy against
mitmproxy's own CA (``ca_cert``), generated in the proxy's scratch directory. Every call is
bounded; ``stop()`` ends the process (and only it), and it ends with the process that started it.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.lab import REPO

MITMDUMP = Path(os.environ.get("SNFS_MITMDUMP") or REPO / ".venv-faultproxy" / "bin" / "mitmdump")
ADDON = Path(__file__).with_name("faultproxy_addon.py")
TOKEN_HEADER = "X-Faultproxy-Token"
# setpriv (util-linux) --pdeathsig: the proxy gets SIGTERM when the process that started it ends,
# so a pytest killed by `timeout` (no finalizer runs) leaves no mitmdump behind
ENDS_WITH_STARTER = ("setpriv", "--pdeathsig", "TERM", "--")
LISTENING = re.compile(r"listening at (127\.0\.0\.1):(\d+)")


class FaultProxyError(RuntimeError):
    """The proxy could not be started or did not answer."""


class FaultProxy:
    """One mitmdump process. ``url`` and ``ca_cert`` are what a client (a kubeconfig) needs."""

    def __init__(self, upstream: str, upstream_ca: Path, workdir: Path):
        self.upstream = upstream.rstrip("/")
        self.upstream_ca = Path(upstream_ca)
        self.workdir = Path(workdir)
        self.token = secrets.token_hex(16)
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.log = self.workdir / "mitmdump.log"

    @property
    def ca_cert(self) -> Path:
        """mitmproxy's CA certificate (PEM): what clients of the proxy trust."""
        return self.workdir / "conf" / "mitmproxy-ca-cert.pem"

    def start(self, timeout: float = 60) -> FaultProxy:
        if not MITMDUMP.is_file():
            raise FaultProxyError(f"{MITMDUMP} is missing: run `make faultproxy` (part of `make deps`)")
        (self.workdir / "conf").mkdir(parents=True, exist_ok=True)
        cmd = [*ENDS_WITH_STARTER, str(MITMDUMP), "--mode", f"reverse:{self.upstream}", "--listen-host", "127.0.0.1",
               "--listen-port", "0", "-s", str(ADDON),
               "--set", f"confdir={self.workdir / 'conf'}",
               "--set", f"ssl_verify_upstream_trusted_ca={self.upstream_ca}",
               "--set", f"faultproxy_token={self.token}",
               # keep the Host header the client sent to the proxy out of the upstream request
               "--set", "keep_host_header=false",
               "--set", "flow_detail=0", "--set", "termlog_verbosity=info",
               # no flows kept in memory beyond what the hooks need, no HTTP/2 or QUIC
               "--set", "http2=false", "--set", "http3=false"]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=self.workdir, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = LISTENING.search(self.log.read_text(errors="replace"))
            if found:
                self.url = f"https://{found.group(1)}:{found.group(2)}"
                break
            if self.proc.poll() is not None:
                raise FaultProxyError(f"mitmdump exited {self.proc.returncode}: {self.log_tail()}")
            time.sleep(0.1)
        else:
            self.stop()
            raise FaultProxyError(f"mitmdump did not listen within {timeout:.0f} s: {self.log_tail()}")
        while not self.ca_cert.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.clear_faults()  # the first answer: the proxy and its addon are up
        return self

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)

    # ------------------------------------------------------------------ control endpoints
    def _control(self, method: str, path: str, body: object = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={TOKEN_HEADER: self.token, "Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),  # no proxy from the environment
                                             urllib.request.HTTPSHandler(context=ssl.create_default_context(
                                                 cafile=str(self.ca_cert))))
        try:
            with opener.open(req, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def _ok(self, method: str, path: str, body: object = None, want: int = 200) -> dict:
        code, answer = self._control(method, path, body)
        if code != want:
            raise FaultProxyError(f"{method} {path} answered {code}: {answer}")
        return answer

    def add_fault(self, **rule) -> list[dict]:
        """Add a rule (tests/support/faultproxy_addon.py documents its keys); returns every rule."""
        return self._ok("POST", "/_faultproxy/faults", rule, want=201)["faults"]

    def faults(self) -> list[dict]:
        """Every rule, with ``fired`` (requests it acted on) and ``count`` (what is left)."""
        return self._ok("GET", "/_faultproxy/faults")["faults"]

    def clear_faults(self) -> None:
        self._ok("DELETE", "/_faultproxy/faults")

    def stats(self) -> dict:
        """{"requests", "by_method", "by_status", "faults_fired"} since the last reset."""
        return self._ok("GET", "/_faultproxy/stats")

    def reset_stats(self) -> None:
        self._ok("POST", "/_faultproxy/stats/reset")
