"""Patch flavours: JSON merge (RFC 7386), JSON patch (RFC 6902), strategic merge, server-side apply.

Strategic merge and apply use one table of list merge keys, keyed by the field name
(the real server reads them from the OpenAPI schema; the names below are the ones the
collection's objects use). Any other list is atomic (replaced as a whole).

Server-side apply, simplified field ownership: each manager owns a set of *leaf paths*
(``f:spec``/``f:replicas``; keyed list items as ``k:{"name":"nginx"}``; atomic lists and
empty maps are leaves). The sets are rendered as real ``managedFields`` entries in
FieldsV1 form. An apply:
  1. conflicts (409) when it sets a leaf that another manager owns to a value different
     from the live one, unless ``force=true`` (then ownership moves to the applier);
  2. removes leaves the applier owned before and no longer applies, when no other manager
     owns them (a keyed list item disappears when nobody owns anything inside it);
  3. merges the applied config into the live object (keyed lists merged by key).
Updates (PUT/PATCH) make their manager own the leaves whose value they changed.
"""
from __future__ import annotations

import copy
import json

MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "ownerReferences": "uid", "conditions": "type",
    "hostAliases": "ip", "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
}
SET_LISTS = {"finalizers"}  # primitive lists merged as sets by strategic merge / apply


def merge_key_for(field, items):
    if field == "ports":
        for it in items or []:
            if isinstance(it, dict):
                return "containerPort" if "containerPort" in it else "port"
        return None
    return MERGE_KEYS.get(field)


class PatchError(Exception):
    pass


# ---------------------------------------------------------------- JSON merge patch
def json_merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = json_merge(result.get(k), v)
    return result


# ---------------------------------------------------------------- JSON patch
def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, list):
            cur = cur[int(p)]
        elif isinstance(cur, dict):
            cur = cur[p]
        else:
            raise KeyError(p)
    return cur


def json_patch(doc, ops):
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations")
    for op in ops:
        try:
            kind = op["op"]
            parts = _ptr(op["path"])
            if kind == "test":
                if _walk(doc, parts) != op.get("value"):
                    raise PatchError(f"test operation failed at {op['path']}")
                continue
            if kind in ("move", "copy"):
                value = copy.deepcopy(_walk(doc, _ptr(op["from"])))
                if kind == "move":
                    doc = json_patch(doc, [{"op": "remove", "path": op["from"]}])
                kind, op = "add", {"op": "add", "path": op["path"], "value": value}
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if kind == "add":
                if isinstance(parent, list):
                    parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(op["value"]))
                else:
                    parent[last] = copy.deepcopy(op["value"])
            elif kind == "remove":
                if isinstance(parent, list):
                    parent.pop(int(last))
                else:
                    del parent[last]
            elif kind == "replace":
                if isinstance(parent, list):
                    parent[int(last)] = copy.deepcopy(op["value"])
                else:
                    if last not in parent:
                        raise KeyError(last)
                    parent[last] = copy.deepcopy(op["value"])
            else:
                raise PatchError(f"unknown json patch op {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise PatchError(f"json patch {op!r} failed: {exc!r}") from exc
    return doc


# ---------------------------------------------------------------- strategic merge patch
def strategic_merge(target, patch, field=None):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/") or k == "$retainKeys":
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            result[name] = [x for x in result.get(name) or [] if x not in v]
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, list):
            result[k] = _smp_list(k, result.get(k), v)
        elif isinstance(v, dict):
            merged = strategic_merge(result.get(k), v, k)
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        else:
            result[k] = v
    return result


