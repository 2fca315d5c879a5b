"""One rate limit for every worker of a job that calls a remote embedder (Gemini).

N workers each retrying on their own would spend the quota N times over and answer a 429 with N
separate backoffs. Instead one actor, :class:`RateLimiter`, schedules every request of the job:
a worker asks it for a slot before each request (:meth:`RateSchedule.acquire` returns how long to
wait) and reports a 429's ``RetryInfo`` delay (:meth:`RateSchedule.pause`), after which no worker
is given a slot before the delay has passed. With ``requests_per_minute`` / ``texts_per_minute``
the slots are also spaced to stay within the quota (a leaky bucket), so 429s are rare to begin with.

The schedule is plain Python with an injectable clock (tested without Ray); the actor wraps it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import ray

from vecbridge.core.errors import InvalidInput

__all__ = ["Grant", "Pause", "RateLimit", "RateLimiter", "RateSchedule"]


@dataclass(frozen=True)
class RateLimit:
    """The quota a job stays within (None: no spacing, only shared pauses after a 429).

    ``attempts``: tries per request, the first included, before its error is raised;
    ``initial_wait`` / ``max_wait`` bound the pause after a transient error without ``RetryInfo``.
    """

    requests_per_minute: float | None = None
    texts_per_minute: float | None = None
    attempts: int = 8
    initial_wait: float = 1.0
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "texts_per_minute"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise InvalidInput(f"{name} must be a positive number or None, got {value!r}")
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise InvalidInput(f"attempts must be a positive integer, got {self.attempts!r}")
        if not 0 <= self.initial_wait <= self.max_wait:
            raise InvalidInput("need 0 <= initial_wait <= max_wait")

    def backoff(self, attempt: int) -> float:
        """Pause after failed ``attempt`` (1-based) when the server named no delay."""
        return float(min(self.max_wait, self.initial_wait * 2 ** (attempt - 1)))


@dataclass
class Grant:
    """One slot handed out: who asked, when (wall clock), and when it may send."""

    worker: str
    asked: float
    start: float


@dataclass
class Pause:
    """A pause a worker asked for (after a 429): from ``at`` until ``until`` (wall clock)."""

    worker: str
    at: float
    until: float


@dataclass
class RateSchedule:
    """The scheduler behind :class:`RateLimiter` (see the module docstring)."""

    limit: RateLimit
    clock: Callable[[], float] = time.time
    _next_request: float = 0.0
    _next_text: float = 0.0
    _paused_until: float = 0.0
    grants: list[Grant] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    keep_log: bool = False

    def acquire(self, texts: int, worker: str = "") -> float:
        """Reserve the next slot for one request of ``texts`` texts; seconds to wait before sending."""
        now = self.clock()
        start = max(now, self._next_request, self._next_text, self._paused_until)
        if self.limit.requests_per_minute:
            self._next_request = start + 60.0 / self.limit.requests_per_minute
        if self.limit.texts_per_minute:
            self._next_text = start + 60.0 * texts / self.limit.texts_per_minute
        if self.keep_log:
            self.grants.append(Grant(worker, now, start))
        return start - now

    def pause(self, seconds: float, worker: str = "") -> None:
        """No slot before ``seconds`` from now (a 429's RetryInfo, or a backoff)."""
        now = self.clock()
        until = now + max(0.0, float(seconds))
        if until > self._paused_until:
            self._paused_until = until
        if self.keep_log:
            self.pauses.append(Pause(worker, now, until))


@ray.remote(num_cpus=0, max_restarts=-1)
class RateLimiter:
    """The job's one :class:`RateSchedule`, shared by every worker (an actor; no CPU reserved).
    A restarted actor starts a fresh schedule: at worst one burst, then 429s pause it again."""

    def __init__(self, limit: RateLimit, keep_log: bool = False) -> None:
        self._schedule = RateSchedule(limit, keep_log=keep_log)

    def acquire(self, texts: int, worker: str = "") -> float:
        return self._schedule.acquire(texts, worker)

    def pause(self, seconds: float, worker: str = "") -> None:
        self._schedule.pause(seconds, worker)

    def log(self) -> tuple[list[Grant], list[Pause]]:
        """Grants and pauses so far (kept with ``keep_log``, for tests and diagnosis)."""
        return list(self._schedule.grants), list(self._schedule.pauses)
