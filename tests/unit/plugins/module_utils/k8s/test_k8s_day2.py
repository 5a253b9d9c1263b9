"""The rules of a day-2 change (module_utils/k8s/day2.py, statefulset option patch): what is refused
before any write, what is written, what a later apply of the definition sets back, and how a scale
or an upgrade is judged from the state before and after."""
from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import day2
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import (
    check_patch,
    input_problems,
    validate_statefulset_params,
)


def live(replicas=3, strategy="RollingUpdate", partition=0, containers=("web", "sidecar")):
    update = {"type": strategy}
    if strategy == "RollingUpdate":
        update["rollingUpdate"] = {"partition": partition}
    return {"metadata": {"name": "web", "namespace": "shop", "uid": "sts"},
            "spec": {"replicas": replicas, "updateStrategy": update,
                     "template": {"spec": {"containers": [{"name": c, "image": f"{c}:1"} for c in containers]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "www"}}]}}


def snap(replicas, pods, claims, when_scaled="Retain", partition=0, update="r2", images=None):
    return {"name": "web", "namespace": "shop", "replicas": replicas, "start": 0, "templates": ["www"],
            "strategy": "RollingUpdate", "partition": partition, "pod_management_policy": "OrderedReady",
            "when_scaled": when_scaled, "update_revision": update, "current_revision": "r1",
            "pods": {f"web-{o}": {"uid": uid, "ordinal": o, "ready": True, "revision": rev, "terminating": False,
                                  "images": {"web": (images or {}).get(o, "web:1")}}
                     for o, (uid, rev) in pods.items()},
            "claims": {f"www-web-{o}": uid for o, uid in claims.items()}}


@pytest.mark.parametrize(("patch", "message"), [
    ({}, "patch: names no change"),
    ({"replicas": 2, "image": "web:2"}, "patch: scales or upgrades, not both at once"),
    ({"replicas": -1}, "patch.replicas: must be >= 0, got -1"),
    ({"image": "web 2"}, "patch.image: 'web 2' is not a container image reference"),
    ({"container": "web", "partition": 1}, "patch.container: names the container whose image changes"),
    ({"partition": -1}, "patch.partition: must be >= 0"),
])
def test_a_patch_that_names_no_valid_change_is_refused(patch, message):
    with pytest.raises(InputError) as exc:
        check_patch(patch)
    assert str(exc.value).startswith(message), str(exc.value)


def test_a_patch_only_changes_a_deployed_statefulset():
    with pytest.raises(InputError, match="only with state=present"):
        check_patch({"replicas": 1}, "absent")


def test_a_patch_names_the_statefulset_by_name_or_by_its_declaration():
    # by name alone: no declaration to compare with (the shorthand's image is not required)
    p = validate_statefulset_params({"name": "web", "namespace": "shop", "patch": {"replicas": 2}})
    assert (p["name"], p["namespace"], p["definition"], p["patch"]) == ("web", "shop", None, {"replicas": 2})
    # with the shorthand: the declaration is built (not applied) and names the StatefulSet
    p = validate_statefulset_params({"name": "web", "image": "web:1", "replicas": 3, "patch": {"replicas": 5}})
    assert p["definition"]["spec"]["replicas"] == 3 and p["namespace"] == "default"
    assert input_problems({"patch": {"replicas": 2}}, "statefulset") == [
        "statefulset: one of the following is required: name, definition, src"]


@pytest.mark.parametrize(("sts", "patch", "message"), [
    (live(), {"image": "x:2", "container": "nginx"}, "patch.container: 'nginx' is not a container of StatefulSet"
                                                     " shop/web; its containers are web, sidecar"),
    (live(replicas=2), {"partition": 2}, "patch.partition: 2 would update no pod: StatefulSet shop/web has 2 replicas"),
    (live(strategy="OnDelete"), {"partition": 1}, "patch.partition: StatefulSet shop/web has updateStrategy OnDelete"),
])
def test_what_the_live_statefulset_cannot_take_is_refused_before_any_write(sts, patch, message):
    with pytest.raises(InputError) as exc:
        day2.resolve_patch(sts, patch)
    assert str(exc.value).startswith(message), str(exc.value)


