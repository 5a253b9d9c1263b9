"""Security tests reuse the integration suite's test double fixtures (tests/integration/conftest.py):
one in-process double for this folder (session scope), ``run`` to call modules with
ansible-playbook against localhost, ``ns`` for a fresh namespace per test."""
from tests.integration.conftest import _clean_faults, lab, ns, run  # noqa: F401  (pytest fixtures)
