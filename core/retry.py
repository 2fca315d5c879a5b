"""The one retry policy: exponential backoff with jitter on ``TransientError`` only, via tenacity.

The store wraps every driver call in it (scan pages included); nothing below the store retries.
Permanent errors (bad input, auth, not found, quotas) are never retried. A server's own hint
(``TransientError.retry_after``) is honoured: the wait is at least that long. ``max_elapsed``
bounds the whole affair, so a store that is down fails in seconds, not minutes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from .errors import InvalidInput, TransientError

__all__ = ["DEFAULT_RETRY", "NO_RETRY", "Replay", "RetryPolicy", "call_with_retry"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all (1 = no retry), waits growing from ``initial_wait`` up to
    ``max_wait`` seconds with full jitter, and no new attempt after ``max_elapsed`` seconds."""

    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 20.0
    max_elapsed: float = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise InvalidInput(f"RetryPolicy.attempts must be an integer >= 1, got {self.attempts!r}")
        for name in ("initial_wait", "max_wait", "max_elapsed"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
                raise InvalidInput(f"RetryPolicy.{name} must be a number >= 0, got {value!r}")

    def wait_seconds(self, attempt: int, error: BaseException | None = None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): jittered backoff, at least the
        server's ``retry_after``, never more than ``max_elapsed``."""
        backoff = random.uniform(0, min(self.max_wait, self.initial_wait * 2 ** (attempt - 1)))
        hint = getattr(error, "retry_after", None) or 0.0
        return float(min(max(backoff, hint), self.max_elapsed))

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        base = wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait)(state)
        hint = getattr(error, "retry_after", None) or 0.0
        return float(min(max(base, hint), self.max_elapsed))

    def _kwargs(self, spent: float) -> dict[str, object]:
        return {
            "stop": stop_after_attempt(self.attempts) | stop_after_delay(max(0.0, self.max_elapsed - spent)),
            "wait": self._wait,
            "retry": retry_if_exception_type(TransientError),
            "reraise": True,
        }

    def retrying(self, spent: float = 0.0) -> Retrying:
        """The tenacity loop of this policy; ``spent`` seconds already count against ``max_elapsed``."""
        return Retrying(**self._kwargs(spent))  # type: ignore[arg-type]

    def async_retrying(self, spent: float = 0.0) -> AsyncRetrying:
        return AsyncRetrying(**self._kwargs(spent))  # type: ignore[arg-type]


class Replay:
    """The first attempt of a call made outside tenacity, fed back as tenacity's attempt 1.

    Setting up a tenacity loop costs about 10 us, as much as vecbridge's whole policy around a
    query, and nearly every call succeeds at once. So runners call the driver directly and only
    on a ``TransientError`` enter the loop, which sees that error as its first attempt: the
    attempt count, the waits and ``max_elapsed`` (started before the first call) stay the same
    as if tenacity had made every attempt::

        started = time.monotonic()
        try:
            return call()
        except TransientError as error:
            replay = Replay(error)
            for attempt in policy.retrying(time.monotonic() - started):
                with attempt:
                    replay.first()  # raises the first error once
                    return call()
    """

    __slots__ = ("_error",)

    def __init__(self, error: BaseException) -> None:
        self._error: BaseException | None = error

    def first(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


def call_with_retry(fn: Callable[[], T], policy: RetryPolicy = DEFAULT_RETRY) -> T:
    """Call ``fn`` and retry it on ``TransientError`` according to ``policy`` (for embedders and
    other callers outside the store; stores retry through their runner)."""
    for attempt in policy.retrying():
        with attempt:
            return fn()
    raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover
