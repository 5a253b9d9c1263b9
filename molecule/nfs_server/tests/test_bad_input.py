"""Bad input for the nfs_server role: one clear error each, and the host left unchanged.

Runs bad_input.yml (all cases, one ansible-playbook run) against the scenario's Debian 12
server, then checks each case's recorded failure message and file fingerprints.
"""

import json
import os
import subprocess
import sys

import pytest

SCENARIO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "nfs_server-bookworm"

# case -> substrings the failure message must contain (the problem, named)
EXPECTED = {
    "relative_path": ["srv/relative-export", "not absolute"],
    "newline_in_path": ["/srv/new\\nline", "newline"],
    "quote_in_path": ["quo", "quote"],
    "unknown_option": ["unknown export option", "frobnicate"],
    "rw_with_ro": ["'rw' and 'ro' contradict"],
    "invalid_cidr": ["10.0.0.0/33", "not a valid network (CIDR)"],
    "duplicate_paths": ["duplicate export path", "/srv/dup"],
    "empty_client_list": ["/srv/bad-empty", "client list is empty"],
    "unknown_backend": ["nfs_server_backend", "kernel", "ganesha"],
    "missing_owner": ["no-such-user-4711", "does not exist"],
}
# Cases the nfs_export module judges: the role's message must carry the module's, for both backends.
SAME_AS_MODULE = {
    "rdirplus": ["unknown export option 'rdirplus'"],
    "crossmnt_nocrossmnt": ["'crossmnt' and 'nocrossmnt' contradict"],
    "reexport": ["unknown export option 'reexport=auto-fsidnum'"],
    "sec_flavor": ["sec=krb5:krb6", "'krb6'"],
    "anonuid_negative": ["anonuid=-2", "non-negative"],
}
for _key, _needles in SAME_AS_MODULE.items():
    for _backend in ("kernel", "ganesha"):
        EXPECTED[f"{_key}_{_backend}"] = _needles


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        pytest.skip("needs MOLECULE_INVENTORY_FILE: run through `molecule verify`")
    report = tmp_path_factory.mktemp("bad_input") / "record.json"
    env = dict(os.environ)
    env.setdefault("ANSIBLE_PIPELINING", "True")
    project = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.dirname(os.path.dirname(SCENARIO_DIR)))
    env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(project, ".collections")
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, os.path.join(SCENARIO_DIR, "bad_input.yml"),
         "-e", "bad_input_host=" + HOST, "-e", "bad_input_report=" + str(report)],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return {item["case"]: item for item in json.loads(report.read_text())}


def test_every_case_ran(record):
    assert sorted(record) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_clear_error_naming_the_problem(record, case):
    message = record[case]["message"]
    assert not message.startswith("NO FAILURE"), case + ": the role accepted the bad input"
    assert "Traceback" not in message
    for needle in EXPECTED[case]:
        assert needle in message, "%s: %r not in %r" % (case, needle, message)


@pytest.mark.parametrize("case", sorted(f"{k}_{b}" for k in SAME_AS_MODULE for b in ("kernel", "ganesha")))
def test_role_refuses_with_the_module_message(record, case):
    module_message = record[case]["module_message"]
    assert module_message, case + ": the nfs_export module accepted the input"
    assert module_message in record[case]["message"], (module_message, record[case]["message"])


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_host_files_unchanged(record, case):
    assert record[case]["before"] == record[case]["after"], case + " changed the host"
