"""Bad or missing variables: one clear failure, before any change (no write in the API server's
audit log)."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("playbook", "extra", "words"),
    [
        ("playbooks/scale.yml", {}, ["replicas"]),
        ("playbooks/scale.yml", {"replicas": "many"}, ["replicas"]),
        ("playbooks/scale.yml", {"replicas": -1}, ["replicas must be 0 or more"]),
        ("playbooks/upgrade.yml", {}, ["image"]),
        ("playbooks/upgrade.yml", {"image": "nginx:1.27.4", "partition": 3}, ["partition 3 would update no pod"]),
        ("playbooks/upgrade.yml", {"image": "nginx:1.27.4", "k8s_statefulset_nginx_image": "nginx:1.0"},
         ["drop them from the extra vars"]),
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
    assert len(run.failed_tasks()) == 1, run.failed_tasks()
    message = run.failure()
    for word in words:
        assert word in message, message
    assert lab.api_writes(mark) == [], f"{playbook} {extra} wrote to the API before failing"
    assert {n: p.metadata.uid for n, p in pods_by_name(api).items()} == pods
