"""Fixtures of the k8s module_utils tests: an in-test API fake and a client pointed at it."""

from __future__ import annotations

import pytest
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.stateful.nfs.plugins.module_utils.k8s.retry import RetryPolicy

from tests.unit.plugins.module_utils.k8s.fakeapi import FakeApi


@pytest.fixture
def fake_api():
    fake = FakeApi().start()
    yield fake
    fake.stop()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(fake_api, sleeps):
    """K8sClient on the fake; retry sleeps are recorded instead of slept."""
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=4, budget=30, jitter=0, sleep=sleeps.append)
    return K8sClient.from_params({"host": fake_api.url, "api_key": "t0ken"}, retry_policy=policy,
                                 request_timeout=(2, 5))
