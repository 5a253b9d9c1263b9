"""Why a suite failed, in a few lines: what `make test` prints at its very end when it failed.

CI keeps only the tail of `make test`'s output, and a failed molecule scenario or pytest suite
says why far above it (a molecule log is thousands of lines). This reads the logs named on the
command line and prints, per log, at most ``--lines`` lines (default 60):

- pytest: each failed test's header, ``E`` lines and failing lines, then the ``short test summary
  info`` section (``FAILED``/``ERROR`` lines with their reason);
- Ansible: each ``fatal: [host]: FAILED! => {...}`` or ``failed: [host] (item=...) => {...}``
  not followed by ``...ignoring``, its ``msg`` decoded (JSON, real newlines: the molecule verify
  playbooks put pytest's failures there), read as pytest's output when it is, else its last lines;
- molecule: ``CRITICAL`` lines (an idempotence failure names its changed tasks below it).

A log with molecule's ``CRITICAL`` lines is read for Ansible's failures; any other for pytest's
(or Ansible's, when it has no pytest failure).

Usage: ``python tools/failure_digest.py [--lines N] LOG...``; a missing log is named, not an error.
Exit status 0 always: it only reports.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ANSIBLE_FAILURE = re.compile(r"^(?:fatal|failed): \[[^\]]+\](?: \(item=.*?\))?(?:: FAILED!)? => (\{.*\})\s*$")
SECTION = re.compile(r"^=+ (.+?) =+$")
TEST_HEADER = re.compile(r"^_+ (.+?) _+$")
LOCATION = re.compile(r"^[\w/.-]+\.py:\d+: \w")


def pytest_failures(lines: list[str]) -> list[str]:
    """From pytest's output: each failed test's header, its ``E`` lines (at most 12) and the
    ``file.py:N: Error`` lines of its traceback, then the ``short test summary info`` lines."""
    out: list[str] = []
    seen: set[str] = set()  # a test said twice (a verify playbook's message repeats pytest's tail) once
    section = ""
    e_lines = 0
    repeated = False
    for line in lines:
        text = line.rstrip("\n")
        banner = SECTION.match(text)
        if banner:
            section = banner.group(1)
            continue
        if section in ("FAILURES", "ERRORS"):
            header = TEST_HEADER.match(text)
            if header:
                repeated = header.group(1) in seen
                seen.add(header.group(1))
                if not repeated:
                    out.append(f"-- {header.group(1)}")
                e_lines = 0
            elif repeated:
                continue
            elif text.startswith("E ") and e_lines < 12:
                out.append(text[:500])
                e_lines += 1
            elif LOCATION.match(text):
                out.append(text[:500])
        elif section == "short test summary info" and text.startswith(("FAILED ", "ERROR ")) and text not in out:
            out.append(text[:2000])
    return out


def ansible_failures(lines: list[str]) -> list[str]:
    """Each failure Ansible did not ignore, its ``msg`` decoded: pytest's failures when the msg
    holds pytest's output, else the msg's last 40 lines."""
    out: list[str] = []
    for i, line in enumerate(lines):
        match = ANSIBLE_FAILURE.match(line.rstrip("\n"))
        if not match:
            continue
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if following == "...ignoring":
            continue
        head = line.split(" => ", 1)[0]
        try:
            result = json.loads(match.group(1))
        except ValueError:
            out.append(line.rstrip("\n")[:2000])
            continue
        msg = result.get("msg", "") if isinstance(result, dict) else ""
        text = msg if isinstance(msg, str) else json.dumps(msg)
        body = pytest_failures(text.splitlines()) or text.splitlines()[-40:] or [json.dumps(result)[:2000]]
        out.append(f"{head}:")
        out.extend(f"    {b}" for b in body)
    return out


def molecule_critical(lines: list[str]) -> list[str]:
    """molecule's ``CRITICAL`` lines and the few lines that explain them."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("CRITICAL"):
            out.extend(item.rstrip("\n") for item in lines[i:i + 8])
    return out


def digest(path: Path, limit: int) -> list[str]:
    """At most ``limit`` lines saying why the run logged in ``path`` failed (its last ones)."""
    try:
        lines = path.read_text(errors="replace").splitlines(keepends=True)
    except OSError as exc:
        return [f"(no log: {exc.strerror})"]
    critical = molecule_critical(lines)
    # a molecule log (it has CRITICAL lines) says why in Ansible's failures; a pytest log in its own
    found = ansible_failures(lines) + critical if critical else pytest_failures(lines) or ansible_failures(lines)
    if not found:
        return ["(no failure line found; the log's last lines:)"] + [x.rstrip("\n") for x in lines[-10:]]
    return found[-limit:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=60, help="at most this many lines per log (default 60)")
    parser.add_argument("logs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for log in args.logs:
        print(f"== why it failed: {log}")
        for line in digest(log, args.lines):
            print(f"  {line}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
