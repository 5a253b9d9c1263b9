"""Role nfs_server, Ganesha backend: the role owns exactly the exports it lists.

Each test runs the role (tests/play_nfs_server.yml) on both servers with other variables:
an export dropped from nfs_server_exports leaves ganesha.conf and Ganesha (check mode shows
it in the diff first, changing nothing), an EXPORT block written by hand outside the role's
marked block stays byte for byte, the remaining export keeps its Export_Id, the 0.1.0
whole-file configuration is taken over, and an export by hand of one of the role's paths
stops the role before any change. The last test restores the scenario's configuration.
"""

from pathlib import Path

import pytest
from conftest import SERVERS, docker_host, run_role

# These tests drive ansible-playbook themselves; run them once, not per host.
testinfra_hosts = ["docker://" + SERVERS[0]]

CONF = "/etc/ganesha/ganesha.conf"
MARK = "managed by stateful.nfs.nfs_server"
KEPT, DROPPED = "/srv/nfs", "/srv/nfs/squashed"
CONFIG_TASK = "Write the role's block of /etc/ganesha/ganesha.conf"
# The scenario's list (molecule.yml) without /srv/nfs/squashed.
ONLY_KEPT = {"nfs_server_exports": [{"path": KEPT}]}

# An export written by hand, outside the role's block.
BY_HAND = """# written by hand, not by the role
EXPORT {
    Export_Id = 100;
    Path = "/srv/nfs/by-hand";
    Pseudo = "/srv/nfs/by-hand";
    Access_Type = None;
    FSAL {
        Name = VFS;
    }
    CLIENT {
        Clients = 127.0.0.1;
        Access_Type = RO;
    }
}
"""

# What role nfs_server 0.1.0 wrote: the whole file, without marker lines (its template
# rendered for the scenario's two exports).
LEGACY_0_1_0 = (Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "ganesha-0.1.0.conf").read_text()


def task_results(data, name_part):
    """{host: result} of the last task whose name contains name_part."""
    found = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            if name_part in task["task"]["name"]:
                found = task["hosts"]
    return found


def conf(server):
    return docker_host(server).file(CONF).content_string


def write_conf(server, text):
    docker_host(server).check_output("printf %s " + _quote(text) + " > " + CONF)


def _quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"


def export_id(text, path):
    """The Export_Id of the EXPORT block whose Path is ``path`` in ``text``."""
    block = text.split('Path = "%s";' % path)[0].rsplit("EXPORT {", 1)[1]
    return int(block.split("Export_Id = ", 1)[1].split(";", 1)[0])


def showmount(server):
    out = docker_host(server).check_output("timeout 30 showmount --no-headers -e 127.0.0.1")
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def ganesha_pid(server):
    return docker_host(server).check_output("systemctl show --property MainPID --value nfs-ganesha")


@pytest.fixture(scope="module")
def dropped():
    """Seed a hand-written export, then drop /srv/nfs/squashed: in check mode, for real, again."""
    seeded = {}
    for server in SERVERS:
        docker_host(server).check_output("mkdir -p /srv/nfs/by-hand")
        seeded[server] = BY_HAND + conf(server)
        write_conf(server, seeded[server])
    ids_before = {server: export_id(conf(server), KEPT) for server in SERVERS}
    check = run_role(ONLY_KEPT, check=True)
    after_check = {server: conf(server) for server in SERVERS}
    real = run_role(ONLY_KEPT)
    again = run_role(ONLY_KEPT)
    return {"seeded": seeded, "ids_before": ids_before, "check": check, "after_check": after_check,
            "real": real, "again": again}


def test_check_mode_diff_shows_the_dropped_export_and_nothing_changes(dropped):
    rc, data, text = dropped["check"]
    assert rc == 0, text
    results = task_results(data, CONFIG_TASK)
    assert sorted(results) == sorted(SERVERS), results
    for server, result in results.items():
        assert result["changed"] is True, result
        diff = result["diff"][0] if isinstance(result["diff"], list) else result["diff"]
        assert 'Path = "%s";' % DROPPED in diff["before"]
        assert 'Path = "%s";' % DROPPED not in diff["after"]
        assert 'Path = "%s";' % KEPT in diff["after"]
        assert diff["after"].startswith(BY_HAND)
        assert dropped["after_check"][server] == dropped["seeded"][server], "check mode wrote " + CONF


def test_dropped_export_leaves_ganesha_and_its_config(dropped):
    rc, data, text = dropped["real"]
    assert rc == 0, text
    for server, result in task_results(data, CONFIG_TASK).items():
        assert result["changed"] is True, (server, result)
    for server in SERVERS:
        text = conf(server)
        assert 'Path = "%s";' % DROPPED not in text
        assert text.count("# BEGIN " + MARK + "\n") == 1 and text.count("# END " + MARK + "\n") == 1
        # The export written by hand is untouched, and the role's remaining export keeps its id.
        assert text.startswith(BY_HAND)
        assert export_id(text, KEPT) == dropped["ids_before"][server]
        exported = showmount(server)
        assert DROPPED not in exported and KEPT in exported and "/srv/nfs/by-hand" in exported, exported
        # The data of the dropped export stays.
        assert docker_host(server).file(DROPPED).is_directory


def test_run_after_the_drop_changes_nothing(dropped):
    rc, data, text = dropped["again"]
    assert rc == 0, text
    for server in SERVERS:
        assert data["stats"][server]["changed"] == 0, text


def test_an_export_by_hand_of_a_managed_path_stops_the_role_before_any_change():
    clash = BY_HAND.replace("/srv/nfs/by-hand", KEPT).replace("Export_Id = 100", "Export_Id = 101")
    before = {}
    for server in SERVERS:
        before[server] = (clash + conf(server), ganesha_pid(server))
        write_conf(server, before[server][0])
    try:
        rc, data, text = run_role(ONLY_KEPT)
        assert rc != 0, text
        failed = task_results(data, "Check that no export outside the role's block clashes")
        assert sorted(failed) == sorted(SERVERS), text
        for server, result in failed.items():
            assert result["failed"]
            assert "(outside the lines marked \"%s\") already exports %s" % (MARK, KEPT) in result["msg"], result["msg"]
            assert "Nothing was changed" in result["msg"]
            assert (conf(server), ganesha_pid(server)) == before[server]
    finally:
        for server in SERVERS:
            write_conf(server, before[server][0][len(clash):])


def test_the_whole_file_of_0_1_0_is_taken_over_and_the_scenario_restored():
    """The 0.1.0 file has no marker lines: it is the role's, replaced by the block, ids kept."""
    for server in SERVERS:
        write_conf(server, LEGACY_0_1_0)
    rc, data, text = run_role({})
    assert rc == 0, text
    for server in SERVERS:
        text = conf(server)
        assert text.startswith("# BEGIN " + MARK + "\n") and text.endswith("# END " + MARK + "\n"), text
        assert "Ansible managed" not in text and "/srv/nfs/by-hand" not in text
        assert (export_id(text, KEPT), export_id(text, DROPPED)) == (1, 2)
        assert {KEPT, DROPPED} <= showmount(server)
    rc, data, text = run_role({})
    assert rc == 0, text
    for server in SERVERS:
        assert data["stats"][server]["changed"] == 0, text
