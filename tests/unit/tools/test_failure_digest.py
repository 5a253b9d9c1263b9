"""tools/failure_digest.py: why a suite failed, from its log, in the few lines CI keeps."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("failure_digest", ROOT / "tools" / "failure_digest.py")
failure_digest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(failure_digest)

PYTEST_OUTPUT = """\
tests/test_a.py::test_ok PASSED
tests/test_a.py::test_scale FAILED
=================================== FAILURES ===================================
__________________________________ test_scale __________________________________
    def test_scale():
>       assert ['web-4', 'web-2'] == ['web-4', 'web-3']
E       AssertionError: assert ['web-4', 'web-2'] == ['web-4', 'web-3']
E         At index 1 diff: 'web-2' != 'web-3'
tests/test_a.py:7: AssertionError
----------------------------- Captured stdout call -----------------------------
fatal: [localhost]: FAILED! => {"msg": "from a playbook the test ran"}
============================== slowest durations ===============================
12.00s call     tests/test_a.py::test_scale
=========================== short test summary info ============================
FAILED tests/test_a.py::test_scale - AssertionError: assert ['web-4', 'web-2'] == ['web-4', 'web-3']
========================= 1 failed, 1 passed in 13.00s =========================
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_pytest_log_gives_the_test_its_assertion_and_its_line(tmp_path):
    lines = failure_digest.digest(_write(tmp_path, "cluster-test.log", PYTEST_OUTPUT), 60)
    assert lines == [
        "-- test_scale",
        "E       AssertionError: assert ['web-4', 'web-2'] == ['web-4', 'web-3']",
        "E         At index 1 diff: 'web-2' != 'web-3'",
        "tests/test_a.py:7: AssertionError",
        "FAILED tests/test_a.py::test_scale - AssertionError: assert ['web-4', 'web-2'] == ['web-4', 'web-3']",
    ]


def test_a_molecule_log_gives_the_failure_not_ignored_with_pytest_read_from_its_msg(tmp_path):
    # the verify playbook's message holds pytest's FAILURES section, then pytest's tail again
    failures = "\n".join(PYTEST_OUTPUT.splitlines()[2:10])  # from the FAILURES banner to the durations
    msg = f"pytest exited 1:\n{failures}\n{PYTEST_OUTPUT}"
    log = "\n".join([
        "TASK [Probe what must fail] ***",
        'fatal: [nfs-1]: FAILED! => {"changed": false, "msg": "expected: the test asks for it"}',
        "...ignoring",
        "TASK [Fail when a test failed] ***",
        "fatal: [localhost]: FAILED! => " + json.dumps({"assertion": "rc == 0", "changed": False, "msg": msg}),
        "CRITICAL Ansible return code was 2, command was: ansible-playbook verify.yml",
        "ERROR    [default > verify] Executed: Failed",
    ])
    lines = failure_digest.digest(_write(tmp_path, "molecule-default.log", log), 60)
    assert "expected: the test asks for it" not in "\n".join(lines)
    assert lines[0] == "fatal: [localhost]: FAILED!:"
    assert lines.count("    -- test_scale") == 1, lines  # said twice in the message, once here
    assert "    tests/test_a.py:7: AssertionError" in lines
    assert lines[-2].startswith("CRITICAL Ansible return code was 2")


def test_an_ansible_failure_without_pytest_gives_its_msg(tmp_path):
    log = 'failed: [node-1] (item=/srv/nfs) => {"msg": "line one\\nmount.nfs: access denied"}\n'
    lines = failure_digest.digest(_write(tmp_path, "site.log", log), 60)
    assert lines == ["failed: [node-1] (item=/srv/nfs):", "    line one", "    mount.nfs: access denied"]


def test_a_log_without_a_failure_line_gives_its_last_lines_and_a_missing_log_is_named(tmp_path):
    lines = failure_digest.digest(_write(tmp_path, "x.log", "a\nb\nkilled by timeout\n"), 60)
    assert lines[0].startswith("(no failure line found") and lines[-1] == "killed by timeout"
    assert failure_digest.digest(tmp_path / "absent.log", 60)[0].startswith("(no log:")


def test_at_most_the_asked_lines_the_last_ones(tmp_path):
    log = "".join(f'fatal: [h{i}]: FAILED! => {{"msg": "m{i}"}}\n' for i in range(30))
    lines = failure_digest.digest(_write(tmp_path, "many.log", log), 5)
    assert lines == ["fatal: [h27]: FAILED!:", "    m27", "fatal: [h28]: FAILED!:", "    m28",
                     "fatal: [h29]: FAILED!:", "    m29"][-5:]
