"""Generated surveys are valid AWX survey specs.

No AWX runs here. AWX's rules are mirrored from ansible/awx:
- POST /api/v2/job_templates/N/survey_spec/, JobTemplateSurveySpec._validate_spec_data in
  awx/api/views/__init__.py: name, description (str) and spec (non-empty list); each question
  a dict with type, question_name, variable (str) and required (bool); variables unique; type
  in SURVEY_TYPE_MAPPING (awx/main/constants.py); a non-empty default of the mapped Python
  type (text types: str, integer: int, float: float or int); min/max int or null;
  multiplechoice/multiselect need choices (list, or newline-separated string), one default for
  multiplechoice, every default among the choices; "$encrypted$" defaults only for passwords
  replacing an existing encrypted default (never in a new spec).
- At launch, SurveyJobTemplateMixin._update_unified_job_kwargs (awx/main/models/mixins.py) sends a
  default only when _survey_element_validation accepts it (type, min/max, choices): a default
  that fails is silently dropped, so it is checked here too.
The structural part is a JSON schema; the cross-field rules are plain Python.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from ansible_collections.stateful.nfs.plugins.filter.argspec_to_survey import (
    TUNING,
    argspec_to_survey,
    survey_rank,
)

REPO = Path(__file__).resolve().parents[4]
ROLES = ("nfs_server", "nfs_client", "k8s_statefulset_nginx")
TYPES = ["text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"]
STRING_TYPES = ["text", "textarea", "password", "multiplechoice", "multiselect"]
VARS_FILE = REPO / "playbooks" / "vars" / "awx_job_templates.yml"


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's !unsafe tag as a plain string."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)


def _default_rule(qtypes, schema):
    return {"if": {"properties": {"type": {"enum": qtypes}}, "required": ["type"]},
            "then": {"properties": {"default": schema}}}


SURVEY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "description", "spec"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "spec": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/question"}},
    },
    "$defs": {
        "question": {
            "type": "object",
            "required": ["type", "question_name", "variable", "required"],
            "properties": {
                "type": {"enum": TYPES},
                "question_name": {"type": "string"},
                "question_description": {"type": "string"},
                # Ansible variable names: what a playbook can read
                "variable": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "required": {"type": "boolean"},
                "min": {"type": ["integer", "null"]},
                "max": {"type": ["integer", "null"]},
                "choices": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
                # "$encrypted$" is reserved (needs an encrypted default already stored)
                "default": {"not": {"type": "string", "pattern": "^\\$encrypted\\$"}},
            },
            "allOf": [
                _default_rule(STRING_TYPES, {"type": "string"}),
                _default_rule(["integer"], {"anyOf": [{"type": "integer"}, {"const": ""}]}),
                _default_rule(["float"], {"anyOf": [{"type": "number"}, {"const": ""}]}),
                {"if": {"properties": {"type": {"enum": ["multiplechoice", "multiselect"]}}, "required": ["type"]},
                 "then": {"required": ["choices"]}},
            ],
        },
    },
}


def _choices(question):
    choices = question["choices"]
    if isinstance(choices, str):
        return [c for c in choices.splitlines() if c.strip()]
    return list(choices)


def _element_errors(question, value):
    """AWX's launch-time _survey_element_validation of one value."""
    qtype = question["type"]
    if qtype in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return [f"{value!r} expected to be a string"]
        if question.get("min") not in ("", None) and len(value) < int(question["min"]):
            return [f"{value!r} too short"]
        if question.get("max") not in ("", None) and len(value) > int(question["max"]):
            return [f"{value!r} too long"]
    elif qtype == "integer":
        if type(value) is not int:
            return [f"{value!r} expected to be an integer"]
        if question.get("min") not in ("", None) and value < int(question["min"]):
            return [f"{value!r} too small"]
        if question.get("max") not in ("", None) and value > int(question["max"]):
            return [f"{value!r} too large"]
    elif qtype == "float":
        if type(value) not in (float, int):
            return [f"{value!r} expected to be numeric"]
    elif qtype == "multiselect":
        values = value.splitlines() if isinstance(value, str) else value
        return [f"{v!r} not a choice" for v in values if v not in _choices(question)]
    elif qtype == "multiplechoice" and value not in _choices(question):
        return [f"{value!r} not a choice"]
    return []


