"""roles/k8s_statefulset_nginx/files/volume_check.py, run as the role runs it (one process, JSON
argument). nfs-cat is replaced on PATH by a small script that maps nfs://127.0.0.1<path> to
<export root><path>, so the read-back path is exercised without a server; the real one is
exercised against NFS-Ganesha by the k8s_lab, default and faults scenarios."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles/k8s_statefulset_nginx/files/volume_check.py"


@pytest.fixture
def env(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "nfs-cat"
    # nfs://127.0.0.1/srv/nfs/x -> <export>/srv/nfs/x ; "FAIL" in the URL -> an NFS error
    fake.write_text(f"""#!/bin/sh
case "$1" in *FAIL*) echo "nfs_open failed: NFS3ERR_ACCES" >&2; exit 1;; esac
exec cat "{export}${{1#nfs://127.0.0.1}}"
""")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return {"export": export, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}


def volume(env, pod, make_dir=True, nfs_path=None):
    path = nfs_path or f"/srv/nfs/default-nginx-pvc-{pod}"
    local = env["export"] / path.lstrip("/")
    if make_dir:
        local.mkdir(parents=True)
    return {"pod": pod, "dir": str(local), "nfs_path": path, "line": f"hello from {pod}"}


def run(env, spec):
    done = subprocess.run([sys.executable, str(SCRIPT), json.dumps(spec)], capture_output=True, text=True,
                          env=dict(os.environ, PATH=env["PATH"]), timeout=60, check=False)
    return done.returncode, json.loads(done.stdout)


def spec(volumes, **over):
    s = {"file": "index.html", "write": True, "check": False, "nfs_host": "127.0.0.1", "volumes": volumes}
    s.update(over)
    return s


def test_writes_each_line_reads_it_back_and_is_idempotent(env):
    vols = [volume(env, "web-0"), volume(env, "web-1")]
    rc, out = run(env, spec(vols))
    assert rc == 0 and out["changed"] is True
    assert [(r["pod"], r["dir_exists"], r["written"], r["nfs_content"], r["nfs_error"]) for r in out["volumes"]] == [
        ("web-0", True, True, "hello from web-0", None), ("web-1", True, True, "hello from web-1", None)]
    written = Path(vols[0]["dir"]) / "index.html"
    assert written.read_text() == "hello from web-0\n"
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    rc, again = run(env, spec(vols))
    assert rc == 0 and again["changed"] is False
    assert [r["written"] for r in again["volumes"]] == [False, False]
    assert [r["nfs_content"] for r in again["volumes"]] == ["hello from web-0", "hello from web-1"]


def test_check_mode_writes_nothing(env):
    vols = [volume(env, "web-0")]
    rc, out = run(env, spec(vols, check=True))
    assert rc == 0 and out["changed"] is True and out["volumes"][0]["written"] is True
    assert not (Path(vols[0]["dir"]) / "index.html").exists()
    assert out["volumes"][0]["nfs_content"] is None


def test_missing_directory_and_nfs_error_are_reported_not_raised(env):
    vols = [volume(env, "web-0", make_dir=False), volume(env, "web-1", nfs_path="/srv/nfs/FAIL-web-1")]
    rc, out = run(env, spec(vols))
    assert rc == 0
    first, second = out["volumes"]
    assert first["dir_exists"] is False and first["written"] is False and first["nfs_content"] is None
    assert second["dir_exists"] is True and second["nfs_content"] is None
    assert "NFS3ERR_ACCES" in second["nfs_error"] and "nfs-cat nfs://127.0.0.1/srv/nfs/FAIL-web-1/index.html" in second["nfs_error"]


def test_directories_only_when_not_writing(env):
    vols = [volume(env, "web-0")]
    rc, out = run(env, spec(vols, write=False))
    assert rc == 0 and out["changed"] is False
    assert out["volumes"][0]["dir_exists"] is True and out["volumes"][0]["nfs_content"] is None
    assert not (Path(vols[0]["dir"]) / "index.html").exists()


@pytest.mark.parametrize("arg", ["not json", json.dumps({"volumes": []}), json.dumps({"file": "a/b", "volumes": []})])
def test_bad_argument_exits_2_with_a_message(env, arg):
    done = subprocess.run([sys.executable, str(SCRIPT), arg], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and json.loads(done.stdout)["error"].startswith("bad argument")
