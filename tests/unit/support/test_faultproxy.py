"""The fault proxy ends with the process that started it (tests/support/faultproxy.py)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.support.lab import REPO
from tests.support.waiting import wait_for

# started the way FaultProxy.start starts mitmdump (its own session, the same prefix), `sleep` for it
STARTER = """
import subprocess, time
from tests.support.faultproxy import ENDS_WITH_STARTER
child = subprocess.Popen([*ENDS_WITH_STARTER, "sleep", "60"], start_new_session=True)
print(child.pid, flush=True)
time.sleep(60)
"""


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_the_proxy_ends_when_the_pytest_that_started_it_is_killed():
    """pytest killed by `timeout` runs no finalizer: the proxy must still end, and not while its
    starter lives. Without the prefix the stand-in outlives its killed starter (60 s)."""
    starter = subprocess.Popen([sys.executable, "-c", STARTER], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        child = int(starter.stdout.readline())
        time.sleep(0.5)
        assert _alive(child), "the stand-in proxy ended while its starter lived"
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        wait_for("the proxy to end with its starter", lambda: not _alive(child), timeout=10, interval=0.1)
    finally:
        starter.kill()
        starter.wait(timeout=10)