def awx_survey_errors(survey):
    """Every AWX rule a survey spec breaks (empty list: AWX accepts it)."""
    validator = jsonschema.Draft202012Validator(SURVEY_SCHEMA)
    errors = ["{}: {}".format("/".join(str(p) for p in e.absolute_path), e.message)
              for e in validator.iter_errors(survey)]
    if errors:
        return errors
    seen = set()
    for idx, question in enumerate(survey["spec"]):
        where = f"spec/{idx} ({question['variable']})"
        if question["variable"] in seen:
            errors.append(f"{where}: variable duplicated")
        seen.add(question["variable"])
        if "default" in question and question["default"] != "" and question["type"] in ("multiplechoice", "multiselect"):
            default = question["default"]
            defaults = [d for d in default.splitlines() if d.strip()] if isinstance(default, str) else default
            if question["type"] == "multiplechoice" and len(defaults) > 1:
                errors.append(f"{where}: multiplechoice can only have one default")
            if any(d not in _choices(question) for d in defaults):
                errors.append(f"{where}: default not among the choices")
        if "default" in question and question["default"] not in ("", None):
            errors += [f"{where}: default dropped at launch: {e}" for e in _element_errors(question, question["default"])]
    try:
        if json.loads(json.dumps(survey)) != survey:
            errors.append("survey does not survive a JSON round trip")
    except (TypeError, ValueError) as exc:
        errors.append(f"survey is not JSON: {exc}")
    return errors


# ---------------------------------------------------------------- the validator itself can fail

GOOD = {"name": "s", "description": "", "spec": [
    {"type": "text", "question_name": "Q", "variable": "a_b", "required": False, "default": "x"},
    {"type": "multiplechoice", "question_name": "Q", "variable": "c", "required": False,
     "choices": ["true", "false"], "default": "true"},
    {"type": "integer", "question_name": "Q", "variable": "d", "required": True, "min": 0, "max": 9, "default": 3},
    {"type": "float", "question_name": "Q", "variable": "e", "required": False, "default": 1},
    {"type": "multiselect", "question_name": "Q", "variable": "f", "required": False,
     "choices": "a\nb\nc", "default": "a\nc"},
]}


def _broken(path, value):
    survey = copy.deepcopy(GOOD)
    target = survey
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return survey


def test_reference_survey_is_valid():
    assert awx_survey_errors(GOOD) == []


@pytest.mark.parametrize("path, value", [
    (("name",), KeyError),
    (("description",), None),
    (("spec",), []),
    (("spec", 0, "question_name"), KeyError),
    (("spec", 0, "required"), "false"),
    (("spec", 0, "type"), "boolean"),
    (("spec", 0, "default"), 5),
    (("spec", 0, "default"), "$encrypted$abc"),
    (("spec", 0, "variable"), "not a variable"),
    (("spec", 1, "choices"), KeyError),
    (("spec", 1, "default"), "maybe"),
    (("spec", 1, "default"), "true\nfalse"),
    (("spec", 2, "default"), "3"),
    (("spec", 2, "default"), 10),
    (("spec", 2, "min"), "0"),
    (("spec", 3, "default"), "1.5"),
    (("spec", 4, "default"), "a\nz"),
    (("spec", 4, "variable"), "a_b"),
])
def test_validator_rejects_what_awx_rejects(path, value):
    assert awx_survey_errors(_broken(path, value)), f"accepted {path} = {value!r}"


# ---------------------------------------------------------------- generated surveys

