# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Controller survey specs generated from role argument specs.

One source of truth: the questions of every job template survey come from the
roles' (and playbooks') ``meta/argument_specs.yml``; nothing is written by hand.
``playbooks/awx_configure.yml`` loads the spec files and calls this filter.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: argspec_to_survey
short_description: AWX survey spec from role argument specs
version_added: 0.1.0
description:
  - Turns the options of one or more argument spec documents (the content of a role's
    C(meta/argument_specs.yml)) into an AWX / Automation Controller survey spec
    (C({name, description, spec})) that M(awx.awx.job_template) accepts as O(awx.awx.job_template#module:survey_spec).
  - "Type mapping: C(str) and C(path) become C(text) (C(textarea) when the default has
    several lines), any type with C(choices) becomes C(multiplechoice) (C(list) with
    C(choices) becomes C(multiselect)), C(int) becomes C(integer), C(float) becomes C(float)."
  - C(bool) becomes C(multiplechoice) with the choices C(true) and C(false); AWX has no
    boolean question type, so the answer reaches the play as the B(string) C("true") or
    C("false"). Roles must test such variables with C(| bool) (ansible-core 2.19 refuses a
    string as a conditional).
  - An option with C(no_log) or whose name ends in C(password), C(passwd), C(secret),
    C(token), C(api_key) becomes a C(password) question, without a default.
  - C(list) and C(dict) options (and C(raw)) are B(not) questions by default
    (O(structured=omit)), because a survey answer is always a string and argument spec validation does
    not convert it back, so a textarea answer would reach the role as a string. They are listed
    in the survey description instead, to be given as Extra Variables (YAML) at launch, which AWX
    parses into real lists and dicts (the job templates prompt for variables on launch).
    With O(structured=textarea) they become C(textarea) questions with a JSON/YAML note;
    the playbook must then parse the string itself.
  - The question's default is the option's static default (a survey default is always
    sent as an extra var, so it overrides inventory variables; expose only what an operator
    should choose at launch, see O(include) and O(exclude)). Defaults that are templates
    (contain C({{)) or C(null) are left out, and so is the default of a required option.
  - The first spec that defines a variable wins; later duplicates are ignored.
  - "Question order, one rule for every survey: first the B(target) questions, where the job acts
    and on what: the variables whose name, without its prefix (O(prefixes)), is C(context) (the
    kubeconfig context), C(namespace) or C(name) (the object's C(metadata.namespace) and
    C(metadata.name)), or C(app) (an application of C(statefulset_applications), by name);
    then every other question in the order of O(sources) and their C(include)
    lists (else the spec's own order); B(tuning) knobs last. A tuning knob is an C(int) or C(float)
    option whose name ends in C(_retries), C(_delay), C(_timeout) or C(_interval) (the words of
    Ansible's C(retries)/C(delay) keywords and of kubernetes.core's C(wait_timeout))."
  - "Tuning knobs are B(not) questions by default (O(tuning=omit)): a survey default is sent as an
    extra var and would override the inventory's value, and how long to wait for a cluster or an
    NFS server is a property of the environment, kept in the inventory. They are named in the
    survey description, to be set in the inventory or as Extra Variables at launch."
options:
  _input:
    description:
      - An argument spec document (a dict with the key C(argument_specs)), or a list of them.
        C(null) items (a spec file that does not exist) are skipped.
    type: raw
    required: true
  name:
    description: Survey name.
    type: str
    default: ''
  description:
    description: Survey description; the list of structured variables is appended.
    type: str
    default: ''
  sources:
    description:
      - When set, the input is a dict of spec path to document (C(null) for a file that does not
        exist) and each item of O(sources) picks one of them, in order
        (C({path, include, exclude, optional, entry_point})). A missing spec fails unless C(optional).
      - C(include) (only these variables, in this order) and C(exclude) apply to that spec alone.
    type: list
    elements: raw
  entry_point:
    description: Entry point of every argument spec document.
    type: str
    default: main
  include:
    description: Only these variables, in this order. Empty means every option.
    type: list
    elements: str
    default: []
  exclude:
    description: Variables never exposed (internal, connection, credentials).
    type: list
    elements: str
    default: []
  structured:
    description: What to do with C(list), C(dict) and C(raw) options.
    type: str
    choices: [omit, textarea]
    default: omit
  tuning:
    description: What to do with tuning knobs (see the order rule above); V(last) makes them the last questions.
    type: str
    choices: [omit, last]
    default: omit
  prefixes:
    description:
      - Prefixes stripped from a variable name to build the question name; a dict maps each prefix to a
        label put in front, so prefix C(nfs_server_) with label C(NFS server) turns C(nfs_server_verify) into the question C(NFS server) colon C(Verify).
    type: raw
    default: []
"""

EXAMPLES = r"""
- name: Survey of the nfs_server role
  ansible.builtin.debug:
    msg: >-
      {{ lookup('ansible.builtin.file', 'roles/nfs_server/meta/argument_specs.yml') | from_yaml
         | stateful.nfs.argspec_to_survey(name='NFS server', exclude=['nfs_server_nfs_conf']) }}
"""

RETURN = r"""
_value:
  description: The survey spec, C({name, description, spec}); C(spec) may be empty (then disable the survey).
  type: dict
"""

import json
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.six import string_types

SECRET_NAME = re.compile(r"(^|_)(password|passwd|secret|token|api_key|apikey)$")
STRUCTURED_TYPES = ("list", "dict", "raw")
# Ansible documentation markup: C(x), V(x), O(x), M(x), I(x), B(x), U(x), L(text,url), E(x), P(x)
_MARKUP = re.compile(r"\b([CVOMIBUEP])\(([^()]*)\)")
_LINK = re.compile(r"\bL\(([^,()]*),[^()]*\)")
BOOL_NOTE = "Answer true or false (AWX passes it as a string; the role reads it with | bool)."
# Survey order (see DOCUMENTATION): target questions, the others, tuning knobs.
TARGET = 0
OTHER = 1
TUNING = 2
TARGET_NAMES = ("context", "namespace", "name", "app")
TUNING_SUFFIXES = ("_retries", "_delay", "_timeout", "_interval")


def _plain(text):
    """Description text without Ansible markup, as one paragraph."""
    if text is None:
        return ""
    if is_sequence(text):
        text = " ".join(str(t) for t in text)
    text = _LINK.sub(r"\1", str(text))
    text = _MARKUP.sub(r"\2", text)
    return " ".join(text.split())


def _strip_prefix(variable, prefixes):
    """(name without its longest matching prefix, the prefix's label) for a list or dict of prefixes."""
    if not isinstance(prefixes, dict):
        prefixes = {p: "" for p in prefixes}
    for prefix in sorted(prefixes, key=len, reverse=True):
        if prefix and variable.startswith(prefix) and len(variable) > len(prefix):
            return variable[len(prefix):], prefixes[prefix] or ""
    return variable, ""


def survey_rank(variable, option, prefixes=()):
    """TARGET, OTHER or TUNING: where the question goes in a survey (the rule in DOCUMENTATION)."""
    otype = option.get("type", "str") if isinstance(option, dict) else None
    if otype in ("int", "float") and variable.endswith(TUNING_SUFFIXES):
        return TUNING
    if _strip_prefix(variable, prefixes)[0].strip("_") in TARGET_NAMES:
        return TARGET
    return OTHER


def _question_name(variable, prefixes):
    """'k8s_statefulset_nginx_replicas' with {'k8s_statefulset_nginx_': 'StatefulSet'} -> 'StatefulSet: Replicas'."""
    label, context = _strip_prefix(variable, prefixes)
    label = label.strip("_").replace("_", " ")
    label = label[:1].upper() + label[1:]
    return f"{context}: {label}" if context else label


def _is_templated(value):
    return isinstance(value, string_types) and ("{{" in value or "{%" in value)


def _bool_text(value):
    return "true" if value else "false"


def _options(doc, entry_point, where):
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise AnsibleFilterError(f"argspec_to_survey: {where} is a {type(doc).__name__}, expected an argument spec document (dict)")
    specs = doc.get("argument_specs", doc)
    if not isinstance(specs, dict) or entry_point not in specs:
        found = ", ".join(sorted(specs)) if isinstance(specs, dict) else "none"
        raise AnsibleFilterError(f"argspec_to_survey: {where} has no entry point {entry_point!r} (found: {found})")
    options = (specs[entry_point] or {}).get("options") or {}
    if not isinstance(options, dict):
        raise AnsibleFilterError(f"argspec_to_survey: {where} entry point {entry_point!r}: options must be a dict")
    return options


def option_to_question(variable, option, prefixes=(), structured="omit"):
    """One survey question (dict) for one argument spec option, or None when it is not a question."""
    if not isinstance(option, dict):
        raise AnsibleFilterError(f"argspec_to_survey: option {variable!r} must be a dict, got {type(option).__name__}")
    otype = option.get("type", "str")
    if callable(otype) or not isinstance(otype, string_types):
        raise AnsibleFilterError(f"argspec_to_survey: option {variable!r} has an unsupported type {otype!r}")
    required = bool(option.get("required", False))
    default = option.get("default")
    choices = option.get("choices")
    description = _plain(option.get("description"))
    notes = []

    question = {
        "question_name": _question_name(variable, prefixes),
        "question_description": "",
        "variable": variable,
        "required": required,
    }

    secret = bool(option.get("no_log")) or bool(SECRET_NAME.search(variable))
    if secret and otype not in STRUCTURED_TYPES + ("bool", "int", "float"):
        question["type"] = "password"
        default = None  # a secret default would be stored in the survey: the role's default applies
        notes.append("Secret: never logged.")
    elif otype == "bool":
        question["type"] = "multiplechoice"
        question["choices"] = ["true", "false"]
        if isinstance(default, bool):
            default = _bool_text(default)
        elif default is not None:
            default = _bool_text(str(default).lower() in ("1", "true", "yes", "on", "y", "t"))
        notes.append(BOOL_NOTE)
    elif otype in ("int", "float") and not choices:
        question["type"] = "integer" if otype == "int" else "float"
        if default is not None:
            try:
                default = int(default) if otype == "int" else float(default)
            except (TypeError, ValueError):
                raise AnsibleFilterError(f"argspec_to_survey: option {variable!r}: default {default!r} is not a {otype}")
    elif otype == "list" and choices:
        question["type"] = "multiselect"
        question["choices"] = [str(c) for c in choices]
        if default is not None:
            default = "\n".join(str(d) for d in default)
    elif otype in STRUCTURED_TYPES:
        if structured == "omit":
            return None
        question["type"] = "textarea"
        notes.append("JSON or YAML (%s); AWX passes the answer as a string that the playbook must parse."
                     % ("a list" if otype == "list" else "a mapping" if otype == "dict" else "any value"))
        default = None if default is None else json.dumps(default, sort_keys=True)
    elif choices:
        question["type"] = "multiplechoice"
        question["choices"] = [str(c) for c in choices]
        if default is not None:
            default = str(default)
    elif otype in ("str", "path", "bytes", "bits", "jsonarg", "json"):
        if default is not None and not isinstance(default, string_types):
            default = str(default)
        question["type"] = "textarea" if default is not None and "\n" in default else "text"
    else:
        raise AnsibleFilterError(f"argspec_to_survey: option {variable!r} has an unsupported type {otype!r}")

    if otype in ("int", "float") and choices:
        notes.append("One of: {}.".format(", ".join(str(c) for c in choices)))

    if default is not None and not required and not _is_templated(default):
        question["default"] = default
    elif not required and question["type"] != "password":
        notes.append("Leave unanswered to keep the inventory's or the role's value.")

    question["question_description"] = " ".join([description] + notes).strip()
    return question


def _sources(specs, sources, entry_point, include, exclude):
    """Normalise the input into (where, options, include, exclude) tuples."""
    if sources is None:
        docs = specs if is_sequence(specs) else [specs]
        found = []
        for index, doc in enumerate(docs):
            where = f"argument spec #{index}"
            options = _options(doc, entry_point, where)
            if options is not None:
                found.append((where, options, [], []))
        if include:
            found = [(w, o, [v for v in include if v in o], []) for w, o, _i, _e in found]
            known = {v for _w, o, _i, _e in found for v in o}
            unknown = [v for v in include if v not in known]
            if unknown:
                raise AnsibleFilterError("argspec_to_survey: include names variables no argument spec defines: {}".format(", ".join(unknown)))
        return found
    if not isinstance(specs, dict):
        raise AnsibleFilterError("argspec_to_survey: with sources, the input must be a dict of spec path to document")
    if not is_sequence(sources):
        raise AnsibleFilterError("argspec_to_survey: sources must be a list of {path, include, exclude, optional}")
    found = []
    for source in sources:
        if isinstance(source, string_types):
            source = {"path": source}
        if not isinstance(source, dict) or "path" not in source:
            raise AnsibleFilterError(f"argspec_to_survey: a source must be a path or a dict with a path, got {source!r}")
        path = source["path"]
        if specs.get(path) is None:
            if source.get("optional", False):
                continue
            raise AnsibleFilterError(f"argspec_to_survey: argument spec {path} is missing (not optional)")
        options = _options(specs[path], source.get("entry_point", entry_point), path)
        inc = list(source.get("include") or [])
        unknown = [v for v in inc if v not in options]
        if unknown:
            raise AnsibleFilterError("argspec_to_survey: include of {} names variables it does not define: {}".format(path, ", ".join(unknown)))
        found.append((path, options, inc, list(source.get("exclude") or [])))
    return found


def argspec_to_survey(specs, name="", description="", sources=None, entry_point="main", include=None, exclude=None,
                      structured="omit", prefixes=None, tuning="omit"):
    """Survey spec (dict) from argument spec documents, questions in the order of survey_rank."""
    if structured not in ("omit", "textarea"):
        raise AnsibleFilterError(f"argspec_to_survey: structured must be 'omit' or 'textarea', got {structured!r}")
    if tuning not in ("omit", "last"):
        raise AnsibleFilterError(f"argspec_to_survey: tuning must be 'omit' or 'last', got {tuning!r}")
    global_exclude = set(exclude or [])
    prefixes = prefixes or {}
    if not isinstance(prefixes, dict) and not is_sequence(prefixes):
        raise AnsibleFilterError("argspec_to_survey: prefixes must be a list of prefixes or a dict of prefix to label")

    ranked = []
    left_out = []
    tuning_left_out = []
    seen = set()
    for _where, options, inc, exc in _sources(specs, sources, entry_point, list(include or []), exclude):
        for variable in (inc or list(options)):
            if variable in seen or variable in global_exclude or variable in exc:
                continue
            seen.add(variable)
            question = option_to_question(variable, options[variable], prefixes, structured)
            rank = survey_rank(variable, options[variable], prefixes)
            if question is None:
                left_out.append(variable)
            elif rank == TUNING and tuning == "omit":
                tuning_left_out.append(variable)
            else:
                ranked.append((rank, len(ranked), question))
    questions = [question for _rank, _position, question in sorted(ranked, key=lambda item: item[:2])]

    notes = [description] if description else []
    if left_out:
        notes.append("Set in Extra Variables (YAML) at launch if needed: {}.".format(", ".join(left_out)))
    if tuning_left_out:
        notes.append("Tuning, from the inventory or Extra Variables at launch: {}.".format(", ".join(tuning_left_out)))
    return {"name": name or "", "description": " ".join(notes), "spec": questions}


class FilterModule:
    """stateful.nfs survey filters."""

    def filters(self):
        return {"argspec_to_survey": argspec_to_survey}
