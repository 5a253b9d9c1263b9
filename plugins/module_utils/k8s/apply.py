# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server-side apply with a no-write idempotency check, diffs and deletes.

Policy
------
* Field manager ``stateful.nfs`` (:data:`FIELD_MANAGER`). Because the manifests are applied (not
  merged), a field that a user removes from the module's input is removed from
  the object, *provided* no other manager also owns it.
* ``force=true`` by default: the module's input is the declared truth, so a
  field last changed by someone else (``kubectl edit``, ``kubectl scale``) is
  taken back. With ``force_conflicts: false`` such a conflict fails with the
  API's 409 message, which lists the fields and their current managers.
* Check mode sends the apply with ``dryRun=All``: the API server runs
  admission, defaulting and validation, persists nothing, and answers with the
  object it would have stored. That answer is the "after" of the diff.

Deciding "changed" without writing
----------------------------------
Before any PATCH the live object is read. No write is sent when **both** hold:

1. every field of the desired manifest is present in the live object with the
   same value (quantities such as ``1Gi``/``1024Mi`` compare by value; an empty
   map or list in the manifest matches an absent field), and
2. nothing the ``stateful.nfs`` manager owns (``metadata.managedFields``,
   operation ``Apply``) is absent from the manifest, i.e. no field was removed
   from the input since the last apply.

