# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Comparing a desired manifest with a live object; Kubernetes quantities.

Pure functions, no request and no import of the other k8s helpers: ``apply`` (is a write
needed? did the server keep every field?), ``validation`` (is this a quantity?) and the
StatefulSet runner (does a change touch an immutable field?) all build on them.
"""

from __future__ import annotations

import json
import re

# A Kubernetes resource quantity (k8s.io/apimachinery/pkg/api/resource): a signed decimal
# number, then a binary-SI suffix (Ki..Ei), a decimal-SI suffix (n, u, m, k, M..E) or a
# decimal exponent (e3, E-2).
QUANTITY = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$")
_SUFFIX = {None: 1, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50,
           "Ei": 2 ** 60, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
           "P": 1e15, "E": 1e18}

# Metadata the server writes; never part of a desired manifest (a manifest saved with
# ``kubectl get -o yaml`` carries them).
BOOKKEEPING_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp",
                        "generation", "selfLink", "deletionTimestamp",
                        "deletionGracePeriodSeconds")

# Fields under these keys hold quantities (resources.limits.cpu, capacity.storage, ...).
_QUANTITY_PARENTS = ("limits", "requests", "capacity", "allocatable")


def parse_quantity(value):
    """Value of a Kubernetes quantity (``'1Gi'``, ``'500m'``, ``2``) as a float, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    m = QUANTITY.match(value.strip())
    if not m:
        return None
    number = float(m.group(1)) * (-1 if value.strip().startswith("-") else 1)
    suffix = m.group(3)
    if suffix and suffix[0] in "eE":
        return number * (10 ** int(suffix[1:]))
    return number * _SUFFIX[suffix]


def _is_quantity_path(path):
    return len(path) >= 2 and path[-2] in _QUANTITY_PARENTS


def _empty(v):
    return v is None or v == {} or v == []


def first_difference(desired, live, path=()):
    """Path (tuple) of the first desired field not matched by ``live``, or None when desired ⊆ live.

    An empty map or list in ``desired`` matches an absent field; quantities compare by value
    (``1Gi`` equals ``1024Mi``); lists compare element by element.
    """
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return path if not (_empty(desired) and live is None) else None
        for key, value in desired.items():
            if key not in live or live[key] is None:
                if _empty(value):
                    continue
                return path + (key,)
            diff = first_difference(value, live[key], path + (key,))
            if diff is not None:
                return diff
        return None
    if isinstance(desired, list):
        if not isinstance(live, list):
            return None if (_empty(desired) and live is None) else path
        if len(desired) != len(live):
            return path
        for i, (d, v) in enumerate(zip(desired, live)):
            diff = first_difference(d, v, path + (i,))
            if diff is not None:
                return diff
        return None
    if desired == live and type(desired) is type(live):
        return None
    if isinstance(desired, (int, float)) and isinstance(live, (int, float)) and not isinstance(
            desired, bool) and not isinstance(live, bool) and desired == live:
        return None
    if _is_quantity_path(path):
        a, b = parse_quantity(desired), parse_quantity(live)
        if a is not None and b is not None and abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1):
            return None
    return path


