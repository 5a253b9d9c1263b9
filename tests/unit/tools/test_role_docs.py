"""The README's role variable tables are generated from the argument specs."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location("role_docs", ROOT / "tools" / "role_docs.py")
role_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(role_docs)


def test_markup_becomes_code_spans():
    assert role_docs.plain("use O(a) or V(b), see C(x|y)") == "use `a` or `b`, see `x\\|y`"


def test_every_role_has_a_current_table_in_readme():
    readme = (ROOT / "README.md").read_text()
    roles = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
    assert roles, "no role with argument specs found"
    documented = set(re.findall(r"<!-- BEGIN role-vars:(\w+) -->", readme))
    assert documented == set(roles), f"README documents {sorted(documented)}, roles are {roles}"
    assert role_docs.update(readme) == readme, "README.md is stale: run tools/role_docs.py"


def test_table_lists_every_option_of_a_role(tmp_path):
    table = role_docs.render_role("nfs_server")
    import yaml

    options = yaml.safe_load((ROOT / "roles/nfs_server/meta/argument_specs.yml").read_text())
    for name in options["argument_specs"]["main"]["options"]:
        assert f"| `{name}` |" in table


@pytest.mark.parametrize("stale", ["| old row |\n", ""])
def test_update_replaces_block_contents(stale):
    text = f"x\n<!-- BEGIN role-vars:nfs_server -->\n{stale}<!-- END role-vars:nfs_server -->\ny\n"
    out = role_docs.update(text)
    assert "| `nfs_server_backend` |" in out and "| old row |" not in out
    assert out.startswith("x\n") and out.endswith("y\n")


def test_readme_carries_the_bad_input_table():
    readme = (ROOT / "README.md").read_text()
    assert "<!-- BEGIN bad-input-table -->" in readme
    rows = role_docs.render_bad_input().splitlines()
    assert len(rows) >= 2 + 25, "the bad-input table has fewer than 25 cases"
    assert all(row in readme for row in rows)
