# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue between AnsibleModule and the k8s helpers (argument spec, client, failures)."""

from __future__ import annotations

import copy
import traceback

from ansible_collections.stateful.nfs.plugins.module_utils.k8s import (
    client as k8s_client,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import K8sError


def argument_spec(**module_options):
    """The module's options plus the shared connection options and ``force_conflicts``."""
    spec = copy.deepcopy(k8s_client.AUTH_ARG_SPEC)
    spec.update(module_options)
    return spec


APPLY_OPTIONS = {"force_conflicts": {"type": "bool", "default": True},
                 "create_namespace": {"type": "bool", "default": False}}


def check_library(module):
    if not k8s_client.HAS_KUBERNETES:
        module.fail_json(msg="the 'kubernetes' Python library is required on the host running this module"
                             " (pip install kubernetes)",
                         exception="".join(traceback.format_exception(
                             type(k8s_client.KUBERNETES_IMPORT_ERROR), k8s_client.KUBERNETES_IMPORT_ERROR,
                             k8s_client.KUBERNETES_IMPORT_ERROR.__traceback__)))


def connect(module):
    """A K8sClient for the module's connection options (fails the module on bad options)."""
    check_library(module)
    if k8s_client.looks_inline(module.params.get("kubeconfig")):
        # a kubeconfig given to the path option (credentials included): keep it out of the result
        module.no_log_values.add(module.params["kubeconfig"])
    try:
        return k8s_client.K8sClient.from_params(module.params, log=module.debug)
    except K8sError as exc:
        module.fail_json(msg=str(exc), **exc.details)


def fail(module, exc, **extra):
    result = dict(extra)
    result.update(getattr(exc, "details", {}) or {})
    module.fail_json(msg=str(exc), **result)


def fail_with_outcome(module, exc, outcome):
    """Fail, reporting what was already done (so ``changed`` is truthful after a partial run)."""
    result = outcome.module_result()
    if not module._diff:
        result.pop("diff", None)
    fail(module, exc, **result)
