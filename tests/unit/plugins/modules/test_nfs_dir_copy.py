"""The nfs_dir_copy and nfs_dir_checksums modules, run through their main() on a temporary tree:
the copy is the source's content (files, symlinks, modes), streamed (a file larger than the
memory a read may take), atomic (an interrupted run's partial directory is never a finished copy
and is replaced by the next run), idempotent, bounded in time, and refuses a source that is not
its manifest's before writing anything."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.stateful.nfs.plugins.module_utils import dir_checksums, nfs_dir_copy_module
from ansible_collections.stateful.nfs.plugins.modules import nfs_dir_checksums, nfs_dir_copy


def run(capsys, main, check_mode=False, diff=False, **args):
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def tree(tmp_path):
    src = tmp_path / "export" / "ns-www-web-0-pvc-1"
    (src / "sub").mkdir(parents=True)
    (src / "owner.txt").write_text("web-0\n")
    (src / "sub" / "data.bin").write_bytes(os.urandom(3 * dir_checksums.BLOCK + 17))
    os.chmod(src / "owner.txt", 0o640)
    os.symlink("sub/data.bin", src / "link")
    os.mkfifo(src / "fifo")
    return src


def listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_copies_content_atomically_with_its_manifest_and_converges(tmp_path, capsys):
    src = tree(tmp_path)
    dest = tmp_path / "backups" / "b1" / "www-web-0"
    fields = {"namespace": "ns", "ordinal": 0, "crash_consistent": False}
    rc, dry = run(capsys, nfs_dir_copy.main, check_mode=True, diff=True, src=str(src), dest=str(dest), fields=fields)
    assert rc == 0 and dry["changed"] is True and not (tmp_path / "backups").exists()
    assert dry["diff"]["before"]["state"] == "absent"

    rc, out = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(dest), fields=fields)
    assert rc == 0 and out["changed"] is True and out["copied"] is True, out
    assert dir_checksums.checksum_list(str(dest)) == dir_checksums.checksum_list(str(src))
    assert out["list_sha256"] == dry["list_sha256"] == dir_checksums.summary(dir_checksums.checksum_list(str(src)))["list_sha256"]
    assert out["files"] == 3 and out["bytes"] == 3 * dir_checksums.BLOCK + 17 + 6 and out["skipped"] == ["fifo"]
    assert os.readlink(dest / "link") == "sub/data.bin"
    assert stat.S_IMODE((dest / "owner.txt").stat().st_mode) == 0o640
    manifest = json.loads((tmp_path / "backups" / "b1" / "www-web-0.manifest.json").read_text())
    assert manifest["namespace"] == "ns" and manifest["crash_consistent"] is False and manifest["ordinal"] == 0
    assert manifest["source_directory"] == str(src) and manifest["list_sha256"] == out["list_sha256"]
    text = "".join(f"{v}  {k}\n" for k, v in sorted(manifest["checksums"].items()))
    assert hashlib.sha256(text.encode()).hexdigest() == manifest["list_sha256"]
    assert listing(tmp_path / "backups" / "b1") == ["www-web-0", "www-web-0.manifest.json", "www-web-0/link",
                                                     "www-web-0/owner.txt", "www-web-0/sub", "www-web-0/sub/data.bin"]
    # finished: recognised by its manifest, not copied again, even when the source changed since
    (src / "owner.txt").write_text("changed\n")
    rc, again = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(dest), fields=fields)
    assert rc == 0 and again["changed"] is False and again["list_sha256"] == out["list_sha256"]
    # replace=true: copied again, the new content in place
    rc, fresh = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(dest), fields=fields, replace=True)
    assert rc == 0 and fresh["changed"] is True and (dest / "owner.txt").read_text() == "changed\n"
    assert fresh["list_sha256"] != out["list_sha256"]
    assert listing(tmp_path / "backups" / "b1")[:2] == ["www-web-0", "www-web-0.manifest.json"]


def test_an_interrupted_copy_is_never_finished_and_the_rerun_converges(tmp_path, capsys, monkeypatch):
    src = tree(tmp_path)
    dest = tmp_path / "backups" / "www-web-0"
    real = dir_checksums.stream

    def dies(source, sink=None, on_block=None):
        if sink is not None and source.name.endswith("data.bin"):
            sink.write(source.read(100))
            raise KeyboardInterrupt  # stands for the SIGKILL: nothing after it runs
        return real(source, sink, on_block)
    monkeypatch.setattr(nfs_dir_copy_module, "stream", dies)
    with patch_module_args({"src": str(src), "dest": str(dest)}), pytest.raises(KeyboardInterrupt):
        nfs_dir_copy.main()
    capsys.readouterr()
    assert listing(tmp_path / "backups")[0] == ".www-web-0.partial" and not dest.exists()
    assert not (tmp_path / "backups" / "www-web-0.manifest.json").exists()
    monkeypatch.setattr(nfs_dir_copy_module, "stream", real)
    rc, out = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(dest))
    assert rc == 0 and out["removed_partial"] is True and out["copied"] is True
    assert dir_checksums.checksum_list(str(dest)) == dir_checksums.checksum_list(str(src))
    assert not (tmp_path / "backups" / ".www-web-0.partial").exists()


def test_renamed_without_manifest_is_completed_only_when_its_content_agrees(tmp_path, capsys):
    src = tree(tmp_path)
    dest = tmp_path / "backups" / "www-web-0"
    rc, out = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(dest))
    manifest = tmp_path / "backups" / "www-web-0.manifest.json"
    os.replace(manifest, str(manifest) + ".tmp")  # killed between the two renames
    rc, done = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(dest))
    assert rc == 0 and done["completed"] is True and manifest.exists() and done["list_sha256"] == out["list_sha256"]
    os.replace(manifest, str(manifest) + ".tmp")
    (dest / "owner.txt").write_text("tampered\n")
    rc, refused = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(dest))
    assert rc == 1 and f"dest {dest} exists without a manifest" in refused["msg"]
    assert not manifest.exists()


def test_a_source_that_is_not_its_manifest_is_refused_before_any_write(tmp_path, capsys):
    src = tree(tmp_path)
    good = dir_checksums.summary(dir_checksums.checksum_list(str(src)))["list_sha256"]
    dest = tmp_path / "export" / "restored"
    (src / "owner.txt").write_text("damaged\n")
    for check in (True, False):
        rc, out = run(capsys, nfs_dir_copy.main, check_mode=check, src=str(src), dest=str(dest), expect_list_sha256=good)
        assert rc == 1 and f"src {src} does not match its manifest" in out["msg"] and "nothing was changed" in out["msg"]
        assert listing(tmp_path / "export") == listing(src.parent)
        assert not dest.exists() and not (tmp_path / "export" / ".restored.partial").exists()


@pytest.mark.parametrize("args, message", [
    ({"src": "rel", "dest": "/x"}, "src and dest must be absolute paths"),
    ({"src": "/a", "dest": "/a/b"}, "must not contain each other"),
    ({"src": "/a", "dest": "/b", "timeout": 0}, "timeout must be at least 1 second"),
    ({"src": "/a", "dest": "/b", "fields": {"list_sha256": "x"}}, "fields: list_sha256 are written by the module"),
    ({"src": "/nonexistent-src", "dest": "/nonexistent-dest/x"}, "src /nonexistent-src is not a directory"),
])
def test_refusals_name_the_option(capsys, args, message):
    rc, out = run(capsys, nfs_dir_copy.main, **args)
    assert rc == 1 and message in out["msg"], out["msg"]


def test_the_copy_is_bounded_in_time_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    src = tree(tmp_path)
    dest = tmp_path / "backups" / "www-web-0"
    ticks = iter(range(0, 10**6, 100))
    monkeypatch.setattr(nfs_dir_copy_module.time, "monotonic", lambda: next(ticks))
    rc, out = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(dest), timeout=150)
    assert rc == 1 and "timeout" in out["msg"]
    assert listing(tmp_path / "backups") == []


def test_checksums_record_once_and_compare_with_excludes(tmp_path, capsys):
    src = tree(tmp_path)
    index = tmp_path / "index"
    rc, dry = run(capsys, nfs_dir_checksums.main, check_mode=True, state="record", index_dir=str(index),
                  directories=[str(src)])
    assert rc == 0 and dry["changed"] is True and not index.exists()
    rc, kept = run(capsys, nfs_dir_checksums.main, state="record", index_dir=str(index), directories=[str(src)])
    assert rc == 0 and kept["changed"] is True and kept["directories"][str(src)]["files"] == 3
    (src / ".stateful-nfs-verify").write_text("x")
    rc, again = run(capsys, nfs_dir_checksums.main, state="record", index_dir=str(index), directories=[str(src)])
    assert rc == 0 and again["changed"] is False and again["directories"][str(src)]["recorded"] is False
    rc, same = run(capsys, nfs_dir_checksums.main, state="compare", index_dir=str(index), directories=[str(src)],
                   exclude=[".stateful-nfs-verify"])
    assert rc == 0 and same["directories"][str(src)]["same"] is True
    assert same["directories"][str(src)]["excluded"] == [".stateful-nfs-verify"]
    (src / "owner.txt").write_text("other\n")
    rc, differ = run(capsys, nfs_dir_checksums.main, state="compare", index_dir=str(index), directories=[str(src)])
    row = differ["directories"][str(src)]
    assert row["same"] is False and row["differ"] == ["owner.txt"] and row["added"] == [".stateful-nfs-verify"]


def test_checksums_list_reads_each_directory_now_and_keeps_nothing(tmp_path, capsys):
    src = tree(tmp_path)
    before = listing(tmp_path)
    rc, out = run(capsys, nfs_dir_checksums.main, state="summary", directories=[str(src), str(tmp_path / "gone")])
    assert rc == 0 and out["changed"] is False
    assert out["directories"][str(src)] == dir_checksums.summary(dir_checksums.checksum_list(str(src)))
    assert out["directories"][str(tmp_path / "gone")] == {"error": "missing"}
    assert listing(tmp_path) == before
    # the copy made with the list as its expectation is the directory as it was listed
    rc, copied = run(capsys, nfs_dir_copy.main, src=str(src), dest=str(tmp_path / "new" / "copy"),
                     expect_list_sha256=out["directories"][str(src)]["list_sha256"])
    assert rc == 0 and copied["copied"] is True
    rc, refused = run(capsys, nfs_dir_checksums.main, state="record", directories=[str(src)])
    assert rc == 1 and refused["msg"] == "index_dir is required with state=record"
