"""The lab's build stops with one line naming the component and its log when the Go toolchain
is missing or the module proxy fails (tests/lab/build-binaries.sh). Nothing is built: the
proxy is a closed loopback port and the caches are empty temporary directories."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "tests" / "lab" / "build-binaries.sh"


def run_build(tmp_path: Path, env: dict, component: str = "provisioner") -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LAB_NAME": "snfs-buildtest",
            "SNFS_LAB_CACHE": str(tmp_path / "cache"), "GOMODCACHE": str(tmp_path / "gomod"),
            "GOCACHE": str(tmp_path / "gocache"), "SNFS_BUILD_TIMEOUT": "120"}
    return subprocess.run(["bash", str(SCRIPT), component], env={**base, **env}, capture_output=True, text=True,
                          timeout=180, check=False)


def test_missing_go_toolchain_is_named(tmp_path):
    no_go = ":".join(p for p in os.environ["PATH"].split(":") if not (Path(p) / "go").exists())
    result = run_build(tmp_path, {"PATH": no_go})
    assert result.returncode != 0
    assert "the Go toolchain is missing" in result.stderr, result.stderr
    assert result.stdout == ""


@pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain (make test's machines have Go 1.26)")
def test_module_proxy_failure_names_the_component_and_its_log(tmp_path):
    result = run_build(tmp_path, {"GOPROXY": "http://127.0.0.1:9", "GOSUMDB": "off", "GOTOOLCHAIN": "local"})
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert "building provisioner failed" in errors[0] and "build-provisioner.log" in errors[0], errors
    assert "127.0.0.1:9" in errors[0] or "connection refused" in errors[0], errors
    log = REPO / ".lab" / "labs" / "snfs-buildtest" / "logs" / "build-provisioner.log"
    assert log.is_file() and "127.0.0.1:9" in log.read_text()
    assert not list((tmp_path / "cache" / "bin").glob("provisioner-*")), "a failed build left a directory"
