"""teardown.yml purge (confirmed) archives the data; archive_prune.yml lists and prunes."""
from __future__ import annotations

import pytest
from conftest import pods_by_name, pvc_uids

STATE: dict = {}


def test_purge_with_confirmation_archives_the_data(play, api, nfs_host):
    claims = pvc_uids(api)
    assert claims, "nothing to purge"
    run = play("playbooks/teardown.yml", cascade="foreground", purge=True, confirm_purge="web")
    assert run.rc == 0, run.failure()
    r = run.day2
    assert r["pvcs_deleted"] == sorted(claims) and r["volumes_after"] == []
    assert pvc_uids(api) == {} and pods_by_name(api) == {}
    dirs = [v["directory"] for v in r["volumes_before"]]
    assert sorted(v["claim"] for v in r["volumes_before"]) == sorted(claims)
    for directory in dirs:
        base = directory.rsplit("/", 1)[1]
        assert not nfs_host.file(directory).exists
        assert nfs_host.file(f"/srv/nfs/archived-{base}").is_directory
    STATE["archived"] = sorted(f"/srv/nfs/archived-{d.rsplit('/', 1)[1]}" for d in dirs)


def test_archive_prune_lists_by_age_and_prunes_only_when_asked(play, nfs_host):
    """The export may hold other archives (the lab's other suites, earlier runs): the checks are
    about this run's archives, whatever else the playbook lists and prunes with them."""
    if "archived" not in STATE:
        pytest.skip("purge failed")
    old = STATE["archived"][0]
    nfs_host.check_output(f"touch -d '40 days ago' {old}")

    run = play("playbooks/archive_prune.yml")  # default: older than 30 days, list only
    assert run.rc == 0, run.failure()
    r = run.day2
    listed = {a["path"]: a for a in r["archived"]}
    assert set(listed) & set(STATE["archived"]) == {old}, sorted(listed)
    assert listed[old]["age_days"] >= 39 and listed[old]["bytes"] > 0
    assert r["removed"] == [] and nfs_host.file(old).is_directory

    run = play("playbooks/archive_prune.yml", archive_prune_days=0)
    assert run.rc == 0, run.failure()
    assert set(STATE["archived"]) <= {a["path"] for a in run.day2["archived"]}
    assert all(nfs_host.file(p).is_directory for p in STATE["archived"])

    run = play("playbooks/archive_prune.yml", prune=True)
    assert run.rc == 0, run.failure()
    assert set(run.day2["removed"]) & set(STATE["archived"]) == {old}
    assert not nfs_host.file(old).exists
    assert all(nfs_host.file(p).is_directory for p in STATE["archived"][1:])

    run = play("playbooks/archive_prune.yml", prune=True, archive_prune_days=0)
    assert run.rc == 0, run.failure()
    assert set(STATE["archived"][1:]) <= set(run.day2["removed"])
    listing = nfs_host.check_output("ls -1 /srv/nfs").split()
    assert [d for d in listing if d.startswith("archived-")] == []
