"""ansible-playbook runs as the verify suites drive them: real runs from the checkout, their
JSON output (callback ansible.posix.json) parsed, bounded in time."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK_TIMEOUT = 900  # seconds, per run


class Run:
    """One ansible-playbook run: rc, the JSON callback's document, wall time."""

    def __init__(self, rc: int, stdout: str, stderr: str, seconds: float, argv: list[str]):
        self.rc, self.seconds, self.argv, self.stderr = rc, seconds, argv, stderr
        try:
            self.doc = json.loads(stdout)
        except json.JSONDecodeError:
            self.doc = {"plays": [], "stats": {}, "raw": stdout[-4000:]}

    def tasks(self):
        for play in self.doc.get("plays", []):
            yield from play.get("tasks", [])

    def results(self, task_name: str) -> dict:
        """{host: result} of every task with this name, role prefix or not (the last one wins)."""
        found: dict = {}
        for task in self.tasks():
            name = task["task"]["name"]
            if name == task_name or name.endswith(" : " + task_name):
                found.update(task["hosts"])
        return found

    @property
    def day2(self) -> dict:
        """The ``day2_result`` of a day-2 playbook's final ``Summary`` task."""
        summaries = self.results("Summary")
        assert summaries, f"no Summary task in {self.argv}: {self.failure()}"
        return next(iter(summaries.values()))["msg"]["day2_result"]

    def failure(self) -> str:
        """Every failed task's message (with each failed loop item's), else the raw tail of the output."""
        out = [f"{task['task']['name']} on {host}: {res.get('msg')}" + "".join(
                   f" | item {item.get('item')!r}: {item.get('msg')}" for item in res.get("results") or []
                   if isinstance(item, dict) and item.get("failed"))
               for task in self.tasks() for host, res in task["hosts"].items()
               if res.get("failed") or res.get("unreachable")]
        return "\n".join(out) or (str(self.doc.get("raw", ""))[-2000:] + self.stderr[-2000:])

    def failed_tasks(self) -> list[str]:
        return [task["task"]["name"] for task in self.tasks() if any(r.get("failed") for r in task["hosts"].values())]

    def changed(self) -> dict:
        """{host: changed count} from the play recap."""
        return {h: s.get("changed", 0) for h, s in self.doc.get("stats", {}).items()}

    def changed_tasks(self) -> list[str]:
        return [f"{task['task']['name']} on {host}" for task in self.tasks()
                for host, res in task["hosts"].items() if res.get("changed")]


def argv_env(inventory: str, playbook: str, tags: str | None = None, extra: dict | None = None,
             check: bool = False) -> tuple[list, dict]:
    """The command line and environment of a run from the checkout, with the JSON callback
    (``check``: with --check --diff)."""
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, str(REPO / playbook)]
    if check:
        argv += ["--check", "--diff"]
    if tags:
        argv += ["--tags", tags]
    if extra:
        argv += ["-e", json.dumps(extra)]
    # The repo's ansible.cfg (cwd), not molecule's: its profile_tasks lines would break the
    # JSON document on stdout.
    env = {k: v for k, v in os.environ.items() if k not in ("ANSIBLE_CONFIG", "ANSIBLE_CALLBACKS_ENABLED")}
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0", ANSIBLE_PIPELINING="True",
               ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".collections")))
    return argv, env


class Background:
    """A run started by ``Player.start``: ``proc`` (its Popen), ``pid``, ``poll()``, ``finish()``."""

    def __init__(self, proc: subprocess.Popen, out, err, argv: list[str], started: float):
        self.proc, self._out, self._err, self.argv, self.started = proc, out, err, argv, started

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def finish(self, timeout: float = PLAYBOOK_TIMEOUT) -> Run:
        """Wait for the run (bounded) and return it."""
        self.proc.wait(timeout=timeout)
        self._out.seek(0)
        self._err.seek(0)
        run = Run(self.proc.returncode, self._out.read(), self._err.read(), time.monotonic() - self.started, self.argv)
        self._out.close()
        self._err.close()
        return run


class Player:
    """``play(playbook, tags=None, **extra_vars)`` runs to the end; ``start(...)`` runs in the
    background (its own process group, killed at ``close()`` if still running). Every run's
    wall time is kept for the suite's summary."""

    def __init__(self, inventory: str, timeout: float = PLAYBOOK_TIMEOUT):
        self.inventory, self.timeout = inventory, timeout
        self.timings: list[tuple[str, float]] = []
        self.started: list[subprocess.Popen] = []

    def play(self, playbook: str, tags: str | None = None, check: bool = False, **extra) -> Run:
        argv, env = argv_env(self.inventory, playbook, tags, extra, check)
        start = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout, check=False,
                              env=env, cwd=REPO)
        run = Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start, argv)
        self.timings.append((f"{playbook} {'--check ' if check else ''}{f'--tags {tags} ' if tags else ''}"
                             f"{json.dumps(extra) if extra else ''}", run.seconds))
        return run

    def start(self, playbook: str, tags: str | None = None, **extra) -> Background:
        """Start a run in the background, in its own process group (so that a test can SIGKILL
        the whole run); its output goes to a temporary file, read by ``Background.finish``."""
        argv, env = argv_env(self.inventory, playbook, tags, extra)
        out = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  # closed by Background.finish
        err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  # closed by Background.finish
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True, env=env, cwd=REPO, start_new_session=True)
        self.started.append(proc)
        return Background(proc, out, err, argv, time.monotonic())

    def close(self) -> None:
        for proc in self.started:  # never leave a run behind, whatever the test did
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        print("\nplaybook wall times:")
        for name, seconds in self.timings:
            print(f"  {seconds:7.1f} s  {name}")


def run_play_json(inventory: str | list[str], playbook: str, extra_vars: dict, check: bool = False,
                  collections: str | None = None, timeout: float = PLAYBOOK_TIMEOUT,
                  tags: str | None = None) -> tuple[int, dict | None, str]:
    """One ansible-playbook run of ``playbook`` (a path) with ``extra_vars`` (passed as a file),
    the JSON callback on stdout: ``(rc, parsed JSON or None, the output's tails)``. For the
    molecule suites that run a role's play on the scenario's inventory (``check``: --check --diff;
    ``inventory`` may be several sources; ``tags``: --tags)."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.json",
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_PIPELINING="True",
               ANSIBLE_COLLECTIONS_PATH=collections or str(REPO / ".collections"))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(extra_vars, handle)
    sources = [inventory] if isinstance(inventory, str) else list(inventory)
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), *[a for src in sources for a in ("-i", src)],
            "-e", "@" + handle.name, playbook]
    if check:
        argv += ["--check", "--diff"]
    if tags:
        argv += ["--tags", tags]
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    finally:
        os.unlink(handle.name)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    return proc.returncode, data, proc.stdout + proc.stderr


def molecule_play(playbook: str, extra_vars: dict, check: bool = False, inventory: str | list[str] | None = None,
                  timeout: float = PLAYBOOK_TIMEOUT, tags: str | None = None) -> tuple[int, dict | None, str]:
    """:func:`run_play_json` on the inventory molecule made (``MOLECULE_INVENTORY_FILE``, or
    ``inventory``); the test is skipped, naming the way to run it, outside ``molecule verify``."""
    inventory = inventory or os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        import pytest
        pytest.skip("needs MOLECULE_INVENTORY_FILE: run through `molecule verify`")
    return run_play_json(inventory, playbook, extra_vars, check=check, timeout=timeout, tags=tags)
