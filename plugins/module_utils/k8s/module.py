# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes modules' one entry path, built on ``module_entry.run_module``.

Every Kubernetes module's ``main()`` is ``run_module("<its name>")``. :func:`run_module` adds
what is Kubernetes' own to the shared entry: the module's options in ``validation.MODULE_RULES``
plus the shared connection options, the check for the ``kubernetes`` library, the client, the
module's runner with an :class:`runners.Outcome` as its progress, and every
:class:`errors.K8sError` as the errors that fail the module (in the shared entry's one place).
"""

from __future__ import annotations

import copy
import traceback

from ansible_collections.stateful.nfs.plugins.module_utils import module_entry as entry
from ansible_collections.stateful.nfs.plugins.module_utils.k8s import (
    client as k8s_client,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.access import (
    run_access_review,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.errors import K8sError
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.identity import (
    read_identity,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.migrate import run_pvc_restore
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.restore import (
    RESTORE_OPTIONS,
    validate_restore_params,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.runners import (
    Outcome,
    run_provisioner,
    run_statefulset,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.validation import (
    MODULE_RULES,
)
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.verify import run_verify

# module -> runner(client, validated params, check_mode, outcome) -> result or None
RUNNERS = {"statefulset": run_statefulset, "nfs_provisioner": run_provisioner, "statefulset_info": read_identity,
           "statefulset_verify": run_verify, "access_review": run_access_review, "pvc_restore": run_pvc_restore}

# modules whose rules live in their own file (listed after validation in __init__.py)
OWN_RULES = {"pvc_restore": (RESTORE_OPTIONS, {}, validate_restore_params)}


def argument_spec(**module_options):
    """The module's options plus the shared connection options."""
    spec = copy.deepcopy(k8s_client.AUTH_ARG_SPEC)
    spec.update(module_options)
    return spec


def _check_library(module):
    if not k8s_client.HAS_KUBERNETES:
        module.fail_json(msg="the 'kubernetes' Python library is required on the host running this module"
                             " (pip install kubernetes)",
                         exception="".join(traceback.format_exception(
                             type(k8s_client.KUBERNETES_IMPORT_ERROR), k8s_client.KUBERNETES_IMPORT_ERROR,
                             k8s_client.KUBERNETES_IMPORT_ERROR.__traceback__)))


def run_module(name):
    """Validate once, connect, run, report: the whole ``main()`` of the Kubernetes module ``name``.

    The input is checked by ``AnsibleModule`` (the module's options) and then by the module's
    validator (``validation.MODULE_RULES``) before any request. The runner does the work,
    recording each object it handled in an :class:`runners.Outcome`; it returns the module's
    result, or None for the outcome's own (``changed``, ``objects``, ``diff`` and the runner's
    extra keys).

    Any :class:`errors.K8sError` fails the module in ``module_entry.run_module`` with its message
    and details, plus what was already done (so ``changed`` stays truthful after a partial run).
    """
    options, rules, validate = MODULE_RULES[name] if name in MODULE_RULES else OWN_RULES[name]

    def connect_and_run(module, outcome):
        params = validate(module.params)
        _check_library(module)
        if k8s_client.looks_inline(module.params.get("kubeconfig")):
            # a kubeconfig given to the path option (credentials included): keep it out of the result
            module.no_log_values.add(module.params["kubeconfig"])
        client = k8s_client.K8sClient.from_params(module.params, log=module.debug)
        return RUNNERS[name](client, params, module.check_mode, outcome)

    entry.run_module(argument_spec(**options), connect_and_run, errors=(K8sError,), rules=rules,
                     progress=lambda module: Outcome(module.warn))
