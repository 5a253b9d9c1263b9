"""Shared set-up for tests that run modules in process."""
from __future__ import annotations

import pytest
from ansible.module_utils import _internal


@pytest.fixture(autouse=True)
def module_side_process(monkeypatch):
    """Run each module as it runs on a target: outside the controller.

    Importing any controller code (``ansible.errors``, a filter plugin under test)
    flips ``ansible.module_utils._internal.is_controller`` for the whole pytest
    process, after which ``AnsibleModule.warn`` prints through the controller's
    Display instead of returning ``warnings``, and the warning assertions would
    depend on test order.
    """
    monkeypatch.setattr(_internal, "is_controller", False)
