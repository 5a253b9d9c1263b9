"""The nfs_volume_check module (roles/k8s_statefulset_nginx's NFS-side volume check), run through
its main(). The libnfs session is replaced by a reader of the export's files on this disk, so
the write and read-back logic runs without a server; the real session is exercised against
NFS-Ganesha by the default, faults and k8s_real scenarios (verify method nfs) and the session
program itself by test_nfs_libnfs_session.py."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.stateful.nfs.plugins.module_utils import nfs_volume_check_module
from ansible_collections.stateful.nfs.plugins.module_utils.nfs_probe import ProbeFailure
from ansible_collections.stateful.nfs.plugins.modules import nfs_volume_check

EXPORT = "/srv/nfs"


class Root(type(Path())):
    """tmp_path, with the calls made to the session."""

    calls: list


@pytest.fixture
def root(tmp_path, monkeypatch):
    """The export's directory on "the server" (tmp_path/srv/nfs); reads "through NFS" come from it."""
    calls = []

    def fake_read(server, export, paths, node, timeout, python):
        calls.append((server, export, list(paths)))
        out = {}
        for path in paths:
            if "FAIL" in path:
                out[path] = (None, "nfs_open failed: NFS3ERR_ACCES")
                continue
            local = tmp_path / export.lstrip("/") / path.lstrip("/")
            out[path] = (local.read_text(), None) if local.exists() else (None, "No such file or directory")
        return out
    monkeypatch.setattr(nfs_volume_check_module, "read_through_nfs", fake_read)
    (tmp_path / "srv" / "nfs").mkdir(parents=True)
    root = Root(tmp_path)
    root.calls = calls
    return root


def volume(root, pod, make_dir=True, name=None):
    path = f"{EXPORT}/{name or 'default-www-' + pod}"
    local = root / path.lstrip("/")
    if make_dir:
        local.mkdir(parents=True)
    return {"name": pod, "directory": str(local), "path": path, "content": f"hello from {pod}"}


def run(capsys, volumes, check_mode=False, diff=False, **over):
    args = {"volumes": volumes, "file": "index.html", "write": True, "export": EXPORT,
            "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    args.update(over)
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        nfs_volume_check.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def rows(result):
    return [(r["name"], r["directory_exists"], r["written"], r["nfs_content"], r["nfs_error"]) for r in result["volumes"]]


def test_writes_each_line_reads_it_back_in_one_session_and_is_idempotent(root, capsys):
    vols = [volume(root, "web-0"), volume(root, "web-1")]
    rc, out = run(capsys, vols, diff=True)
    assert rc == 0 and out["changed"] is True
    assert rows(out) == [("web-0", True, True, "hello from web-0", None), ("web-1", True, True, "hello from web-1", None)]
    written = Path(vols[0]["directory"]) / "index.html"
    assert written.read_text() == "hello from web-0\n" and stat.S_IMODE(written.stat().st_mode) == 0o644
    assert out["diff"][0] == {"before_header": str(written), "after_header": str(written), "before": "",
                              "after": "hello from web-0\n"}
    # One session for both volumes, at the export, each file at its path in it.
    assert root.calls == [("127.0.0.1", EXPORT, ["/default-www-web-0/index.html", "/default-www-web-1/index.html"])]
    rc, again = run(capsys, vols)
    assert rc == 0 and again["changed"] is False and "diff" not in again
    assert [r["nfs_content"] for r in again["volumes"]] == ["hello from web-0", "hello from web-1"]


def test_check_mode_writes_nothing_and_reads_only_what_would_stay(root, capsys):
    vols = [volume(root, "web-0")]
    rc, out = run(capsys, vols, check_mode=True)
    assert rc == 0 and out["changed"] is True and out["volumes"][0]["written"] is True
    assert not (Path(vols[0]["directory"]) / "index.html").exists()
    assert out["volumes"][0]["nfs_content"] is None and root.calls == []


def test_missing_directory_and_nfs_error_are_reported_not_raised(root, capsys):
    vols = [volume(root, "web-0", make_dir=False), volume(root, "web-1", name="FAIL-web-1")]
    rc, out = run(capsys, vols)
    assert rc == 0
    first, second = out["volumes"]
    assert first["directory_exists"] is False and first["written"] is False and first["nfs_content"] is None
    assert second["directory_exists"] is True and second["nfs_content"] is None
    assert second["nfs_error"] == "nfs_open failed: NFS3ERR_ACCES"


def test_directories_only_when_not_writing(root, capsys):
    vols = [volume(root, "web-0")]
    rc, out = run(capsys, vols, write=False)
    assert rc == 0 and out["changed"] is False and out["volumes"][0]["directory_exists"] is True
    assert not (Path(vols[0]["directory"]) / "index.html").exists() and root.calls == []


@pytest.mark.parametrize("over, message", [
    ({"file": "a/b"}, "file must be a file name"),
    ({"export": "srv/nfs"}, "export must be an absolute path"),
    ({"timeout": 0}, "timeout must be at least 1 second"),
])
def test_refusals_name_the_option(root, capsys, over, message):
    rc, out = run(capsys, [volume(root, "web-0")], **over)
    assert rc == 1 and message in out["msg"]


def test_a_volume_outside_the_export_or_without_content_is_refused_naming_it(root, capsys):
    outside = dict(volume(root, "web-0"), path="/srv/other/x")
    rc, out = run(capsys, [volume(root, "web-1"), outside])
    assert rc == 1 and out["msg"] == "volumes[1].path '/srv/other/x' is not the export '/srv/nfs' or a directory under it"
    rc, out = run(capsys, [dict(volume(root, "web-2"), content=None)])
    assert rc == 1 and out["msg"] == "volumes[0]: content and directory are required with write=true"


def test_a_session_that_cannot_run_fails_the_module(root, capsys, monkeypatch):
    def no_libnfs(*args):
        raise ProbeFailure("tool_missing", "the libnfs shared library is not installed", "tools")
    monkeypatch.setattr(nfs_volume_check_module, "read_through_nfs", no_libnfs)
    rc, out = run(capsys, [volume(root, "web-0")])
    assert rc == 1 and out["msg"] == "reading the volumes through NFS: the libnfs shared library is not installed"
    assert out["reason"] == "tool_missing" and out["changed"] is True


def test_read_only_reads_through_nfs_without_a_directory_and_writes_nothing(root, capsys):
    vol = volume(root, "web-0")
    (Path(vol["directory"]) / "index.html").write_text("stored before\n")
    rc, out = run(capsys, [{"name": "web-0", "path": vol["path"]}], write=False, read=True)
    assert rc == 0 and out["changed"] is False
    assert rows(out) == [("web-0", None, False, "stored before", None)]
    # The volume's own path as the export: the file is at the export's root.
    rc, out = run(capsys, [{"name": "web-0", "path": vol["path"]}], write=False, read=True, export=vol["path"])
    assert root.calls[-1] == ("127.0.0.1", vol["path"], ["/index.html"])
