"""The order of survey questions: one rule (filter stateful.nfs.argspec_to_survey, survey_rank).

Target questions first (context, namespace, name: where the job acts and on what), then the
others in the order the job template lists them, tuning knobs (int/float *_retries, *_delay,
*_timeout, *_interval) out of the survey by default or last. Checked on small fixtures and on
the job templates playbooks/awx_configure.yml creates.
"""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stateful.nfs.plugins.filter.argspec_to_survey import (
    OTHER,
    TARGET,
    TUNING,
    argspec_to_survey,
    survey_rank,
)

from tests.unit.plugins.filter.test_awx_survey_spec import _missing_required_specs, _spec_docs, _templates, awx_survey_errors

K8S = "k8s_statefulset_nginx_"
PREFIXES = {K8S: "StatefulSet", "nfs_server_": "NFS server", "nfs_client_": "NFS client", "statefulset_": "Applications"}


@pytest.mark.parametrize("variable, option, expected", [
    (K8S + "context", {"type": "str"}, TARGET),
    (K8S + "namespace", {"type": "str"}, TARGET),
    (K8S + "name", {"type": "str"}, TARGET),
    ("namespace", {}, TARGET),                              # unprefixed, untyped (str)
    ("app", {"type": "str"}, TARGET),                       # the application, by name
    ("statefulset_app", {"type": "str"}, TARGET),
    (K8S + "service_name", {"type": "str"}, OTHER),         # another object's name, not the target
    (K8S + "provisioner_name", {"type": "str"}, OTHER),
    (K8S + "replicas", {"type": "int"}, OTHER),
    ("archive_prune_days", {"type": "int"}, OTHER),          # a count of days is a choice, not tuning
    (K8S + "wait_timeout", {"type": "int"}, TUNING),
    ("nfs_server_verify_retries", {"type": "int"}, TUNING),
    ("nfs_server_verify_delay", {"type": "int"}, TUNING),
    ("demo_poll_interval", {"type": "float"}, TUNING),
    ("demo_timeout", {"type": "str"}, OTHER),               # not a number: not a tuning knob
    ("demo_timeout_policy", {"type": "int"}, OTHER),        # the word must end the name
])
def test_rank_of_an_option(variable, option, expected):
    assert survey_rank(variable, option, PREFIXES) == expected


def test_name_is_a_target_only_after_its_prefix():
    # without the prefix list, "k8s_statefulset_nginx_name" is just another option
    assert survey_rank(K8S + "name", {"type": "str"}, []) == OTHER
    assert survey_rank(K8S + "name", {"type": "str"}, [K8S]) == TARGET


def _doc(options):
    return {"argument_specs": {"main": {"options": options}}}


TUNED = {
    "app_wait_timeout": {"type": "int", "default": 600},
    "app_replicas": {"type": "int", "default": 3},
    "app_verify_retries": {"type": "int", "default": 5},
    "app_image": {"type": "str", "default": "nginx"},
    "app_namespace": {"type": "str", "default": "default"},
    "app_name": {"type": "str", "default": "web"},
}


def test_targets_first_others_in_listed_order_tuning_out():
    survey = argspec_to_survey(_doc(TUNED), description="Demo.", prefixes=["app_"])
    assert [q["variable"] for q in survey["spec"]] == ["app_namespace", "app_name", "app_replicas", "app_image"]
    assert survey["description"] == "Demo. Tuning, from the inventory or Extra Variables at launch: app_wait_timeout, app_verify_retries."
    assert awx_survey_errors(survey) == []


def test_tuning_last_keeps_their_listed_order():
    survey = argspec_to_survey(_doc(TUNED), prefixes=["app_"], tuning="last")
    assert [q["variable"] for q in survey["spec"]] == [
        "app_namespace", "app_name", "app_replicas", "app_image", "app_wait_timeout", "app_verify_retries"]
    assert "Tuning" not in survey["description"]


def test_the_rule_applies_across_sources():
    other = _doc({"app_context": {"type": "str", "default": ""}, "app_delay": {"type": "int", "default": 1}})
    survey = argspec_to_survey({"a.yml": _doc(TUNED), "b.yml": other}, prefixes=["app_"], tuning="last",
                               sources=[{"path": "a.yml", "include": ["app_image", "app_wait_timeout", "app_name"]}, "b.yml"])
    assert [q["variable"] for q in survey["spec"]] == ["app_name", "app_context", "app_image", "app_wait_timeout", "app_delay"]


def test_bad_tuning_value_fails():
    with pytest.raises(AnsibleFilterError, match="tuning"):
        argspec_to_survey(_doc(TUNED), tuning="first")


# ----------------------------------------------------- the job templates of awx_configure.yml

