"""The schedule behind the shared rate limiter of a Ray job, on a fake clock (no Ray cluster)."""

from __future__ import annotations

import pytest

pytest.importorskip("ray")

from vecbridge.core.errors import InvalidInput
from vecbridge.integrations.ray.rate_limit import RateLimit, RateSchedule


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_are_spaced_to_the_quota_whoever_asks() -> None:
    clock = Clock()
    schedule = RateSchedule(RateLimit(requests_per_minute=60), clock=clock)
    waits = [schedule.acquire(100, worker) for worker in ("a", "b", "a", "b")]
    assert waits == [0.0, 1.0, 2.0, 3.0]  # four workers' worth of requests, one per second
    clock.now += 10
    assert schedule.acquire(100, "c") == 0.0  # the quota refilled while nobody asked


def test_texts_per_minute_weighs_a_request_by_its_texts() -> None:
    clock = Clock()
    schedule = RateSchedule(RateLimit(texts_per_minute=600), clock=clock)
    assert schedule.acquire(100) == 0.0
    assert schedule.acquire(100) == pytest.approx(10.0)  # 100 texts at 10 a second


def test_a_pause_holds_every_worker_until_it_ends() -> None:
    clock = Clock()
    schedule = RateSchedule(RateLimit(), clock=clock, keep_log=True)
    assert schedule.acquire(1, "a") == 0.0
    schedule.pause(12.0, "a")  # worker "a" got a 429 with RetryInfo 12s
    clock.now += 2
    assert schedule.acquire(1, "b") == pytest.approx(10.0)
    schedule.pause(3.0)  # a shorter hint never shortens the pause in force
    assert schedule.acquire(1, "c") == pytest.approx(10.0)
    clock.now += 11
    assert schedule.acquire(1, "b") == 0.0
    grants, pauses = schedule.grants, schedule.pauses
    assert [g.worker for g in grants] == ["a", "b", "c", "b"]
    assert (pauses[0].worker, pauses[0].at, pauses[0].until) == ("a", 1000.0, 1012.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"requests_per_minute": 0}, {"texts_per_minute": -5}, {"attempts": 0}, {"initial_wait": 5, "max_wait": 1}],
)
def test_a_bad_limit_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        RateLimit(**kwargs)  # type: ignore[arg-type]


def test_backoff_doubles_up_to_its_cap() -> None:
    limit = RateLimit(initial_wait=1.0, max_wait=5.0)
    assert [limit.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
