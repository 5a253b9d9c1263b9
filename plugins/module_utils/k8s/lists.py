# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lists the roles hand over: StorageClasses (role ``nfs_provisioner``) and applications
(role ``statefulset``).

Each entry of a list is the parameters of one module call, named as the module names them; the
module owns the entry's rules (``validation.input_problems``). What is about the list as a whole
lives here: names derived from a class's name, names two entries must not share, and which
application a run selects. Both plans return every problem at once, so a role stops before its
first change with the whole list of what to fix.
"""
from __future__ import annotations

import hashlib

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import InputError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import (
    check_dns1123_label,
    input_problems,
    named_port_problem,
    planned_definition,
)

# Keys of an application entry (role statefulset): its name, the statefulset module's parameters,
# the statefulset_verify module's parameters (false: not proved), whether its report is written.
APPLICATION_KEYS = ("name", "statefulset", "verify", "report")
# What statefulset_verify takes from the StatefulSet of the entry, never from the entry's verify.
_VERIFY_TARGET = ("name", "namespace")
_DEPLOYMENT_SUFFIX = "-provisioner"


def plain(value):
    """``value`` as plain dicts and lists, each value rendered once.

    A filter receives Ansible's lazy containers, which template a value each time it is read; the
    argument-spec validation deep-copies its input, and a copy of a lazy container renders the
    inventory's variables again (2.5 s of a warm site.yml's controller time before this).
    """
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def deployment_name_for(storage_class_name):
    """The provisioner Deployment of a class: ``<class>-provisioner``, dots made dashes.

    A DNS-1123 label (at most 63 characters): a longer class name is cut and keeps 8 hex digits of
    its sha256, so two long names stay apart.
    """
    base = storage_class_name.replace(".", "-")
    if len(base) + len(_DEPLOYMENT_SUFFIX) > 63:
        digest = hashlib.sha256(storage_class_name.encode()).hexdigest()[:8]
        base = base[:63 - len(_DEPLOYMENT_SUFFIX) - 9].rstrip("-") + "-" + digest
    return base + _DEPLOYMENT_SUFFIX


def provisioner_name_for(storage_class_name):
    """The PROVISIONER_NAME of a class: ``stateful.nfs/<class>`` (one provisioner per class)."""
    return f"stateful.nfs/{storage_class_name}"


def _duplicates(entries, key, what, list_name):
    """Problems for values of ``key`` (a function of an entry, None = not known) given twice."""
    seen, problems = {}, []
    for i, entry in entries:
        value = key(entry)
        if value is None:
            continue
        if value in seen:
            problems.append(f"{list_name}[{i}]: {what} {value!r} is also {list_name}[{seen[value]}]'s")
        else:
            seen[value] = i
    return problems


def provisioner_class_plan(classes, defaults):
    """The nfs_provisioner parameters of each class, and every problem of the list.

    ``classes``: list of dicts, each nfs_provisioner's parameters; ``storage_class_name`` is
    required, ``name`` (the Deployment) defaults to ``deployment_name_for(class)`` and
    ``provisioner_name`` to ``provisioner_name_for(class)``. ``defaults``: parameters for keys
    an entry leaves out (e.g. ``nfs_server``, ``nfs_path``, ``namespace``; ``None`` values are
    left out). Returns ``{"classes": [params...], "problems": [str...]}``: problems name the entry
    (``nfs_provisioner_classes[1].nfs_path``) and say what the module would refuse; two classes
    may not share a class name, a provisioner name or a Deployment (namespace and name): a
    provisioner name is served by exactly one Deployment, which serves one export.
    """
    list_name = "nfs_provisioner_classes"
    classes, defaults = plain(classes), plain(defaults)
    if not isinstance(classes, list):
        return {"classes": [], "problems": [f"{list_name}: must be a list of StorageClasses, got {type(classes).__name__}"]}
    planned, problems = [], []
    for i, entry in enumerate(classes):
        if not isinstance(entry, dict):
            problems.append(f"{list_name}[{i}]: must be a dict of nfs_provisioner parameters, got {entry!r}")
            continue
        sc = entry.get("storage_class_name")
        if not isinstance(sc, str) or not sc:
            problems.append(f"{list_name}[{i}].storage_class_name: is required (the StorageClass's name)")
            continue
        params = {k: v for k, v in (defaults or {}).items() if v is not None}
        params.update(name=deployment_name_for(sc), provisioner_name=provisioner_name_for(sc))
        params.update({k: v for k, v in entry.items() if v is not None})
        problems += [f"{list_name}[{i}]: {m}" for m in input_problems(params, "nfs_provisioner")]
        planned.append((i, params))
    problems += _duplicates(planned, lambda p: p["storage_class_name"], "StorageClass", list_name)
    problems += _duplicates(planned, lambda p: p.get("provisioner_name"), "provisioner_name", list_name)
    problems += _duplicates(planned, lambda p: (p.get("namespace", "default"), p.get("name")),
                            "provisioner Deployment (namespace, name)", list_name)
    return {"classes": [params for _index, params in planned], "problems": problems}


def _is_dns1123_label(value):
    """Whether ``value`` passes validation's DNS-1123 label rule (the one for names everywhere)."""
    try:
        check_dns1123_label("name", value)
    except InputError:
        return False
    return True


def statefulset_target(params):
    """``(namespace, name, service name)`` of a statefulset module call, each None where only the
    module knows it (``src`` is read on the controller by the module's action plugin)."""
    definition = params.get("definition")
    if isinstance(definition, dict):
        meta = definition.get("metadata") or {}
        spec = definition.get("spec") or {}
        namespace = meta.get("namespace") or params.get("namespace") or "default"
        return namespace, meta.get("name"), spec.get("serviceName")
    if params.get("src") is not None:
        return None, None, None
    name = params.get("name")
    return params.get("namespace") or "default", name, params.get("service_name") or name