def format_path(path):
    """``('spec', 'ports', 0, 'port')`` -> ``spec.ports[0].port``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(root)"


def dropped_fields(desired, stored, path=()):
    """Paths (tuples) of the fields ``desired`` sets that ``stored`` (the server's answer) lacks.

    What the API server silently drops: a field of a disabled feature gate (Kubernetes v1.35
    drops ``spec.updateStrategy.rollingUpdate.maxUnavailable`` unless ``MaxUnavailableStatefulSet``
    is on, kubernetes#137409) or one its version does not serve. Empty maps and lists and None
    are not fields; list elements are matched by position (the API keeps the order of
    containers, ports, env and volumes).
    """
    if isinstance(desired, dict) and isinstance(stored, dict):
        out = []
        for key, value in desired.items():
            if _empty(value):
                continue
            if key not in stored or stored[key] is None:
                out.append(path + (key,))
            else:
                out.extend(dropped_fields(value, stored[key], path + (key,)))
        return out
    if isinstance(desired, list) and isinstance(stored, list):
        out = []
        for i, (d, v) in enumerate(zip(desired, stored)):
            out.extend(dropped_fields(d, v, path + (i,)))
        return out
    return []


# Fields of an existing StatefulSet's spec that the API refuses to change.
IMMUTABLE_STATEFULSET_FIELDS = ("selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates")


def immutable_changes(desired, live):
    """Names (``spec.<field>``) of immutable StatefulSet fields that ``desired`` would change on ``live``.

    ``podManagementPolicy`` unset means ``OrderedReady``; a claim template compares by its name
    and spec (the server adds ``status`` and defaults such as ``volumeMode``).
    """
    changed = []
    dspec, lspec = desired.get("spec") or {}, (live or {}).get("spec") or {}
    for field in IMMUTABLE_STATEFULSET_FIELDS:
        d, lv = dspec.get(field), lspec.get(field)
        if field == "podManagementPolicy":
            differs = (d or "OrderedReady") != (lv or "OrderedReady")
        elif field == "volumeClaimTemplates":
            d, lv = d or [], lv or []
            differs = len(d) != len(lv) or any(first_difference(_vct_essence(a), b) is not None
                                               for a, b in zip(d, lv))
        elif field == "selector":
            differs = (d or {}) != (lv or {})
        else:
            differs = d != lv
        if differs:
            changed.append("spec." + field)
    return changed


def _vct_essence(vct):
    return {"metadata": {"name": vct["metadata"]["name"]}, "spec": vct.get("spec") or {}}


# Fields of the pod template that others set by design, not reported: `kubectl rollout restart`
# stamps this annotation (replicas, set by `kubectl scale` or an autoscaler, are outside the
# template).
EXPECTED_FOREIGN = (("spec", "template", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt"),)


def _fieldset_leaves(fields, path=()):
    """The leaf paths of a managedFields ``fieldsV1`` tree, readable: ``f:x`` as x,
    ``k:{"name":"web"}`` as ``[name=web]``, ``v:...`` as ``[=value]``, ``i:N`` as ``[N]``."""
    leaves = []
    for key, sub in (fields or {}).items():
        if key == ".":
            continue
        kind, _sep, raw = key.partition(":")
        if kind == "k":
            try:
                step = "[" + ",".join(f"{k}={v}" for k, v in json.loads(raw).items()) + "]"
            except (ValueError, AttributeError):
                step = f"[{raw}]"
        elif kind == "v":
            step = f"[={raw}]"
        elif kind == "i":
            step = f"[{raw}]"
        else:
            step = raw
        children = {k: v for k, v in (sub or {}).items() if k != "."}
        leaves.extend(_fieldset_leaves(children, path + (step,)) if children else [path + (step,)])
    return leaves


def foreign_template_fields(live, manager, under=(("spec", "template"), ("spec", "volumeClaimTemplates"))):
    """``[(other manager, dotted path)]``: fields of the pod template and claim templates of ``live``
    that a manager other than ``manager`` (a name, or a tuple of them) set (its managedFields, subresources left out) and
    that server-side apply keeps (another manager's field is never removed by ours), except
    :data:`EXPECTED_FOREIGN`. Sorted."""
    ours = (manager,) if isinstance(manager, str) else tuple(manager)
    found = set()
    for entry in ((live or {}).get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") in ours or entry.get("subresource"):
            continue
        for leaf in _fieldset_leaves(entry.get("fieldsV1") or {}):
            if leaf in EXPECTED_FOREIGN or not any(leaf[:len(prefix)] == prefix for prefix in under):
                continue
            found.add((entry.get("manager") or "(unnamed)", ".".join(leaf).replace(".[", "[")))
    return sorted(found)
