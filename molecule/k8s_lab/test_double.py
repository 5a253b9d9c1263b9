#!/usr/bin/env python3
"""Start or stop the lab cluster test double for the k8s_lab scenario.

    test_double.py start --repo DIR --state-dir DIR [--timeout S]
    test_double.py stop  --state-dir DIR [--timeout S]
    test_double.py status --state-dir DIR

`start` wipes the double's data dir (a fresh API each time), picks two free loopback ports (API and DNS), starts
`python -m tests.k8s_test_double` in its own session in the background, waits
(bounded) until its /version answers through the kubeconfig it wrote, and prints
one JSON line: pid, kubeconfig, api_port, dns_port, git_version. It is idempotent:
a running double recorded in the state dir is reused.

`stop` sends SIGTERM to the process group it started (recorded pid only), waits
(bounded), then SIGKILL. Only the recorded pid is ever signalled.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists"; treat it as gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _version(kubeconfig: Path) -> str:
    import kubernetes.client
    import kubernetes.config

    api = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    try:
        info = kubernetes.client.VersionApi(api).get_code(_request_timeout=(2, 5))
        return info.git_version
    finally:
        api.close()


def start(args: argparse.Namespace) -> int:
    state = Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    record = state / "launcher.json"
    if record.exists():
        info = json.loads(record.read_text())
        if _alive(info["pid"]):
            print(json.dumps({**info, "changed": False}))
            return 0
    kubeconfig = state / "kubeconfig"
    kubeconfig.unlink(missing_ok=True)
    # A fresh start is a fresh API: no objects left from an earlier run (they would
    # point at an NFS server container that no longer exists).
    shutil.rmtree(state / "data", ignore_errors=True)
    api_port, dns_port = _free_port(), _free_port()
    log = open(state / "test-double.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.k8s_test_double", "--state-dir", str(state / "data"),
         "--kubeconfig", str(kubeconfig), "--port", str(api_port), "--dns-port", str(dns_port)],
        cwd=args.repo, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    info = {"pid": proc.pid, "kubeconfig": str(kubeconfig), "api_port": api_port,
            "dns_port": dns_port, "log": str(state / "test-double.log")}
    record.write_text(json.dumps(info))
    deadline = time.monotonic() + args.timeout
    last_error = "kubeconfig not written yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (state / "test-double.log").read_text(errors="replace")[-2000:]
            print(f"the lab cluster test double exited with {proc.returncode}:\n{tail}", file=sys.stderr)
            return 1
        if kubeconfig.exists():
            try:
                info["git_version"] = _version(kubeconfig)
                record.write_text(json.dumps(info))
                print(json.dumps({**info, "changed": True}))
                return 0
            except Exception as exc:  # noqa: BLE001 - retried until the deadline
                last_error = str(exc)
        time.sleep(0.3)
    print(f"the lab cluster test double did not answer within {args.timeout}s: {last_error}",
          file=sys.stderr)
    _stop_pid(proc.pid, 10)
    return 1


def _stop_pid(pid: int, timeout: float) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop(args: argparse.Namespace) -> int:
    record = Path(args.state_dir) / "launcher.json"
    if not record.exists():
        print(json.dumps({"changed": False, "msg": "no test double recorded"}))
        return 0
    info = json.loads(record.read_text())
    was_alive = _alive(info["pid"])
    if was_alive:
        _stop_pid(info["pid"], args.timeout)
    record.unlink()
    print(json.dumps({"changed": was_alive, "pid": info["pid"]}))
    return 0


def status(args: argparse.Namespace) -> int:
    record = Path(args.state_dir) / "launcher.json"
    info = json.loads(record.read_text()) if record.exists() else {}
    info["running"] = bool(info) and _alive(info["pid"])
    print(json.dumps(info))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    return {"start": start, "stop": stop, "status": status}[args.action](args)


if __name__ == "__main__":
    sys.exit(main())
