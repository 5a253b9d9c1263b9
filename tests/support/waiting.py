"""Bounded polling."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(what: str, predicate: Callable[[], T], timeout: float = 60.0, interval: float = 0.5) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy, and
    return that. Raise AssertionError naming ``what`` and the last value (or exception) after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = predicate()
        except Exception as exc:  # noqa: BLE001  # a failing probe is a "not yet", reported at the end
            last = exc
        else:
            if last:
                return last  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(interval)
