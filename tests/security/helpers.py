"""Small helpers shared by the security tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / ".collections"
PYTHON = sys.executable
ANSIBLE_PLAYBOOK = str(Path(PYTHON).with_name("ansible-playbook"))
ROLES = sorted(p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir())


def clean_env(tmp, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "ANSIBLE_", "KUBECONFIG"))}
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(Path(tmp) / "ansible-local"),
                "ANSIBLE_REMOTE_TEMP": str(Path(tmp) / "ansible-remote")})
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def run_playbook(tmp, plays, args=(), timeout=150, json_out=True, **env):
    """ansible-playbook ``plays`` against localhost (connection local); returns the CompletedProcess
    (and, with ``json_out``, the parsed ``ansible.builtin.json`` output as ``.json``)."""
    tmp = Path(tmp)
    book = tmp / "play.yml"
    book.write_text(json.dumps(plays))
    inv = tmp / "inventory.ini"
    inv.write_text(f"localhost ansible_connection=local ansible_python_interpreter={PYTHON}\n")
    if json_out:
        env.setdefault("ANSIBLE_STDOUT_CALLBACK", "ansible.builtin.json")
        env.setdefault("ANSIBLE_LOAD_CALLBACK_PLUGINS", "1")
    p = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inv), *args, str(book)], cwd=tmp,
                       env=clean_env(tmp, **env), capture_output=True, text=True, timeout=timeout, check=False)
    p.json = None
    if json_out:
        try:
            p.json = json.loads(p.stdout)
        except ValueError:
            raise AssertionError(f"no JSON output, rc={p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}") from None
    return p


def task_results(out):
    """[(task name, host result)] of a JSON-callback run, in order."""
    return [(t["task"]["name"], r) for play in out["plays"] for t in play["tasks"] for r in t["hosts"].values()]


def load_yaml(path):
    return yaml.safe_load(Path(path).read_text())


def iter_tasks(tasks):
    """Every task of a task list, descending into block/rescue/always."""
    for t in tasks or []:
        if not isinstance(t, dict):
            continue
        if "block" in t:
            yield from iter_tasks(t.get("block"))
            yield from iter_tasks(t.get("rescue"))
            yield from iter_tasks(t.get("always"))
        else:
            yield t
