"""The shared entry path (module_utils/module_entry.py): one place turns errors into fail_json."""
from __future__ import annotations

import errno
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.stateful.nfs.plugins.module_utils import module_entry as entry
from ansible_collections.stateful.nfs.plugins.module_utils import nfs_export_module
from ansible_collections.stateful.nfs.plugins.module_utils.exports import ExportsError
from ansible_collections.stateful.nfs.plugins.modules import nfs_export

SPEC = {"size": {"type": "int", "default": 1}}


@pytest.fixture
def run(capsys):
    """Run ``entry.run_module(SPEC, runner, ...)`` with ``args``; return (exit code, result)."""
    def _run(runner, args=None, diff=False, **kwargs):
        with patch_module_args(dict(args or {}, _ansible_diff=diff)), pytest.raises(SystemExit) as exc:
            entry.run_module(SPEC, runner, **kwargs)
        return exc.value.code, json.loads(capsys.readouterr().out)
    return _run


def test_a_module_error_fails_with_its_message_the_partial_outcome_and_its_details(run):
    def runner(module, done):
        done.update(changed=True, diff={"before": "", "after": "x"})
        raise entry.ModuleError("size: must be even, got 3", param="size")
    rc, result = run(runner, {"size": 3})
    assert rc == 1 and result["failed"] is True
    assert result["msg"] == "size: must be even, got 3" and result["param"] == "size"
    assert result["changed"] is True and "diff" not in result  # diff only in diff mode
    rc, result = run(runner, {"size": 3}, diff=True)
    assert rc == 1 and result["diff"] == {"before": "", "after": "x"}


def test_the_modules_own_errors_fail_it_other_exceptions_are_not_swallowed(run):
    def runner(module, done):
        raise ValueError(f"size {module.params['size']} is odd")
    rc, result = run(runner, errors=(ValueError,))
    assert rc == 1 and result["msg"] == "size 1 is odd" and not result.get("changed")
    with pytest.raises(ValueError):
        run(runner)


def test_the_result_is_the_runners_or_its_progress(run):
    rc, result = run(lambda module, done: done.update(changed=True, size=module.params["size"]))
    assert rc == 0 and result["changed"] is True and result["size"] == 1
    rc, result = run(lambda module, done: {"changed": False, "diff": {}})
    assert rc == 0 and result["changed"] is False and "diff" not in result


def test_failure_context_names_what_failed():
    expected = r"^cannot write /x: \[Errno 28\] No space left"
    with pytest.raises(entry.ModuleError, match=expected) as exc, entry.failure_context("cannot write /x", OSError):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert isinstance(exc.value.__cause__, OSError)
    with pytest.raises(KeyError), entry.failure_context("cannot write /x", OSError):
        raise KeyError("not ours")


@pytest.fixture
def export_module(capsys):
    def _run(**args):
        with patch_module_args(args), pytest.raises(SystemExit) as exc:
            nfs_export.main()
        return exc.value.code, json.loads(capsys.readouterr().out)
    return _run


def test_nfs_export_write_failure_names_dest_and_keeps_changed(export_module, tmp_path, monkeypatch):
    dest = tmp_path / "exports"
    dest.write_text("/srv/old *(ro)\n")

    def no_space(module, path, text):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(nfs_export_module, "_write", no_space)
    rc, result = export_module(path="/srv/nfs", clients=[{"host": "*", "options": ["ro"]}], dest=str(dest))
    assert rc == 1 and result["msg"] == f"cannot write {dest}: [Errno 28] No space left on device"
    assert result["changed"] is True and result["reload_needed"] is True and result["path"] == "/srv/nfs"
    assert dest.read_text() == "/srv/old *(ro)\n"


def test_nfs_export_refusals_go_through_the_entry(export_module, tmp_path):
    rc, result = export_module(path="/srv/nfs", clients=[{"host": "*"}], dest=str(tmp_path))
    assert rc == 1 and result["msg"] == f"dest {tmp_path} exists but is not a regular file"
    assert result["changed"] is False and result["lines"] == []
    rc, result = export_module(path="/srv/nfs", exclusive=True, clients=[{"host": "*"}],
                               dest=str(tmp_path / "exports"))
    assert rc == 1 and result["msg"].startswith("exclusive=true needs a marker")


def test_nfs_export_main_is_the_shared_entry(monkeypatch):
    seen = {}
    monkeypatch.setattr(nfs_export, "run_module", lambda *args, **kwargs: seen.update(args=args, kwargs=kwargs))
    nfs_export.main()
    assert seen["args"] == (nfs_export_module.NFS_EXPORT_OPTIONS, nfs_export_module.run_export)
    assert seen["kwargs"] == {"errors": (ExportsError,), "rules": nfs_export_module.NFS_EXPORT_RULES}