def _app_check_port_problems(where, verify, sts):
    """The application check's named port against the ports the StatefulSet's containers declare
    (known before the run from ``definition`` or the shorthand options; not with ``src``)."""
    port = ((verify.get("app_check") or {}).get("http_get") or {}).get("port")
    definition = planned_definition(sts) if isinstance(port, str) and not port.isdigit() else None
    if definition is None:
        return []
    problem = named_port_problem(port, ((definition.get("spec") or {}).get("template") or {}).get("spec"))
    return [f"{where}.verify.app_check.http_get.port: {problem}"] if problem else []


def application_plan(applications, selected="", required=False):
    """The module parameters of each application, the ones a run selects, and every problem.

    ``applications``: list of dicts with keys ``APPLICATION_KEYS``: ``name`` (required when the
    StatefulSet's name is not known before the run, i.e. with ``src``; else defaults to it),
    ``statefulset`` (stateful.nfs.statefulset's parameters, required), ``verify``
    (stateful.nfs.statefulset_verify's parameters without ``name``/``namespace``, which come from
    the StatefulSet; ``false`` for none; default ``{}``), ``report`` (bool, default true).
    ``selected``: an application name, or "" for all (``required``: one must be named, as the day-2
    changes scale and upgrade act on one application). Returns ``{"applications": [...],
    "selected": [...], "problems": [...]}``; each application is ``{name, statefulset, verify,
    report, namespace, statefulset_name}`` (the last two None when only the module knows them).
    Two applications may not share a name, a StatefulSet or a headless Service (namespace and
    name): one would take over the other's pods' DNS records.
    """
    list_name = "statefulset_applications"
    applications = plain(applications)
    if not isinstance(applications, list):
        return {"applications": [], "selected": [],
                "problems": [f"{list_name}: must be a list of applications, got {type(applications).__name__}"]}
    planned, problems = [], []
    for i, entry in enumerate(applications):
        where = f"{list_name}[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a dict with keys {', '.join(APPLICATION_KEYS)}, got {entry!r}")
            continue
        unknown = sorted(set(entry) - set(APPLICATION_KEYS))
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; an application has {', '.join(APPLICATION_KEYS)}")
        sts = entry.get("statefulset")
        if not isinstance(sts, dict) or not sts:
            problems.append(f"{where}.statefulset: is required (the parameters of stateful.nfs.statefulset)")
            continue
        namespace, sts_name, service = statefulset_target(sts)
        if "patch" in sts:
            problems.append(f"{where}.statefulset.patch: a day-2 change is made by playbooks/scale.yml or upgrade.yml"
                            " (-e app=NAME), not in the inventory, which declares the application")
        sts_problems = input_problems(sts, "statefulset") if sts.get("src") is None else []
        problems += [f"{where}.statefulset: {m}" for m in sts_problems]
        name = entry.get("name") if entry.get("name") is not None else sts_name
        if not _is_dns1123_label(name):
            problems.append(f"{where}.name: {name!r} must be a DNS-1123 label naming the application"
                            " (required with statefulset.src; it selects the application with -e app=NAME)")
            continue
        verify = entry.get("verify", {})
        if verify is not False:
            if not isinstance(verify, dict):
                problems.append(f"{where}.verify: must be statefulset_verify's parameters or false, got {verify!r}")
                verify = {}
            given = sorted(k for k in _VERIFY_TARGET if k in verify)
            if given:
                problems.append(f"{where}.verify: {', '.join(given)} come(s) from the StatefulSet; leave them out")
            if "fail_on_failure" in verify:
                problems.append(f"{where}.verify.fail_on_failure: the role reports a failed proof, then fails the"
                                " run; leave it out")
            verify = {k: v for k, v in verify.items() if k not in _VERIFY_TARGET + ("fail_on_failure",)}
            target = {"name": sts_name or name, "namespace": namespace or "default"}
            verify_problems = input_problems(dict(verify, **target), "statefulset_verify")
            problems += [f"{where}.verify: {m}" for m in verify_problems]
            if not verify_problems and not sts_problems and sts.get("src") is None:
                problems += _app_check_port_problems(where, verify, sts)
        report = entry.get("report", True)
        if not isinstance(report, bool):
            problems.append(f"{where}.report: must be true or false, got {report!r}")
        planned.append((i, {"name": name, "statefulset": sts, "verify": verify, "report": report is not False,
                            "namespace": namespace, "statefulset_name": sts_name, "service_name": service}))
    problems += _duplicates(planned, lambda a: a["name"], "application name", list_name)
    problems += _duplicates(planned, lambda a: a["statefulset_name"] and (a["namespace"], a["statefulset_name"]),
                            "StatefulSet (namespace, name)", list_name)
    problems += _duplicates(planned, lambda a: a["service_name"] and (a["namespace"], a["service_name"]),
                            "headless Service (namespace, name)", list_name)
    apps = [app for _index, app in planned]
    names = [a["name"] for a in apps]
    if selected and selected not in names:
        problems.append(f"statefulset_app (-e app=NAME): {selected!r} is not an application of {list_name};"
                        f" it has {', '.join(names) or 'none'}")
    elif required and not selected:
        problems.append(f"statefulset_app (-e app=NAME): name the one application to act on; {list_name} has"
                        f" {', '.join(names) or 'none'}")
    return {"applications": apps, "selected": [n for n in names if not selected or n == selected],
            "problems": problems}
