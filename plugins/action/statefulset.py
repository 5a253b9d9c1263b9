# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of stateful.nfs.statefulset: reads ``src`` on the controller.

``src`` is a YAML file as ``kubectl apply -f`` takes it, found as ``copy`` finds its ``src``
(the role's or playbook's ``files/``, else the path as given). It holds one StatefulSet and
at most one Service, its headless Service; they become the module's ``definition`` and (unless
the task gives one) ``service``. Everything else is the module's: ``src`` is passed on so that
its messages name the file.
"""
from __future__ import annotations

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

ALLOWED_KINDS = ("StatefulSet", "Service")


class SrcError(Exception):
    """``src`` does not hold one StatefulSet and at most one Service; the message names the file."""


def manifests_of(text, src):
    """``{kind: manifest}`` of the StatefulSet and Service in ``text`` (YAML, several documents).

    Raises SrcError naming ``src`` and the document when the text is not YAML, holds a document
    that is not a mapping, a kind other than StatefulSet and Service, or one of them twice.
    """
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise SrcError(f"src {src}: not YAML: {exc}") from exc
    found = {}
    for index, document in enumerate(documents):
        kind = document.get("kind") if isinstance(document, dict) else None
        if not isinstance(document, dict):
            raise SrcError(f"src {src}: document {index + 1} is not a mapping (a Kubernetes manifest)")
        if kind not in ALLOWED_KINDS:
            raise SrcError(f"src {src}: document {index + 1} is a {kind or 'manifest without kind'}; the file holds"
                           " a StatefulSet and optionally its headless Service (apply other objects with"
                           " kubernetes.core.k8s)")
        if kind in found:
            raise SrcError(f"src {src}: document {index + 1} is a second {kind}; the file holds one StatefulSet and"
                           " at most one Service")
        found[kind] = document
    if "StatefulSet" not in found:
        raise SrcError(f"src {src}: holds no StatefulSet (kinds found: {', '.join(found) or 'none'})")
    return found


class ActionModule(ActionBase):
    """Read ``src`` into ``definition`` (and ``service``), then run the module."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        src = args.get("src")
        if src is not None and args.get("definition") is not None:
            result.update(failed=True, msg="parameters are mutually exclusive: definition|src")
            return result
        if src is not None:
            try:
                path = self._find_needle("files", src)
                with open(path, encoding="utf-8") as handle:
                    found = manifests_of(handle.read(), src)
            except (AnsibleError, OSError, UnicodeDecodeError) as exc:
                result.update(failed=True, msg=f"src {src}: cannot read it on the controller: {to_text(exc)}")
                return result
            except SrcError as exc:
                result.update(failed=True, msg=str(exc))
                return result
            args["definition"] = found["StatefulSet"]
            if "Service" in found and args.get("service") is None:
                args["service"] = found["Service"]
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        return result
