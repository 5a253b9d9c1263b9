"""Shared set-up for tests that run modules in process."""
from __future__ import annotations

import pytest
from ansible.module_utils import _internal
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.retry import RetryPolicy

from tests.unit.plugins.module_utils.k8s.fakeapi import FakeApi

# The class of the walkthrough, as the fake API holds it for the Kubernetes module tests.
SC = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "managed-nfs-storage"},
      "provisioner": "fuseim.pri/ifs"}


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


@pytest.fixture
def fake_api(monkeypatch):
    """The in-test API fake (no retry delays) holding namespace default and StorageClass ``SC``."""
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.0)
    fake = FakeApi().start()
    fake.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    fake.put(SC)
    yield fake
    fake.stop()
