# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's one entry path: argument spec, run, and each failure to ``fail_json`` in one place.

A module's ``main()`` calls :func:`run_module` (or, for the Kubernetes modules,
``k8s.module.run_module``, built on it) with its options from a shared dict, its runner and
the exception types that fail it. The runner records what it has done in a progress object
as it goes, so a failure returns that partial outcome and ``changed`` stays true to what
happened (as kubernetes.core's ``module_utils/k8s/core.py`` does for its modules).
"""

from __future__ import annotations

from contextlib import contextmanager

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native


class ModuleError(Exception):
    """A failure of a module run: a complete message, and ``details`` merged into the failure result."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self):
        return self.message


@contextmanager
def failure_context(what, *errors):
    """Within it, an exception of ``errors`` becomes a :class:`ModuleError` ``"<what>: <its message>"``."""
    try:
        yield
    except errors as exc:
        raise ModuleError(f"{what}: {to_native(exc)}") from exc


class Progress(dict):
    """The result a run has built so far (the default progress of :func:`run_module`)."""

    def module_result(self):
        return dict(self)


def failure_result(exc, partial, diff=True):
    """The keys a failure returns: what was done (``partial``) plus the error's ``details``."""
    result = dict(partial)
    result.update(getattr(exc, "details", None) or {})
    if not diff:
        result.pop("diff", None)
    return result


def run_module(argument_spec, runner, errors=(), rules=None, progress=None):
    """Build the ``AnsibleModule``, run ``runner(module, done)``, and exit or fail: a module's whole ``main()``.

    ``argument_spec`` and ``rules`` (``mutually_exclusive``, ``required_one_of``, ...) are the
    module's options. ``progress(module)`` makes ``done``, in which the runner records its work
    (default: an empty :class:`Progress`, a dict); the runner returns the module's result, or
    None for ``done.module_result()``. A :class:`ModuleError` or an exception of ``errors`` fails
    the module with its message, the partial outcome and the error's ``details``. ``diff`` is
    returned only in diff mode.
    """
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **(rules or {}))
    done = progress(module) if progress else Progress()
    try:
        result = runner(module, done)
    except (ModuleError, *errors) as exc:
        module.fail_json(msg=to_native(exc), **failure_result(exc, done.module_result(), module._diff))
    if result is None:
        result = done.module_result()
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)
