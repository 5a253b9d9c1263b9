"""Unit tests of the survey generator, filter stateful.nfs.argspec_to_survey (small fixture specs)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stateful.nfs.plugins.filter.argspec_to_survey import (
    FilterModule,
    argspec_to_survey,
    option_to_question,
)


def doc(options, entry_point="main"):
    return {"argument_specs": {entry_point: {"short_description": "x", "options": options}}}


FIXTURE = doc({
    "demo_name": {"type": "str", "default": "web", "description": "Name of C(the) thing, see O(demo_count)."},
    "demo_count": {"type": "int", "default": 3, "description": ["How many.", "At least one."]},
    "demo_ratio": {"type": "float", "default": 0.5, "description": "A ratio."},
    "demo_enabled": {"type": "bool", "default": True, "description": "Switch."},
    "demo_tristate": {"type": "bool", "description": "Unset means automatic."},
    "demo_mode": {"type": "str", "default": "auto", "choices": ["auto", "exec", "nfs"], "description": "Mode."},
    "demo_version": {"type": "str", "default": "auto", "choices": ["auto", 3, "4"], "description": "Version."},
    "demo_path": {"type": "path", "default": "/srv/nfs", "description": "A path."},
    "demo_api_key": {"type": "str", "default": "", "no_log": True, "description": "Token."},
    "demo_token": {"type": "str", "description": "Secret by name only."},
    "demo_list": {"type": "list", "elements": "str", "default": ["rw", "sync"], "description": "Options."},
    "demo_dict": {"type": "dict", "default": {}, "description": "Labels."},
    "demo_required": {"type": "str", "required": True, "default": "ignored", "description": "Must be given."},
    "demo_templated": {"type": "str", "default": "{{ playbook_dir }}/out", "description": "Templated default."},
    "demo_modes": {"type": "list", "elements": "str", "choices": ["a", "b", "c"], "default": ["a", "c"],
                   "description": "Several."},
    "demo_untyped": {"default": "plain", "description": "No type: str."},
})


def by_var(survey):
    return {q["variable"]: q for q in survey["spec"]}


def test_filter_is_registered():
    assert FilterModule().filters()["argspec_to_survey"] is argspec_to_survey


def test_type_mapping():
    q = by_var(argspec_to_survey(FIXTURE, name="Demo"))
    assert q["demo_name"]["type"] == "text" and q["demo_name"]["default"] == "web"
    assert q["demo_count"]["type"] == "integer" and q["demo_count"]["default"] == 3
    assert q["demo_ratio"]["type"] == "float" and q["demo_ratio"]["default"] == 0.5
    assert q["demo_path"]["type"] == "text" and q["demo_path"]["default"] == "/srv/nfs"
    assert q["demo_mode"] == {
        "question_name": "Demo mode", "question_description": "Mode.", "variable": "demo_mode",
        "required": False, "type": "multiplechoice", "choices": ["auto", "exec", "nfs"], "default": "auto"}
    assert q["demo_untyped"]["type"] == "text" and q["demo_untyped"]["default"] == "plain"


def test_choices_become_strings():
    q = by_var(argspec_to_survey(FIXTURE))["demo_version"]
    assert q["choices"] == ["auto", "3", "4"] and q["default"] == "auto"


def test_bool_is_a_true_false_multiplechoice():
    q = by_var(argspec_to_survey(FIXTURE))
    assert q["demo_enabled"]["type"] == "multiplechoice"
    assert q["demo_enabled"]["choices"] == ["true", "false"]
    assert q["demo_enabled"]["default"] == "true"
    assert "| bool" in q["demo_enabled"]["question_description"]
    # no default (null): no survey default, so the role decides
    assert "default" not in q["demo_tristate"]
    assert q["demo_tristate"]["choices"] == ["true", "false"]


@pytest.mark.parametrize("value, expected", [(False, "false"), ("yes", "true"), ("no", "false"), (1, "true")])
def test_bool_defaults_of_any_spelling(value, expected):
    q = option_to_question("x_flag", {"type": "bool", "default": value})
    assert q["default"] == expected


def test_secrets_are_passwords_without_default():
    q = by_var(argspec_to_survey(FIXTURE))
    for variable in ("demo_api_key", "demo_token"):
        assert q[variable]["type"] == "password"
        assert "default" not in q[variable]
    assert q["demo_name"]["type"] != "password"


def test_structured_options_are_left_out_and_named_in_the_description():
    survey = argspec_to_survey(FIXTURE, description="Demo survey.")
    q = by_var(survey)
    assert "demo_list" not in q and "demo_dict" not in q
    assert survey["description"].startswith("Demo survey. ")
    assert "demo_list, demo_dict" in survey["description"]


def test_structured_textarea_mode():
    q = by_var(argspec_to_survey(FIXTURE, structured="textarea"))
    assert q["demo_list"]["type"] == "textarea"
    assert q["demo_list"]["default"] == '["rw", "sync"]'
    assert "JSON or YAML" in q["demo_list"]["question_description"]
    assert q["demo_dict"]["default"] == "{}"


def test_list_with_choices_is_multiselect():
    q = by_var(argspec_to_survey(FIXTURE))["demo_modes"]
    assert q["type"] == "multiselect" and q["choices"] == ["a", "b", "c"] and q["default"] == "a\nc"


def test_required_option_has_no_default():
    q = by_var(argspec_to_survey(FIXTURE))["demo_required"]
    assert q["required"] is True and "default" not in q


def test_templated_default_is_left_to_the_role():
    q = by_var(argspec_to_survey(FIXTURE))["demo_templated"]
    assert "default" not in q
    assert "Leave unanswered" in q["question_description"]


def test_multiline_string_default_is_textarea():
    q = option_to_question("x_motd", {"type": "str", "default": "line one\nline two"})
    assert q["type"] == "textarea" and q["default"] == "line one\nline two"


def test_description_markup_is_plain_text():
    q = by_var(argspec_to_survey(FIXTURE))
    assert q["demo_name"]["question_description"] == "Name of the thing, see demo_count."
    assert q["demo_count"]["question_description"] == "How many. At least one."


def test_question_names_from_prefixes():
    q = by_var(argspec_to_survey(FIXTURE, prefixes=["demo_"]))
    assert q["demo_count"]["question_name"] == "Count"
    q = by_var(argspec_to_survey(FIXTURE, prefixes={"demo_": "Demo role"}))
    assert q["demo_api_key"]["question_name"] == "Demo role: Api key"


def test_include_orders_and_limits():
    survey = argspec_to_survey(FIXTURE, include=["demo_count", "demo_name"])
    assert [q["variable"] for q in survey["spec"]] == ["demo_count", "demo_name"]


def test_exclude():
    variables = [q["variable"] for q in argspec_to_survey(FIXTURE, exclude=["demo_name", "demo_api_key"])["spec"]]
    assert "demo_name" not in variables and "demo_api_key" not in variables and "demo_count" in variables


def test_include_of_unknown_variable_fails():
    with pytest.raises(AnsibleFilterError, match="demo_nope"):
        argspec_to_survey(FIXTURE, include=["demo_nope"])


def test_first_spec_wins_for_duplicate_variables():
    other = doc({"demo_name": {"type": "int", "default": 1}, "other_x": {"type": "int", "default": 2}})
    survey = argspec_to_survey([FIXTURE, None, other])
    q = by_var(survey)
    assert q["demo_name"]["type"] == "text" and q["other_x"]["default"] == 2
    assert len(survey["spec"]) == len(q)


def test_sources_pick_specs_and_skip_optional_missing():
    docs = {"a.yml": FIXTURE, "b.yml": None}
    sources = [
        {"path": "b.yml", "optional": True},
        {"path": "a.yml", "include": ["demo_mode", "demo_count"], "exclude": ["demo_count"]},
    ]
    survey = argspec_to_survey(docs, name="S", sources=sources)
    assert [q["variable"] for q in survey["spec"]] == ["demo_mode"]


def test_sources_missing_required_spec_fails():
    with pytest.raises(AnsibleFilterError, match="b.yml is missing"):
        argspec_to_survey({"b.yml": None}, sources=["b.yml"])


def test_sources_include_of_unknown_variable_fails():
    with pytest.raises(AnsibleFilterError, match="demo_nope"):
        argspec_to_survey({"a.yml": FIXTURE}, sources=[{"path": "a.yml", "include": ["demo_nope"]}])


def test_other_entry_point():
    survey = argspec_to_survey(doc({"x_a": {"type": "int", "default": 1}}, "scale"), entry_point="scale")
    assert survey["spec"][0]["variable"] == "x_a"
    with pytest.raises(AnsibleFilterError, match="no entry point 'main'"):
        argspec_to_survey(doc({"x_a": {"type": "int"}}, "scale"))


@pytest.mark.parametrize("bad, message", [
    ("not a dict", "expected an argument spec document"),
    ([doc({"x": {"type": "frobnicate"}})], "unsupported type"),
    ([doc({"x": {"type": "int", "default": "many"}})], "is not a int"),
    ([doc({"x": "str"})], "must be a dict"),
])
def test_bad_specs_fail_with_a_clear_message(bad, message):
    with pytest.raises(AnsibleFilterError, match=message):
        argspec_to_survey(bad)


def test_bad_structured_value_fails():
    with pytest.raises(AnsibleFilterError, match="structured"):
        argspec_to_survey(FIXTURE, structured="yaml")


def test_empty_spec_gives_empty_question_list():
    survey = argspec_to_survey(doc({}), name="Empty")
    assert survey == {"name": "Empty", "description": "", "spec": []}


def test_plugin_documentation_is_valid_yaml():
    import yaml
    from ansible_collections.stateful.nfs.plugins.filter import (
        argspec_to_survey as plugin,
    )

    doc_ = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc_["name"] == "argspec_to_survey"
    assert set(doc_["options"]) >= {"_input", "name", "description", "sources", "include", "exclude", "structured"}
    assert yaml.safe_load(plugin.RETURN)["_value"]["type"] == "dict"
