"""pytest set-up shared by every suite under tests/.

Puts <repo>/.collections on sys.path so that the collection's code imports the
way Ansible loads it (`ansible_collections.stateful.nfs.plugins...`; .collections
holds a stateful/nfs link to this checkout, see tools/install_collections.py).
The path is derived from this file's location, never hard-coded.
"""
from __future__ import annotations

import sys
from pathlib import Path

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
