"""Role nfs_server, kernel backend: the role owns exactly the exports it lists.

Exports [/srv/nfs, /srv/nfs/readonly], then [/srv/nfs]: /srv/nfs/readonly must leave
/etc/exports (before the fix it stayed, still exported), in check mode only in the diff,
while lines the role did not write stay byte for byte. In a container the role then ends
with its clear no-nfsd failure (tests/test_nfs_server_kernel.py checks it); /etc/exports is
written before that. The last test restores the scenario's configuration.
"""

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.support.playbook import molecule_play

SCENARIO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = "nfs_server_kernel-bookworm"
MARK = "managed by stateful.nfs.nfs_server"
EXPORTS_TASK = "Write the exports to /etc/exports"
NO_NFSD = "Stop with a clear message when the kernel has no NFS server"
KEPT, DROPPED = "/srv/nfs", "/srv/nfs/readonly"
ONLY_KEPT = {"nfs_server_exports": [{"path": KEPT}]}
BY_HAND = "# written by hand\n/srv/by-hand 192.0.2.7(ro,sync)   # kept as written\n"
PLAYBOOK_TIMEOUT = 600

testinfra_hosts = ["ansible://" + SERVER]


def kernel_has_nfsd(host):
    return "nfsd" in host.file("/proc/filesystems").content_string.split()


def run_role(extra_vars, check=False):
    """ansible-playbook play_nfs_server.yml with extra vars; returns (rc, json result, text)."""
    return molecule_play(os.path.join(SCENARIO_DIR, "tests", "play_nfs_server.yml"), extra_vars, check=check, timeout=PLAYBOOK_TIMEOUT)


def result_of(data, name_part):
    """The result on SERVER of the last task whose name contains name_part (None: not run)."""
    found = None
    for play in data["plays"]:
        for task in play["tasks"]:
            if name_part in task["task"]["name"]:
                found = task["hosts"].get(SERVER)
    return found


def failed_tasks(data):
    """Names (without the role prefix) of the tasks that failed on SERVER."""
    return [task["task"]["name"].split(" : ", 1)[-1] for play in data["plays"] for task in play["tasks"]
            if task["hosts"].get(SERVER, {}).get("failed")]


def check_ending(host, rc, data, text):
    """The run reached its normal end: the no-nfsd failure here, success on a kernel with nfsd."""
    assert data is not None, text
    if kernel_has_nfsd(host):
        assert rc == 0 and failed_tasks(data) == [], text
    else:
        assert rc != 0 and failed_tasks(data) == [NO_NFSD], text


def exports_lines(host):
    return [line for line in host.file("/etc/exports").content_string.splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def dropped(host):
    """Hand-written lines, then the role with /srv/nfs/readonly dropped: check mode, real, again."""
    host.check_output("printf %s " + "'" + BY_HAND + "'" + " >> /etc/exports")
    seeded = host.file("/etc/exports").content_string
    check = run_role(ONLY_KEPT, check=True)
    after_check = host.file("/etc/exports").content_string
    real = run_role(ONLY_KEPT)
    after_real = host.file("/etc/exports").content_string
    again = run_role(ONLY_KEPT)
    return {"seeded": seeded, "check": check, "after_check": after_check, "real": real,
            "after_real": after_real, "again": again}


def test_the_role_marks_the_lines_it_writes(host):
    lines = exports_lines(host)
    ours = [line for line in lines if line.endswith("  # " + MARK)]
    assert sorted(line.split()[0] for line in ours) == [KEPT, DROPPED], lines


def test_check_mode_diff_shows_the_dropped_export_and_nothing_changes(host, dropped):
    rc, data, text = dropped["check"]
    check_ending(host, rc, data, text)
    result = result_of(data, EXPORTS_TASK)
    assert result["changed"] is True and result["reload_needed"] is True, result
    assert [c.split(":")[0] for c in result["changes"]] == [DROPPED + " line %d" % (
        [line.split()[0] for line in dropped["seeded"].splitlines()].index(DROPPED) + 1)], result["changes"]
    assert "no longer listed" in result["changes"][0]
    assert DROPPED + " " in result["diff"]["before"] and DROPPED + " " not in result["diff"]["after"]
    assert "# " + result["changes"][0] in result["diff"]["prepared"]
    assert dropped["after_check"] == dropped["seeded"]


def test_dropped_export_leaves_etc_exports_and_hand_written_lines_stay(host, dropped):
    rc, data, text = dropped["real"]
    check_ending(host, rc, data, text)
    assert result_of(data, EXPORTS_TASK)["changed"] is True
    after = dropped["after_real"]
    assert DROPPED + " " not in after
    assert BY_HAND in after
    assert after == "".join(line for line in dropped["seeded"].splitlines(True) if not line.startswith(DROPPED + " "))
    # The directory and its data stay: nothing deletes data unless asked to.
    assert host.file(DROPPED).is_directory


def test_run_after_the_drop_leaves_etc_exports_alone(host, dropped):
    rc, data, text = dropped["again"]
    check_ending(host, rc, data, text)
    result = result_of(data, EXPORTS_TASK)
    assert result["changed"] is False and result["changes"] == [], result
    assert host.file("/etc/exports").content_string == dropped["after_real"]


def test_restore_the_scenario_exports(host):
    rc, data, text = run_role({})
    check_ending(host, rc, data, text)
    lines = exports_lines(host)
    assert sorted(line.split()[0] for line in lines if line.endswith("  # " + MARK)) == [KEPT, DROPPED], lines
    assert BY_HAND in host.file("/etc/exports").content_string