def test_the_image_goes_to_the_first_container_by_default_and_only_changes_are_written():
    patch = day2.resolve_patch(live(), {"image": "web:2", "partition": 1})
    assert patch["container"] == "web"
    assert day2.template_patch(patch) == {"spec": {
        "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}},
        "updateStrategy": {"rollingUpdate": {"partition": 1}}}}
    assert day2.changes(live(), patch) == {"image": {"before": "web:1", "after": "web:2"},
                                           "partition": {"before": 0, "after": 1}}
    assert day2.changes(live(), {"replicas": 3}) == {}
    # OnDelete has no partition: 0 is not written
    assert day2.resolve_patch(live(strategy="OnDelete"), {"partition": 0})["partition"] is None


def test_a_later_apply_sets_back_what_the_definition_declares_otherwise():
    definition = live(replicas=3)
    said = day2.declared(definition, {"replicas": 5})
    assert said == {"replicas": 3}
    assert day2.undone_by_apply(said, {"replicas": 5}) == [
        "spec.replicas: the definition says 3, this change 5; applying the definition again sets it back to 3"]
    # a definition without spec.replicas leaves the size to day 2
    del definition["spec"]["replicas"]
    assert day2.undone_by_apply(day2.declared(definition, {"replicas": 5}), {"replicas": 5}) == []
    image = {"image": "web:2", "container": "web"}
    assert day2.undone_by_apply(day2.declared(live(), image), image)[0].startswith(
        "spec.template.spec.containers[name=web].image: the definition says web:1")
    assert day2.declared(None, image) == {}


def test_scale_down_removes_the_highest_ordinals_and_keeps_their_claims():
    before = snap(3, {0: ("p0", "r1"), 1: ("p1", "r1"), 2: ("p2", "r1")}, {0: "c0", 1: "c1", 2: "c2"})
    after = snap(1, {0: ("p0", "r1")}, {0: "c0", 1: "c1", 2: "c2"})
    report, problems = day2.judge_scale(before, after, [])
    assert problems == []
    assert report["pods_removed"] == ["web-2", "web-1"] and report["pods_kept"] == ["web-0"]
    assert report["claims_kept"] == {"www-web-2": "c2", "www-web-1": "c1"} and report["claims_deleted"] == []
    # a claim gone although whenScaled is Retain, a kept pod replaced: each named
    broken = snap(1, {0: ("p0-new", "r1")}, {0: "c0", 1: "c1"})
    _report, problems = day2.judge_scale(before, broken, [])
    assert problems == ["claim www-web-2 of the removed pod web-2 is gone although whenScaled is Retain: its data went"
                        " with it",
                        "web-0 was replaced during the scale (uid p0 -> p0-new): a scale keeps the pods below the"
                        " new size"]


def test_scale_down_with_when_scaled_delete_expects_the_claims_gone():
    before = snap(2, {0: ("p0", "r1"), 1: ("p1", "r1")}, {0: "c0", 1: "c1"}, when_scaled="Delete")
    report, problems = day2.judge_scale(before, snap(1, {0: ("p0", "r1")}, {0: "c0"}, when_scaled="Delete"), [])
    assert problems == [] and report["claims_deleted"] == ["www-web-1"]
    _report, problems = day2.judge_scale(before, snap(1, {0: ("p0", "r1")}, {0: "c0", 1: "c1"}), [])
    assert problems == ["claim www-web-1 of the removed pod web-1 still exists although whenScaled is Delete"]