def _surveys():
    templates = _templates()
    missing = _missing_required_specs(templates)
    if missing:
        pytest.skip("argument specs not in this tree yet: {}".format(", ".join(missing)))
    docs = _spec_docs(templates)
    out = {}
    for template in templates["awx_job_templates"]:
        options = {}
        for source in template["sources"]:
            if docs[source["path"]] is not None:
                for variable, option in docs[source["path"]]["argument_specs"]["main"]["options"].items():
                    options.setdefault(variable, option)
        survey = argspec_to_survey(docs, name=template["name"], description=template["description"],
                                   sources=template["sources"], prefixes=templates["awx_survey_prefixes"])
        out[template["playbook"]] = (survey, options, templates["awx_survey_prefixes"])
    return out


def test_every_template_follows_the_rule():
    for playbook, (survey, options, prefixes) in _surveys().items():
        ranks = [survey_rank(q["variable"], options[q["variable"]], prefixes) for q in survey["spec"]]
        assert ranks == sorted(ranks), playbook
        assert TUNING not in ranks, f"{playbook}: tuning knobs stay in the inventory"


def test_every_listed_tuning_knob_is_named_in_the_description():
    templates = _templates()
    surveys = _surveys()
    for template in templates["awx_job_templates"]:
        survey, options, prefixes = surveys[template["playbook"]]
        listed = [v for s in template["sources"] for v in s.get("include", []) if v in options]
        for variable in listed:
            if survey_rank(variable, options[variable], prefixes) == TUNING:
                assert variable in survey["description"], (template["name"], variable)


def test_site_survey_leads_with_what_to_deploy_and_where():
    survey = _surveys()["site.yml"][0]
    assert [q["variable"] for q in survey["spec"]][:8] == [
        K8S + "context", K8S + "namespace", K8S + "name",               # where
        "statefulset_app",                                              # which application of the inventory's list
        K8S + "replicas", K8S + "image", K8S + "storage_class", K8S + "storage_size",  # what
    ]


def test_day2_surveys_start_with_the_statefulset_they_act_on():
    """The application by name where the playbook takes one (-e app), then the walkthrough's StatefulSet."""
    for playbook, (survey, options, _prefixes) in _surveys().items():
        if playbook in ("site.yml", "playbooks/archive_prune.yml") + LIFECYCLE:
            continue
        by_app = ["app"] if "app" in options else []
        assert [q["variable"] for q in survey["spec"]][:len(by_app) + 3] == by_app + [
            K8S + "context", K8S + "namespace", K8S + "name"], playbook
    for playbook in ("verify", "teardown", "scale", "upgrade"):
        assert "app" in _surveys()[f"playbooks/{playbook}.yml"][1], playbook
    # the upgrade of an application also asks which container
    assert "container" in [q["variable"] for q in _surveys()["playbooks/upgrade.yml"][0]["spec"]]


LIFECYCLE = ("playbooks/backup.yml", "playbooks/restore.yml", "playbooks/migrate.yml")


def test_lifecycle_surveys_ask_the_application_first_and_leave_the_environment_to_the_inventory():
    """backup, restore and migrate act on an application of statefulset_applications, by name: app is the
    first question and required by the playbook, not by AWX (its default is empty, refused by the playbook
    with the names it knows); where the data lives (the NFS host, the index directories) stays in the
    inventory, lists (ordinals, excludes) are Extra Variables, tuning knobs are named in the description."""
    surveys = _surveys()
    for playbook in LIFECYCLE:
        survey, options, _prefixes = surveys[playbook]
        asked = [q["variable"] for q in survey["spec"]]
        assert asked[0] == "app", playbook
        assert not [v for v in asked if v.endswith(("_nfs_host", "_index_dir", "_exclude")) or v == "ordinals"], playbook
        assert all(v in survey["description"] for v in options if v.endswith("_timeout")), playbook
    assert {q["variable"]: q for q in surveys["playbooks/restore.yml"][0]["spec"]}["source"]["choices"] == [
        "archive", "retained", "backup"]
    # nothing that removes data is on by default: AWX sends every default as an extra var
    for playbook, variable in (("playbooks/migrate.yml", "prune_source"), ("playbooks/backup.yml", "backup_replace"),
                               ("playbooks/restore.yml", "force_claim_mismatch")):
        question = {q["variable"]: q for q in surveys[playbook][0]["spec"]}[variable]
        assert question["default"] == "false", (playbook, question)


def test_no_survey_sets_what_the_day2_change_takes_from_its_own_variables():
    """scale and upgrade change the replicas / image by their own variables (replicas, image); the walkthrough's
    k8s_statefulset_nginx_replicas/_image are what its inventory declares (a later site.yml applies them), so no
    survey of theirs asks them (AWX sends every survey default as an extra var)."""
    declared = {K8S + "replicas", K8S + "image"}
    surveys = _surveys()
    for playbook in ("playbooks/scale.yml", "playbooks/upgrade.yml"):
        asked = {q["variable"] for q in surveys[playbook][0]["spec"]}
        assert not declared & asked, playbook
        assert {"scale": "replicas", "upgrade": "image"}[playbook.split("/")[1][:-4]] in asked, playbook