FIXTURE = {"argument_specs": {"main": {"options": {
    "demo_name": {"type": "str", "default": "web"},
    "demo_count": {"type": "int", "default": 3},
    "demo_ratio": {"type": "float", "default": 2},
    "demo_flag": {"type": "bool", "default": False},
    "demo_auto": {"type": "bool"},
    "demo_mode": {"type": "str", "choices": ["a", "b"], "default": "b"},
    "demo_int_choice": {"type": "int", "choices": [1, 2], "default": 2},
    "demo_secret": {"type": "str", "no_log": True, "default": "hunter2"},
    "demo_list": {"type": "list", "elements": "str", "default": ["x"]},
    "demo_dict": {"type": "dict", "default": {"a": 1}},
    "demo_multi": {"type": "list", "elements": "str", "choices": ["p", "q"], "default": ["q"]},
    "demo_required": {"type": "str", "required": True},
}}}}


@pytest.mark.parametrize("structured", ["omit", "textarea"])
def test_fixture_survey_is_valid(structured):
    survey = argspec_to_survey(FIXTURE, name="Fixture", structured=structured)
    assert awx_survey_errors(survey) == []
    assert len(survey["spec"]) == (12 if structured == "textarea" else 10)


def _role_spec(role):
    path = REPO / "roles" / role / "meta" / "argument_specs.yml"
    if not path.is_file():
        pytest.skip(f"role {role} has no meta/argument_specs.yml in this tree yet")
    return load_yaml(path)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("structured", ["omit", "textarea"])
def test_every_option_of_a_real_role_gives_a_valid_survey(role, structured):
    """With tuning=last every option is a question, in the spec's order within the order rule."""
    spec = _role_spec(role)
    prefixes = [role + "_"]
    survey = argspec_to_survey(spec, name=role, structured=structured, prefixes=prefixes, tuning="last")
    assert awx_survey_errors(survey) == []
    options = spec["argument_specs"]["main"]["options"]
    variables = [q["variable"] for q in survey["spec"]]
    structured_options = [v for v, o in options.items() if o.get("type") in ("list", "dict", "raw") and not o.get("choices")]
    in_rule_order = sorted(options, key=lambda v: survey_rank(v, options[v], prefixes))  # stable: spec order within a rank
    if structured == "textarea":
        assert variables == in_rule_order
    else:
        assert variables == [v for v in in_rule_order if v not in structured_options]
        for variable in structured_options:
            assert variable in survey["description"]


@pytest.mark.parametrize("role", ROLES)
def test_real_role_tuning_knobs_stay_out_by_default(role):
    spec = _role_spec(role)
    options = spec["argument_specs"]["main"]["options"]
    tuning = [v for v in options if survey_rank(v, options[v], [role + "_"]) == TUNING]
    survey = argspec_to_survey(spec, prefixes=[role + "_"])
    assert awx_survey_errors(survey) == []
    assert not {q["variable"] for q in survey["spec"]} & set(tuning)
    for variable in tuning:
        assert variable in survey["description"]


@pytest.mark.parametrize("role", ROLES)
def test_real_role_defaults_survive(role):
    """Each question's default is the role's own default (bool as "true"/"false")."""
    options = _role_spec(role)["argument_specs"]["main"]["options"]
    for question in argspec_to_survey(_role_spec(role))["spec"]:
        option = options[question["variable"]]
        if "default" not in question:
            continue
        default = option.get("default")
        if option.get("type") == "bool":
            assert question["default"] == ("true" if default else "false")
        else:
            assert question["default"] == default or question["default"] == str(default), question["variable"]


def _templates():
    return load_yaml(VARS_FILE)


def _spec_docs(templates):
    docs = {}
    for template in templates["awx_job_templates"]:
        for source in template["sources"]:
            path = REPO / source["path"]
            docs[source["path"]] = load_yaml(path) if path.is_file() else None
    return docs


def _missing_required_specs(templates):
    return sorted({s["path"] for t in templates["awx_job_templates"] for s in t["sources"]
                   if not s.get("optional") and not (REPO / s["path"]).is_file()})


