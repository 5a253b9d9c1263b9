"""Found in a user's trial of role statefulset: a failed proof left no identity report, and an
earlier run's report stayed saying "pass"; the title of the apply task named a headless Service
that create_service: false does not make. The proof's verdicts come from the module (fail_on_failure:
false returns them); the role only writes them, then fails. tests/integration runs it on the lab."""
from __future__ import annotations

from pathlib import Path

import jinja2
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "statefulset"
TASKS = yaml.safe_load((ROLE / "tasks" / "application.yml").read_text())


def index_of(action):
    return next(i for i, t in enumerate(TASKS) if action in t)


def test_a_failed_proof_is_reported_before_the_run_fails():
    prove = index_of("stateful.nfs.statefulset_verify")
    assert TASKS[prove]["stateful.nfs.statefulset_verify"]["fail_on_failure"] is False
    report = next(i for i, t in enumerate(TASKS) if t.get("ansible.builtin.include_tasks") == "report.yml")
    stop = index_of("ansible.builtin.fail")
    assert prove < report < stop, (prove, report, stop)
    assert "_statefulset_proof.failures | default([]) | length > 0" in TASKS[stop]["when"]
    assert "_statefulset_proof.msg" in TASKS[stop]["ansible.builtin.fail"]["msg"]
    # the report is written whatever the verdict: no condition on the proof's outcome
    assert not [c for c in TASKS[report]["when"] if "failures" in c or "failed" in c]
    assembled = yaml.safe_load((ROLE / "tasks" / "report.yml").read_text())[0]["ansible.builtin.set_fact"]
    assert "failures" in assembled["_statefulset_report"]


def render(report):
    # as ansible.builtin.template renders it (trim_blocks); Markdown, not HTML: nothing to escape
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), trim_blocks=True,
                             autoescape=False)  # noqa: S701
    return env.get_template("identity.md.j2").render(_statefulset_report=report)


def test_the_markdown_report_says_which_pods_and_checks_failed():
    pods = [{"ordinal": 0, "name": "nats-0", "dns_name": "nats-0.nats.mq.svc.cluster.local", "ready": True}]
    failed = {"application": "mq", "statefulset": "nats", "namespace": "mq", "service": "nats", "replicas": 1,
              "container": "nats", "pods": pods, "exec_hostnames": {"nats-0": "nats-0"}, "dns_answers": {},
              "checks": [{"pod": "nats-0", "check": "identity", "status": "pass"},
                         {"pod": "nats-0", "check": "app", "status": "fail"}],
              "proved": ["identity: nats-0"], "not_proved": [],
              "failures": ["nats-0 app: no container declares a port named 'monitoring'"]}
    text = render(failed)
    assert "**Verification failed** (1 failure(s))" in text
    assert "## Failed\n\n- nats-0 app: no container declares a port named 'monitoring'\n" in text
    assert "| nats-0 | pass | fail |" in text
    passed = render(dict(failed, failures=[], checks=failed["checks"][:1]))
    assert "Failed" not in passed and "failed" not in passed


def test_the_apply_task_names_the_service_only_as_create_service_makes_it():
    name = TASKS[index_of("stateful.nfs.statefulset")]["name"]
    assert "create_service" in name and "headless Service" in name, name