def test_scale_up_reuses_kept_claims_with_their_uid_and_adds_in_order():
    before = snap(1, {0: ("p0", "r1")}, {0: "c0", 1: "c1"})
    after = snap(3, {0: ("p0", "r1"), 1: ("p1", "r1"), 2: ("p2", "r1")}, {0: "c0", 1: "c1", 2: "c2"})
    timeline = [{"ordinal": 1, "ready_at": "2026-01-01T00:00:03Z"}, {"ordinal": 2, "ready_at": "2026-01-01T00:00:03Z"}]
    report, problems = day2.judge_scale(before, after, timeline)
    assert problems == []
    assert report["pods_added"] == ["web-1", "web-2"] and report["added_ready_in_order"] is True
    assert report["claims_reused"] == {"www-web-1": "c1"} and report["claims_created"] == ["www-web-2"]
    # check mode: the same plan without an after
    planned, _ = day2.judge_scale(before, replicas=3)
    assert (planned["claims_reused"], planned["claims_created"]) == (report["claims_reused"], report["claims_created"])
    # a new claim where a kept one should have been reused; out of order under OrderedReady
    other = snap(3, {0: ("p0", "r1"), 1: ("p1", "r1"), 2: ("p2", "r1")}, {0: "c0", 1: "c1-new", 2: "c2"})
    late = [{"ordinal": 2, "ready_at": "2026-01-01T00:00:02Z"}, {"ordinal": 1, "ready_at": "2026-01-01T00:00:05Z"}]
    _report, problems = day2.judge_scale(before, other, late)
    assert problems == ["claim www-web-1 was kept from an earlier scale-down (uid c1) but the new pod web-1 has"
                        " another one (uid c1-new)",
                        "the new pods web-1, web-2 did not become Ready in ordinal order (podManagementPolicy"
                        " OrderedReady)"]


def test_an_upgrade_updates_the_pods_at_or_above_the_partition_and_keeps_names_and_claims():
    before = snap(3, {0: ("p0", "r1"), 1: ("p1", "r1"), 2: ("p2", "r1")}, {0: "c0", 1: "c1", 2: "c2"})
    after = snap(3, {0: ("p0", "r1"), 1: ("p1", "r2"), 2: ("p2b", "r2")}, {0: "c0", 1: "c1", 2: "c2"},
                 partition=1, images={1: "web:2", 2: "web:2"})
    patch = {"image": "web:2", "container": "web", "partition": 1}
    report, problems = day2.judge_upgrade(before, after, patch)
    assert problems == []
    assert report["pods_updated"] == ["web-1", "web-2"] and report["pods_not_updated"] == ["web-0"]
    assert report["pods_replaced"] == ["web-2"] and report["claims"] == {"www-web-0": "c0", "www-web-1": "c1",
                                                                          "www-web-2": "c2"}
    wrong = snap(3, {0: ("p0b", "r1"), 1: ("p1", "r1"), 2: ("p2", "r2")}, {0: "c0", 1: "c1x", 2: "c2"},
                 partition=1, images={2: "web:2"})
    _report, problems = day2.judge_upgrade(before, wrong, patch)
    assert problems == ["web-0 is below the partition 1 but was replaced",
                        "web-1 runs revision r1, not the update revision r2",
                        "web-1 runs web:1 in container web, not web:2",
                        "claim www-web-1 changed during the upgrade (uid c1 -> c1x)"]
    # a pod deleted by a forced rollback below the partition is not a problem
    _report, problems = day2.judge_upgrade(before, wrong, patch, forced=["web-0"])
    assert "web-0 is below the partition 1 but was replaced" not in problems


def _gone(pod, uid, at, deleted_at="2026-01-01T00:00:30Z"):
    return {"pod": pod, "ordinal": int(pod.rsplit("-", 1)[1]), "uid": uid, "deleted_at": deleted_at,
            "observed_after_seconds": at}


