"""Reuse the integration suite's test double fixtures (tests/integration/conftest.py).

The ``lab`` fixture is session-scoped: this folder gets its own in-process test double
(one per conftest that imports it), on a free loopback port, stopped at the end.
"""
from tests.integration.conftest import _clean_faults, lab  # noqa: F401  (pytest fixtures)