def _smp_list(field, cur, patch):
    cur = cur if isinstance(cur, list) else []
    if field in SET_LISTS:
        out = list(cur)
        for x in patch:
            if x not in out:
                out.append(x)
        return out
    key = merge_key_for(field, patch + cur)
    if not key or not all(isinstance(x, dict) for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch if x.get("$patch") != "replace"]
    out = [copy.deepcopy(x) for x in cur]
    for item in patch:
        idx = next((i for i, c in enumerate(out) if isinstance(c, dict) and c.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out


# ---------------------------------------------------------------- field paths (SSA)
IGNORED_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}


def leaf_paths(obj, include_status=False):
    """Set of leaf paths (tuples of FieldsV1 keys) with their values."""
    out = {}

    def walk(node, prefix, field=None):
        if isinstance(node, dict):
            if not node and prefix:
                out[prefix] = node
                return
            for k, v in node.items():
                if not prefix:
                    if k in ("apiVersion", "kind") or (k == "status" and not include_status):
                        continue
                if prefix == ("f:metadata",) and k in IGNORED_META:
                    continue
                walk(v, prefix + (f"f:{k}",), k)
        elif isinstance(node, list):
            key = merge_key_for(field, node) if field else None
            if key and node and all(isinstance(x, dict) and key in x for x in node):
                for item in node:
                    kid = "k:" + json.dumps({key: item[key]}, separators=(",", ":"))
                    walk(item, prefix + (kid,), None)
            elif field in SET_LISTS and node:
                for item in node:
                    out[prefix + ("v:" + json.dumps(item),)] = item
            else:
                out[prefix] = node
        else:
            out[prefix] = node

    walk(obj, ())
    return out


def to_fields_v1(paths):
    root = {}
    for p in sorted(paths):
        cur = root
        for part in p:
            cur = cur.setdefault(part, {})
    return _add_dots(root)


def _add_dots(node):
    for k, v in list(node.items()):
        if v and k.startswith("k:"):
            v["."] = {}
        _add_dots(v)
    return node


def from_fields_v1(fields):
    paths = set()

    def walk(node, prefix):
        kids = {k: v for k, v in node.items() if k != "."}
        if not kids:
            if prefix:
                paths.add(prefix)
            return
        for k, v in kids.items():
            walk(v, prefix + (k,))

    walk(fields or {}, ())
    return paths


def _get_path(obj, path):
    cur = obj
    for part in path:
        kind, _, name = part.partition(":")
        if kind == "f":
            if not isinstance(cur, dict) or name not in cur:
                return _MISSING
            cur = cur[name]
        elif kind == "k":
            (mk, mv), = json.loads(name).items()
            if not isinstance(cur, list):
                return _MISSING
            cur = next((x for x in cur if isinstance(x, dict) and x.get(mk) == mv), _MISSING)
            if cur is _MISSING:
                return _MISSING
        elif kind == "v":
            v = json.loads(name)
            return v if isinstance(cur, list) and v in cur else _MISSING
    return cur


_MISSING = object()


def _remove_path(obj, path, still_owned):
    """Remove a leaf path; drop keyed items nobody owns anything under; prune emptied maps."""
    # find the outermost keyed-item prefix that nobody owns any more
    for i, part in enumerate(path):
        if part.startswith("k:"):
            pre = path[: i + 1]
            if not any(p[: i + 1] == pre for p in still_owned):
                parent = _get_path(obj, path[:i])
                if isinstance(parent, list):
                    (mk, mv), = json.loads(part[2:]).items()
                    parent[:] = [x for x in parent if not (isinstance(x, dict) and x.get(mk) == mv)]
                    if not parent and path[i - 1].startswith("f:"):
                        holder = _get_path(obj, path[: i - 1])
                        if isinstance(holder, dict):
                            holder.pop(path[i - 1][2:], None)
                    return
    parent = _get_path(obj, path[:-1])
    last = path[-1]
    kind, _, name = last.partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(name, None)
    elif kind == "v" and isinstance(parent, list):
        v = json.loads(name)
        if v in parent:
            parent.remove(v)
    # prune maps emptied by the removal (not the top-level sections)
    for depth in range(len(path) - 1, 1, -1):
        node = _get_path(obj, path[:depth])
        if isinstance(node, dict) and not node and path[depth - 1].startswith("f:"):
            container = _get_path(obj, path[: depth - 1])
            if isinstance(container, dict):
                container.pop(path[depth - 1][2:], None)
        else:
            break


def apply_merge(live, cfg, field=None):
    """Merge an applied configuration into the live object (keyed lists by key, sets as sets)."""
    if not isinstance(cfg, dict):
        return copy.deepcopy(cfg)
    out = copy.deepcopy(live) if isinstance(live, dict) else {}
    for k, v in cfg.items():
        if isinstance(v, dict):
            out[k] = apply_merge(out.get(k), v, k)
        elif isinstance(v, list):
            key = merge_key_for(k, v)
            cur = out.get(k) if isinstance(out.get(k), list) else []
            if k in SET_LISTS:
                out[k] = list(cur) + [x for x in v if x not in cur]
            elif key and all(isinstance(x, dict) and key in x for x in v):
                merged = []
                for item in v:  # applied order first, then live-only items
                    old = next((c for c in cur if isinstance(c, dict) and c.get(key) == item[key]), None)
                    merged.append(apply_merge(old, item))
                for c in cur:
                    if not any(isinstance(c, dict) and c.get(key) == m.get(key) for m in merged):
                        merged.append(c)
                out[k] = merged
            else:
                out[k] = copy.deepcopy(v)
        else:
            out[k] = v
    return out


class Conflict(Exception):
    def __init__(self, conflicts):
        self.conflicts = conflicts  # list of (manager, path)
        super().__init__("; ".join(f'conflict with "{m}": {render_path(p)}' for m, p in conflicts))


def render_path(path):
    out = ""
    for part in path:
        kind, _, name = part.partition(":")
        out += f".{name}" if kind == "f" else f"[{name}]"
    return out


def managers(obj):
    """{(manager, operation, subresource): set(paths)} from metadata.managedFields."""
    res = {}
    for e in (obj.get("metadata") or {}).get("managedFields") or []:
        res[(e.get("manager", ""), e.get("operation", "Update"), e.get("subresource", ""))] = (
            from_fields_v1(e.get("fieldsV1")), e)
    return res


def render_managed(owned, api_version, now, previous):
    entries = []
    for (mgr, op, sub), paths in owned.items():
        if not paths:
            continue
        prev = previous.get((mgr, op, sub))
        time = prev[1].get("time") if prev and prev[0] == paths else now
        e = {"manager": mgr, "operation": op, "apiVersion": api_version, "time": time,
             "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(paths)}
        if sub:
            e["subresource"] = sub
        entries.append(e)
    return entries


def server_side_apply(live, cfg, manager, force, include_status=False, subresource=""):
    """Return (new_object, owned) where owned maps (manager, op, sub) -> set(paths)."""
    prev = managers(live) if live else {}
    owned = {k: set(v[0]) for k, v in prev.items()}
    me = (manager, "Apply", subresource)
    new_paths = leaf_paths(cfg, include_status=True)
    conflicts = []
    if live:
        for path, value in new_paths.items():
            cur = _get_path(live, path)
            for other, paths in owned.items():
                if other == me or path not in paths:
                    continue
                if cur is not _MISSING and cur != value:
                    conflicts.append((other[0], path))
        if conflicts and not force:
            raise Conflict(conflicts)
        if force:
            for other_mgr, path in conflicts:
                for k in owned:
                    if k[0] == other_mgr:
                        owned[k].discard(path)
    old_mine = owned.get(me, set())
    owned[me] = set(new_paths)
    result = copy.deepcopy(live) if live else {}
    still = set().union(*[p for k, p in owned.items()]) if owned else set()
    for path in sorted(old_mine - set(new_paths), key=len, reverse=True):
        if path not in still:
            _remove_path(result, path, still)
    result = apply_merge(result, cfg)
    return result, owned


def record_update(old, new, manager, subresource="", include_status=False):
    """Ownership after a non-apply write: manager owns the leaves it changed or added."""
    prev = managers(old) if old else {}
    owned = {k: set(v[0]) for k, v in prev.items()}
    before = leaf_paths(old or {}, include_status=True)
    after = leaf_paths(new, include_status=True)
    changed = {p for p, v in after.items() if before.get(p, _MISSING) != v}
    removed = set(before) - set(after)
    for k in owned:
        owned[k] -= changed | removed
        # paths that vanished because a parent became atomic, etc.
        owned[k] = {p for p in owned[k] if p in after}
    if changed:
        me = (manager, "Update", subresource)
        owned.setdefault(me, set()).update(changed)
    return owned