def test_scale_down_is_proved_highest_ordinal_first_from_what_the_rollout_saw_going():
    before = snap(4, {o: (f"p{o}", "r1") for o in range(4)}, {o: f"c{o}" for o in range(4)})
    after = snap(1, {0: ("p0", "r1")}, {o: f"c{o}" for o in range(4)})
    seen = [_gone("web-3", "p3", 0.2), _gone("web-2", "p2", 1.4), _gone("web-1", "p1", 2.9, None)]
    report, problems = day2.judge_scale(before, after, [], removals=seen)
    assert problems == []
    assert report["removed_in_order"] == ["web-3", "web-2", "web-1"] and report["removed_highest_first"] is True
    # gone before the rollout's first reading: the highest one; pods seen going in one reading: in order
    report, problems = day2.judge_scale(before, after, [], removals=[_gone("web-2", "p2", 0.2), _gone("web-1", "p1", 0.2)])
    assert problems == [] and report["removed_highest_first"] is True
    # the lowest went first, or a pod was gone unseen below one seen going: named
    _report, problems = day2.judge_scale(before, after, [], removals=[_gone("web-1", "p1", 0.2), _gone("web-3", "p3", 1.0),
                                                                      _gone("web-2", "p2", 2.0)])
    assert problems == ["the pods web-3, web-2, web-1 went in the order web-1, web-3, web-2, not highest ordinal"
                        " first (podManagementPolicy OrderedReady)"]
    report, problems = day2.judge_scale(before, after, [], removals=[_gone("web-3", "p3", 0.2)])
    assert report["removed_highest_first"] is False and problems
    # another incarnation of a name (a pod replaced before) is not one of the removed pods
    report, _problems = day2.judge_scale(before, after, [], removals=[_gone("web-3", "old", 0.1)])
    assert report["removed_in_order"] == [] and report["removed_highest_first"] is None
    # Parallel: the order is reported, not required
    parallel = dict(before, pod_management_policy="Parallel")
    report, problems = day2.judge_scale(parallel, after, [], removals=[_gone("web-1", "p1", 0.2), _gone("web-3", "p3", 1.0),
                                                                       _gone("web-2", "p2", 2.0)])
    assert problems == [] and report["removed_highest_first"] is False


def test_an_upgrade_is_proved_to_replace_the_highest_ordinal_first():
    before = snap(3, {0: ("p0", "r1"), 1: ("p1", "r1"), 2: ("p2", "r1")}, {0: "c0", 1: "c1", 2: "c2"})
    after = snap(3, {0: ("p0b", "r2"), 1: ("p1b", "r2"), 2: ("p2b", "r2")}, {0: "c0", 1: "c1", 2: "c2"},
                 images={0: "web:2", 1: "web:2", 2: "web:2"})
    patch = {"image": "web:2", "container": "web", "partition": 0}
    timeline = [{"pod": "web-0", "uid": "p0", "ready_at": "2026-01-01T00:00:00Z"},  # the old incarnation
                {"pod": "web-2", "uid": "p2b", "ready_at": "2026-01-01T00:00:05Z"},
                {"pod": "web-1", "uid": "p1b", "ready_at": "2026-01-01T00:00:09Z"},
                {"pod": "web-0", "uid": "p0b", "ready_at": "2026-01-01T00:00:09Z"}]  # a tie counts as in order
    report, problems = day2.judge_upgrade(before, after, patch, timeline=timeline)
    assert problems == []
    assert report["replaced_in_order"] == ["web-2", "web-1", "web-0"] and report["replaced_highest_first"] is True
    wrong = [{"pod": "web-0", "uid": "p0b", "ready_at": "2026-01-01T00:00:02Z"},
             {"pod": "web-2", "uid": "p2b", "ready_at": "2026-01-01T00:00:05Z"},
             {"pod": "web-1", "uid": "p1b", "ready_at": "2026-01-01T00:00:09Z"}]
    report, problems = day2.judge_upgrade(before, after, patch, timeline=wrong)
    assert problems == ["the pods were replaced in the order web-0, web-2, web-1 (first Ready), not highest ordinal first"]
    # after a forced rollback (pods deleted at once) the order is reported, not required
    _report, problems = day2.judge_upgrade(before, after, patch, forced=["web-2", "web-1"], timeline=wrong)
    assert problems == []
    # no timeline: nothing said about the order
    report, problems = day2.judge_upgrade(before, after, patch)
    assert problems == [] and report["replaced_highest_first"] is None
