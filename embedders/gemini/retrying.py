"""Retries for Gemini calls: tenacity, exponential backoff with full jitter, and the server's word.

When a 429 names a ``RetryInfo.retryDelay``, that delay wins over the exponential guess (plus up
to 20% jitter, so parallel workers do not return in lock-step), capped at ``max_wait``. The
google-genai SDK's own retry options ignore RetryInfo (python-genai #1875), which is why the SDK
is left with retries off and this policy wraps each call instead.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from vecbridge.core.errors import InvalidInput, TransientError

__all__ = ["GeminiRetryPolicy"]

log = logging.getLogger("vecbridge.gemini")


@dataclass(frozen=True)
class GeminiRetryPolicy:
    """``attempts`` per request (first try included); waits grow from ``initial_wait`` and never
    exceed ``max_wait`` seconds, even when the server asks for longer."""

    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.initial_wait < 0 or self.max_wait < 0:
            raise InvalidInput("retry policy needs attempts >= 1 and non-negative waits")

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = getattr(exc, "retry_after", None)
        if hinted is not None:
            return float(min(self.max_wait, hinted * (1.0 + 0.2 * random.random())))
        return float(wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait)(state))

    def _log(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("Gemini request failed (%s); retry %d/%d in %.2fs", exc, state.attempt_number,
                 self.attempts - 1, wait)

    def _kwargs(self) -> dict[str, object]:
        return {
            "stop": stop_after_attempt(self.attempts),
            "wait": self._wait,
            "retry": retry_if_exception_type(TransientError),
            "before_sleep": self._log,
            "reraise": True,
        }

    def retrying(self) -> Retrying:
        return Retrying(**self._kwargs())  # type: ignore[arg-type]

    def async_retrying(self) -> AsyncRetrying:
        return AsyncRetrying(**self._kwargs())  # type: ignore[arg-type]