If the live object carries managed fields but none belong to ``stateful.nfs``
(object created by kubectl or another tool), one apply is sent to take
ownership; ``changed`` then reports whether anything but bookkeeping changed.
If the server records no managed fields at all, only rule 1 applies.
"""

from __future__ import annotations

import copy
import json

from ansible_collections.stateful.nfs.plugins.module_utils.k8s.compare import (
    BOOKKEEPING_METADATA,
    dropped_fields,
    first_difference,
    format_path,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.resources import Ref

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

# The field manager of every apply; objects it manages are this collection's.
FIELD_MANAGER = "stateful.nfs"

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def owned_fields(live, manager=FIELD_MANAGER):
    """(has_managed_fields, fieldsV1-of-manager-or-None) for the ``Apply`` entries of ``manager``."""
    entries = ((live or {}).get("metadata") or {}).get("managedFields")
    if not entries:
        return False, None
    merged = None
    for entry in entries:
        if entry.get("manager") == manager and entry.get("operation") == "Apply":
            fields = entry.get("fieldsV1")
            if fields is None:
                continue
            merged = _merge_fieldsets(merged or {}, fields)
    return True, merged


def _merge_fieldsets(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge_fieldsets(out.get(k) or {}, v or {}) if k in out else v
    return out


def _match_key(element, keyfields):
    if not isinstance(element, dict):
        return False
    # a key field absent from the manifest is left to the server's default: accept it
    return all(element.get(k) == v for k, v in keyfields.items() if k in element)


def owned_but_absent(fields, obj, path=()):
    """Paths owned by the manager (fieldsV1 tree ``fields``) that ``obj`` no longer sets."""
    missing = []
    for key, sub in (fields or {}).items():
        if key == ".":
            continue
        kind, _sep, raw = key.partition(":")
        if kind == "f":
            if not isinstance(obj, dict) or raw not in obj or obj[raw] is None:
                missing.append(path + (raw,))
            elif sub:
                missing.extend(owned_but_absent(sub, obj[raw], path + (raw,)))
        elif kind == "k":
            try:
                keyfields = json.loads(raw)
            except ValueError:
                continue
            match = None
            if isinstance(obj, list):
                for element in obj:
                    if _match_key(element, keyfields):
                        match = element
                        break
            if match is None:
                missing.append(path + (key,))
            elif sub:
                missing.extend(owned_but_absent(sub, match, path + (key,)))
        elif kind == "v":
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(obj, list) or value not in obj:
                missing.append(path + (key,))
        elif kind == "i":
            try:
                idx = int(raw)
            except ValueError:
                continue
            if not isinstance(obj, list) or idx >= len(obj):
                missing.append(path + (key,))
            elif sub:
                missing.extend(owned_but_absent(sub, obj[idx], path + (key,)))
    return missing


def needs_apply(desired, live, manager=FIELD_MANAGER):
    """(True/False, reason). False means: sending the apply would change nothing."""
    if live is None:
        return True, "does not exist"
    diff = first_difference(desired, live)
    if diff is not None:
        return True, f"field {format_path(diff)} differs"
    tracked, owned = owned_fields(live, manager)
    if not tracked:
        return False, "matches (server reports no managed fields)"
    if owned is None:
        return True, f"matches, but is not owned by field manager {manager} yet"
    gone = owned_but_absent(owned, desired)
    if gone:
        return True, f"field {format_path(gone[0])} was removed from the input"
    return False, "matches"


def sanitize(obj):
    """Copy of ``obj`` without server bookkeeping and status, for diffs and results."""
    if obj is None:
        return None
    obj = copy.deepcopy(obj)
    obj.pop("status", None)
    meta = obj.get("metadata") or {}
    for key in BOOKKEEPING_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations")
    if annotations is not None:
        annotations.pop(LAST_APPLIED, None)
        if not annotations:
            meta.pop("annotations")
    return obj


def to_text(obj):
    if obj is None:
        return ""
    if HAS_YAML:
        return yaml.safe_dump(obj, default_flow_style=False, sort_keys=True)
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


class Result:
    """Outcome for one object. ``as_dict()`` is what modules return per object."""

    def __init__(self, ref, action, changed, before=None, after=None, reason=None, warnings=None):
        self.ref = ref
        self.action = action  # create | update | unchanged | delete | absent
        self.changed = changed
        self.before = before
        self.after = after
        self.reason = reason
        self.warnings = warnings or []
        # fields of the manifest that the server's answer lacks (see compare.dropped_fields)
        self.dropped = []
        # the object as the server keeps it, bookkeeping included (managedFields), when known
        self.stored = None

    def diff(self):
        return {
            "before_header": f"{self.ref} (live)",
            "after_header": f"{self.ref} ({self.action})",
            "before": to_text(self.before),
            "after": to_text(self.after),
        }

    def as_dict(self):
        return {
            "kind": self.ref.kind,
            "name": self.ref.name,
            "namespace": self.ref.namespace,
            "action": self.action,
            "changed": self.changed,
            "reason": self.reason,
        }


def apply_object(client, desired, check_mode=False, force=True, live=None, live_known=False,
                 namespace_pending=False):
    """Apply one manifest. Returns a :class:`Result`; sends no write when nothing would change.

    ``live``/``live_known`` let a caller that already read the object skip the GET.
    ``namespace_pending``: check mode, and the object's namespace would be created first, so the
    server cannot dry-run it (404); the object is reported as created from the manifest itself.
    """
    ref = Ref.of(desired)
    if namespace_pending and check_mode:
        return Result(ref, "create", True, None, sanitize(desired),
                      f"namespace {ref.namespace} would be created first (not dry-run on the server)")
    if not live_known:
        live = client.get(ref)
    write, reason = needs_apply(desired, live)
    before = sanitize(live)
    if not write:
        result = Result(ref, "unchanged", False, before, before, reason)
        result.stored = live
        return result
    answer = client.apply(desired, FIELD_MANAGER, dry_run=check_mode, force=force)
    after = sanitize(answer)
    changed = live is None or before != after
    action = "create" if live is None else ("update" if changed else "unchanged")
    result = Result(ref, action, changed, before, after, reason)
    result.dropped = [format_path(path) for path in dropped_fields(desired, answer)]
    result.stored = answer
    return result


def delete_object(client, ref, check_mode=False, propagation_policy="Background", live=None,
                  live_known=False):
    """Delete one object if it exists (dryRun=All in check mode)."""
    if not live_known:
        live = client.get(ref)
    if live is None:
        return Result(ref, "absent", False, None, None, "does not exist")
    client.delete(ref, propagation_policy=propagation_policy, dry_run=check_mode)
    return Result(ref, "delete", True, sanitize(live), None,
                  f"deleted (propagationPolicy={propagation_policy})")
