"""Retry policy shared by connectors: exponential backoff with jitter on ``TransientError`` only.

Built on tenacity rather than a loop of our own. Permanent errors (bad input, auth, not found)
are never retried: they fail fast with the store's message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from .errors import TransientError

__all__ = ["RetryPolicy", "call_with_retry"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 20.0

    def retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(max(1, self.attempts)),
            wait=wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait),
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        )


DEFAULT_RETRY = RetryPolicy()


def call_with_retry(fn: Callable[[], T], policy: RetryPolicy = DEFAULT_RETRY) -> T:
    """Call ``fn`` and retry it on ``TransientError`` according to ``policy``."""
    for attempt in policy.retrying():
        with attempt:
            return fn()
    raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover
