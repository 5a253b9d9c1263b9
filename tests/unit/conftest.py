"""Unit-test setup: make ``ansible_collections.stateful.nfs`` importable.

tests/conftest.py (shared) is expected to do the same; this copy only acts when the import
does not work yet, so both can coexist. The collections path is found relative to this file.
"""

from __future__ import annotations

import os
import sys

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIONS = os.path.join(_REPO, '.collections')

try:
    import ansible_collections.stateful.nfs.plugins.module_utils  # noqa: F401
except ImportError:
    if os.path.isdir(os.path.join(_COLLECTIONS, 'ansible_collections', 'stateful', 'nfs')):
        sys.path.insert(0, _COLLECTIONS)
        for name in [m for m in sys.modules if m == 'ansible_collections' or m.startswith('ansible_collections.')]:
            del sys.modules[name]
