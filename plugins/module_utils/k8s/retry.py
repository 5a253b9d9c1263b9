# Copyright: stateful.nfs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded exponential backoff for transient Kubernetes API failures.

Retried:

* HTTP 429 (Too Many Requests; ``Retry-After`` is honoured, capped by ``max_delay``),
* HTTP 500, 502, 503, 504 (apiserver or etcd hiccups, load balancer in front),
* the connection being reset or closed mid-request (``ConnectionResetError``,
  urllib3 ``ProtocolError``, a read timeout).

Not retried: other 4xx (they are answers, not accidents), and failures to
*open* a connection (refused, DNS, TLS): an unreachable API fails fast with a
clear message instead of burning the budget.

Every request the modules send is safe to repeat: writes are server-side
apply PATCHes (idempotent by construction) and DELETEs (a repeated DELETE
answers 404, which callers treat as "already gone").

The budget is bounded twice: at most ``attempts`` tries, and no new try is
started once ``budget`` seconds have elapsed since the first one.
"""

from __future__ import annotations

import random
import time

RETRIABLE_STATUS = frozenset((429, 500, 502, 503, 504))


class RetryPolicy:
    """How often and how long to retry. ``sleep``/``clock`` are injectable for tests."""

    def __init__(self, attempts=6, base_delay=0.5, max_delay=8.0, budget=60.0,
                 jitter=0.1, sleep=None, clock=None):
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self.attempts = int(attempts)
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.budget = float(budget)
        self.jitter = float(jitter)
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic

    def delay(self, attempt, retry_after=None):
        """Delay before try number ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            return min(max(float(retry_after), 0.0), self.max_delay)
        d = min(self.base_delay * (2 ** (attempt - 1)), self.max_delay)
        if self.jitter:
            d += random.uniform(0, d * self.jitter)  # noqa: S311 - backoff jitter, not a secret
        return d


class TransientFailure(Exception):
    """Raised by a request function to ask for a retry.

    ``final`` is the exception to raise when the budget is exhausted; its
    ``attempts`` attribute (if any) is updated with the number of tries.
    """

    def __init__(self, final, retry_after=None, cause=None):
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after
        self.cause = cause


def call_with_retry(fn, policy=None, on_retry=None):
    """Call ``fn()``; when it raises :class:`TransientFailure`, back off and retry.

    ``on_retry(attempt, delay, failure)`` is called before each sleep (for logging).
    Returns ``fn()``'s value; raises ``failure.final`` once attempts or budget run out.
    """
    policy = policy or RetryPolicy()
    start = policy.clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except TransientFailure as failure:
            delay = policy.delay(attempt, failure.retry_after)
            out_of_tries = attempt >= policy.attempts
            out_of_time = (policy.clock() - start) + delay > policy.budget
            if out_of_tries or out_of_time:
                final = failure.final
                if hasattr(final, "attempts"):
                    final.attempts = attempt
                    if hasattr(final, "refresh_message"):
                        final.refresh_message()
                raise final
            if on_retry is not None:
                on_retry(attempt, delay, failure)
            policy.sleep(delay)
