"""pytest set-up shared by every suite under tests/.

Puts <repo>/.collections on sys.path so that the collection's code imports the
way Ansible loads it (`ansible_collections.stateful.nfs.plugins...`; .collections
holds a stateful/nfs link to this checkout, see tools/install_collections.py).
The path is derived from this file's location, never hard-coded.

The cluster suites' fixtures (``lab``, ``ns``, ``run``: tests/support/cluster.py) are defined
here, once, so that tests/integration, tests/security and tests/bad_input share one session
identity and one fault proxy. A test that uses ``lab``, and every test of the folders that need
the cluster (``LAB_SUITES``), is marked ``lab``: `make unit` (pytest.ini) deselects those, `make
cluster-test` selects them.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_PATH = REPO_ROOT / ".collections"

if not (COLLECTIONS_PATH / "ansible_collections" / "stateful" / "nfs").exists():
    raise RuntimeError(
        f"{COLLECTIONS_PATH}/ansible_collections/stateful/nfs is missing: run `make deps` "
        "(or `.venv/bin/python tools/install_collections.py`) first"
    )
for entry in (str(COLLECTIONS_PATH), str(REPO_ROOT)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from tests.support.cluster import _clean_faults, lab, ns, run  # noqa: F401  (pytest fixtures)

LAB_SUITES = tuple(REPO_ROOT / "tests" / name for name in ("cluster_smoke", "integration"))


def pytest_collection_modifyitems(items):
    for item in items:
        path = Path(str(item.path))
        if "lab" in getattr(item, "fixturenames", ()) or any(path.is_relative_to(s) for s in LAB_SUITES):
            item.add_marker(pytest.mark.lab)


_checked_modules: set[str] = set()


def pytest_runtest_setup(item):
    """Before the first lab test of each module: every node still holds the lab's images
    (tests/support/lab.py, restore_lost_images says why)."""
    if item.get_closest_marker("lab") is None or item.module.__name__ in _checked_modules:
        return
    _checked_modules.add(item.module.__name__)
    from tests.support.lab import restore_lost_images
    for line in restore_lost_images():
        sys.__stderr__.write(f"\nLAB WARNING: {line}\n")
