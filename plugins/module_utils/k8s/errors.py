# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions raised by the k8s helpers.

Every exception carries a complete, human readable message: modules pass
``str(exc)`` to ``fail_json`` unchanged, plus ``exc.details`` as extra keys.
"""

from __future__ import annotations

import json
import re

from ansible_collections.stateful.nfs.plugins.module_utils.module_entry import ModuleError


class K8sError(ModuleError):
    """Base class. ``details`` is merged into the module's failure result."""


class InputError(K8sError):
    """A module parameter is invalid. Raised before any request is sent."""

    def __init__(self, param, message, **details):
        super().__init__(f"{param}: {message}", param=param, **details)
        self.param = param


class ConnectionConfigError(K8sError):
    """The connection options cannot produce a client (kubeconfig missing, bad context...)."""


class ApiUnreachableError(K8sError):
    """The API server could not be reached (refused, DNS, TLS, timeout)."""


class ApiError(K8sError):
    """The API answered with an error status (after retries, when retriable).

    ``status`` is the HTTP status, ``reason`` the Status ``reason`` (e.g.
    ``Conflict``, ``Invalid``), ``api_message`` the Status ``message``.
    """

    def __init__(self, what, status, reason=None, api_message=None, attempts=1, body=None):
        self.what = what
        self.status = status
        self.reason = reason
        self.api_message = api_message
        self.attempts = attempts
        self.body = body
        super().__init__("")
        self.refresh_message()

    def refresh_message(self):
        msg = f"{self.what} failed: HTTP {self.status}"
        if self.reason:
            msg += f" {self.reason}"
        if self.api_message:
            msg += f": {self.api_message}"
        if self.attempts > 1:
            msg += f" (after {self.attempts} attempts)"
        if self.status == 401:
            msg += (". The API rejected the credentials: check api_key / K8S_AUTH_API_KEY,"
                    " the client certificate, or the kubeconfig user")
        elif self.status == 403:
            msg += ". The credentials are valid but not allowed to do this (RBAC)"
        self.message = msg
        self.args = (msg,)
        self.details = {"status": self.status, "reason": self.reason,
                        "api_message": self.api_message, "attempts": self.attempts}

    def first_cause_field(self):
        """The JSON path of the first field the API's ``Status.details.causes`` names (or, for an
        apply body that does not fit the schema, the field its message names), or None."""
        match = re.search(r"(\.[^\s:]+): field not declared in schema", self.api_message or "")
        if match:
            return match.group(1).lstrip(".")
        try:
            body = json.loads(self.body or b"{}")
        except (TypeError, ValueError):
            return None
        for cause in ((body if isinstance(body, dict) else {}).get("details") or {}).get("causes") or []:
            if cause.get("field"):
                return cause["field"].lstrip(".")
        return None


class ApiUnreachableAfterRetries(ApiUnreachableError):
    """The connection kept being reset; ``attempts`` says how often we tried."""

    def __init__(self, what, cause, attempts=1):
        self.what = what
        self.cause = cause
        self.attempts = attempts
        super().__init__("")
        self.refresh_message()

    def refresh_message(self):
        plural = "" if self.attempts == 1 else "s"
        self.message = (f"{self.what} failed: connection to the API was lost ({self.cause})"
                        f" after {self.attempts} attempt{plural}")
        self.args = (self.message,)
        self.details = {"attempts": self.attempts}


class ImmutableFieldError(K8sError):
    """An existing object differs from the desired one in a field that cannot change."""

    def __init__(self, what, fields, hint):
        self.fields = fields
        msg = "{}: cannot change immutable field{} {}. {}".format(
            what, "s" if len(fields) > 1 else "", ", ".join(fields), hint)
        super().__init__(msg, immutable_fields=list(fields))


class WaitTimeoutError(K8sError):
    """A wait ran out of time. ``details`` holds the diagnostics."""


class VerificationError(K8sError):
    """A proof failed. ``details`` holds the whole report (pods, checks, failures)."""
