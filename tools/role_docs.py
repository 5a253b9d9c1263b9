#!/usr/bin/env python3
"""Render generated tables into README.md: role variables and the bad-input table.

The argument specs are the single source of truth for role variables; the README
holds a generated copy between markers:

    <!-- BEGIN role-vars:ROLE -->
    ...
    <!-- END role-vars:ROLE -->

and the bad-input table of tests/bad_input/TABLE.md (itself generated from the
test's cases) between `<!-- BEGIN bad-input-table -->` and its END marker.

`tools/role_docs.py` rewrites those blocks; `tools/role_docs.py --check` exits 1
when the README is stale (run by the unit tests).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MARKUP = re.compile(r"[CVOIM]\(([^)]*)\)")
BLOCK = re.compile(r"(<!-- BEGIN role-vars:(?P<role>[\w]+) -->\n)(?P<body>.*?)(<!-- END role-vars:(?P=role) -->)", re.DOTALL)


def plain(text: str) -> str:
    """Turn Ansible doc markup (C(x), O(x), V(x)...) into Markdown code spans."""
    return MARKUP.sub(lambda m: f"`{m.group(1)}`", text).replace("|", "\\|").replace("\n", " ")


def describe(spec: dict) -> str:
    desc = spec.get("description", "")
    if isinstance(desc, list):
        desc = " ".join(desc)
    text = plain(desc)
    if spec.get("choices"):
        text += " Choices: " + ", ".join(f"`{c}`" for c in spec["choices"]) + "."
    if spec.get("options"):
        text += " Keys: " + ", ".join(f"`{k}`" for k in spec["options"]) + "."
    return text


def render_role(role: str) -> str:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"].get("options", {})
    rows = ["| variable | type | default | description |", "| --- | --- | --- | --- |"]
    for name in sorted(options):
        spec = options[name]
        kind = spec.get("type", "str")
        if kind == "list" and spec.get("elements"):
            kind = f"list of {spec['elements']}"
        if spec.get("required"):
            default = "*required*"
        elif "default" in spec:
            default = "`" + json.dumps(spec["default"]).replace("|", "\\|") + "`"
        else:
            default = ""
        rows.append(f"| `{name}` | {kind} | {default} | {describe(spec)} |")
    return "\n".join(rows) + "\n"


BAD_INPUT = re.compile(r"(<!-- BEGIN bad-input-table -->\n)(.*?)(<!-- END bad-input-table -->)", re.DOTALL)


def render_bad_input() -> str:
    """The rows of tests/bad_input/TABLE.md (its title and preamble stay there)."""
    lines = (ROOT / "tests" / "bad_input" / "TABLE.md").read_text().splitlines()
    return "\n".join(line for line in lines if line.startswith("|")) + "\n"


def update(text: str) -> str:
    text = BLOCK.sub(lambda m: m.group(1) + render_role(m.group("role")) + m.group(4), text)
    return BAD_INPUT.sub(lambda m: m.group(1) + render_bad_input() + m.group(3), text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is not current")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    current = args.readme.read_text()
    wanted = update(current)
    if args.check:
        if wanted != current:
            print(f"{args.readme} is stale: run tools/role_docs.py", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        args.readme.write_text(wanted)
        print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
