"""Bad or missing variables: one clear failure, before any change (no write in the API server's
audit log)."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("playbook", "extra", "words"),
    [
        ("playbooks/scale.yml", {}, ["replicas"]),
        ("playbooks/scale.yml", {"replicas": "many"}, ["replicas"]),
        ("playbooks/scale.yml", {"replicas": -1}, ["patch.replicas: must be >= 0, got -1"]),
        ("playbooks/upgrade.yml", {}, ["image"]),
        ("playbooks/upgrade.yml", {"image": "nginx:1.27.4", "partition": 3},
         ["patch.partition: 3 would update no pod", "has 3 replicas"]),
        ("playbooks/scale.yml", {"app": "db", "replicas": 2}, ["'db' is not an application of statefulset_applications; it has web"]),
        ("playbooks/teardown.yml", {"cascade": "sideways"}, ["cascade", "orphan, background, foreground"]),
        ("playbooks/teardown.yml", {"purge": True}, ["confirm_purge=web"]),
        ("playbooks/teardown.yml", {"purge": True, "confirm_purge": "db"}, ["confirm_purge=web", '"db"']),
        ("playbooks/teardown.yml", {"purge": True, "confirm_purge": "web", "cascade": "orphan"},
         ["cannot be combined with cascade=orphan"]),
        ("playbooks/verify.yml", {"verify_pod_restart": "perhaps"}, ["verify_pod_restart"]),
        ("playbooks/archive_prune.yml", {"archive_prune_days": "old"}, ["archive_prune_days"]),
        ("playbooks/archive_prune.yml", {"archive_prune_path": "/"}, ["archive_prune_path must be an absolute"]),
    ],
)
def test_rejected_before_any_change(play, lab, api, playbook, extra, words):
    from conftest import pods_by_name

    pods = {n: p.metadata.uid for n, p in pods_by_name(api).items()}
    mark = lab.audit_mark()
    run = play(playbook, **extra)
    assert run.rc != 0, f"{playbook} {extra} was accepted"
    failed = run.failed_tasks()
    # upgrade.yml's rescue says the module's message again (with the forced-rollback hint when it applies)
    assert len(failed) == 1 or (playbook.endswith("upgrade.yml") and len(failed) == 2
                                and failed[1] == "Say how to finish a rollout that needs a forced rollback"), failed
    message = run.failure()
    for word in words:
        assert word in message, message
    assert lab.api_writes(mark) == [], f"{playbook} {extra} wrote to the API before failing"
    assert {n: p.metadata.uid for n, p in pods_by_name(api).items()} == pods