def test_job_template_surveys_as_the_playbook_generates_them():
    templates = _templates()
    missing = _missing_required_specs(templates)
    if missing:
        pytest.skip("argument specs not in this tree yet: {}".format(", ".join(missing)))
    docs = _spec_docs(templates)
    names = [t["name"] for t in templates["awx_job_templates"]]
    assert len(names) == len(set(names))
    playbooks = {t["playbook"] for t in templates["awx_job_templates"]}
    assert playbooks == {"site.yml", "playbooks/verify.yml", "playbooks/scale.yml", "playbooks/upgrade.yml",
                         "playbooks/teardown.yml", "playbooks/archive_prune.yml",
                         "playbooks/backup.yml", "playbooks/restore.yml", "playbooks/migrate.yml"}
    for template in templates["awx_job_templates"]:
        survey = argspec_to_survey(docs, name=template["name"], description=template["description"],
                                   sources=template["sources"], prefixes=templates["awx_survey_prefixes"])
        if not survey["spec"]:
            # the playbook disables the survey then (AWX rejects an empty spec)
            assert all(docs[s["path"]] is None for s in template["sources"]), template["name"]
            continue
        assert awx_survey_errors(survey) == [], template["name"]
        labels = [q["question_name"] for q in survey["spec"]]
        assert len(labels) == len(set(labels)), "ambiguous question names in {}".format(template["name"])


def test_site_survey_exposes_the_launch_choices():
    templates = _templates()
    missing = _missing_required_specs(templates)
    if missing:
        pytest.skip("argument specs not in this tree yet: {}".format(", ".join(missing)))
    site = next(t for t in templates["awx_job_templates"] if t["playbook"] == "site.yml")
    survey = argspec_to_survey(_spec_docs(templates), sources=site["sources"], prefixes=templates["awx_survey_prefixes"])
    questions = {q["variable"]: q for q in survey["spec"]}
    assert questions["k8s_statefulset_nginx_replicas"]["type"] == "integer"
    assert questions["k8s_statefulset_nginx_replicas"]["question_name"] == "StatefulSet: Replicas"
    assert questions["k8s_statefulset_nginx_verify_method"]["type"] == "multiplechoice"
    # environment settings stay in the inventory (a survey default would override it)
    assert "nfs_server_backend" not in questions and "k8s_statefulset_nginx_kubeconfig" not in questions


def test_credential_type_injects_file_and_env():
    credential_type = _templates()["awx_kubeconfig_credential_type"]
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    assert fields["kubeconfig"]["secret"] is True and fields["kubeconfig"]["multiline"] is True
    assert credential_type["injectors"]["file"] == {"template.kubeconfig": "{{ kubeconfig }}"}
    assert credential_type["injectors"]["env"] == {"K8S_AUTH_KUBECONFIG": "{{ tower.filename.kubeconfig }}"}


# ---------------------------------------------------------------- the playbook itself

def _ansible(tool):
    path = REPO / ".venv" / "bin" / tool
    if not path.exists():
        found = shutil.which(tool)
        if not found:
            pytest.skip(f"{tool} is not installed")
        return found
    return str(path)


def _env():
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / ".collections")
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def test_awx_configure_syntax_check():
    result = subprocess.run([_ansible("ansible-playbook"), "--syntax-check", "playbooks/awx_configure.yml"],
                            cwd=REPO, env=_env(), capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_awx_configure_render_only_writes_valid_surveys(tmp_path):
    templates = _templates()
    missing = _missing_required_specs(templates)
    if missing:
        pytest.skip("argument specs not in this tree yet: {}".format(", ".join(missing)))
    result = subprocess.run(
        [_ansible("ansible-playbook"), "playbooks/awx_configure.yml", "-e", "awx_render_only=true",
         "-e", f"awx_render_dir={tmp_path}"],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    written = sorted(p.name for p in tmp_path.glob("*.json"))
    assert written == sorted(Path(t["playbook"]).stem + ".json" for t in templates["awx_job_templates"])
    docs = _spec_docs(templates)
    for template in templates["awx_job_templates"]:
        survey = json.loads((tmp_path / (Path(template["playbook"]).stem + ".json")).read_text())
        expected = argspec_to_survey(docs, name=template["name"] + " survey", description=template["description"],
                                     sources=template["sources"], prefixes=templates["awx_survey_prefixes"])
        assert survey == expected, template["name"]
        if survey["spec"]:
            assert awx_survey_errors(survey) == [], template["name"]
