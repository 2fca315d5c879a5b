"""A failed write to Qdrant is retried when the error is transient, then reported by id — never
dropped — and what the report says landed is what Qdrant holds.

The store is real (qdrant-client's local mode, through the sync and the async driver); only the
failure is injected, as the SDK exception qdrant-client raises for it, so the driver's translation
decides what is retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from vecbridge.connectors.qdrant import AsyncQdrantDriver, QdrantDriver
from vecbridge.connectors.qdrant.urls import client_config
from vecbridge.core import AsyncStore, CollectionSpec, Record, RetryPolicy, Store, UpsertFailed
from vecbridge.core.driver import Batch, Target, WriteResult
from vecbridge.testing.blocking import BlockingStore

FAST = RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.01)


def _http_error(status: int, body: bytes = b'{"status": {"error": "injected"}}') -> UnexpectedResponse:
    return UnexpectedResponse(status, "injected", body, httpx.Headers())


class _Failing:
    """Fails the writes numbered in ``fail_on`` (1-based) with the given SDK exception."""

    fail_on: dict[int, BaseException]
    calls: int

    def _maybe_fail(self) -> None:
        self.calls += 1
        error = self.fail_on.get(self.calls)
        if error is not None:
            raise error


class FlakySync(_Failing, QdrantDriver):
    def write(self, target: Target, batch: Batch) -> WriteResult:
        self._maybe_fail()
        return super().write(target, batch)  # type: ignore[no-any-return]


class FlakyAsync(_Failing, AsyncQdrantDriver):
    async def write(self, target: Target, batch: Batch) -> WriteResult:
        self._maybe_fail()
        return await super().write(target, batch)  # type: ignore[no-any-return]


@pytest.fixture(params=["sync", "async"])
def flaky(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory: ``flaky({2: error})`` -> (store, driver) with collection "c" created."""
    opened: list[Any] = []

    def make(fail_on: dict[int, BaseException]) -> tuple[Any, Any]:
        cls = FlakySync if request.param == "sync" else FlakyAsync
        driver = cls(client_config("qdrant+local://:memory:", {}))
        driver.fail_on, driver.calls = fail_on, 0
        store: Any = (
            Store(driver, retry=FAST) if request.param == "sync" else BlockingStore(AsyncStore(driver, retry=FAST))
        )
        store.create_collection(CollectionSpec("c", 8))
        opened.append(store)
        return store, driver

    yield make
    for store in opened:
        store.close()


def _records(n: int) -> list[Record]:
    rng = np.random.default_rng(0)
    return [Record(f"id{i}", rng.normal(size=8).tolist()) for i in range(n)]


@pytest.mark.parametrize(
    "error",
    [_http_error(503), _http_error(429), ResponseHandlingException(httpx.ConnectError("connection refused"))],
    ids=["503", "429", "unreachable"],
)
def test_transient_failure_is_retried_and_nothing_lost(flaky: Any, error: BaseException) -> None:
    store, driver = flaky({2: error})
    assert store.upsert("c", _records(30), batch_size=10) == 30
    assert driver.calls == 4  # 3 batches + 1 retry
    assert store.count("c") == 30


def test_permanent_failure_reports_every_id_not_written(flaky: Any) -> None:
    store, driver = flaky({2: _http_error(400, b'{"status": {"error": "Wrong input: payload too large"}}')})
    recs = _records(30)
    with pytest.raises(UpsertFailed) as info:
        store.upsert("c", recs, batch_size=10)
    assert info.value.written_ids == [r.id for r in recs[:10]]
    assert info.value.failed_ids == [r.id for r in recs[10:20]]
    assert info.value.not_attempted_ids == [r.id for r in recs[20:]]
    assert "payload too large" in info.value.reasons[recs[10].id]
    assert sorted(r.id for r in store.get("c", [r.id for r in recs])) == sorted(info.value.written_ids)
    assert driver.calls == 2, "a permanent error is not retried"


def test_retries_are_capped(flaky: Any) -> None:
    store, driver = flaky({i: _http_error(503) for i in range(1, 10)})
    with pytest.raises(UpsertFailed) as info:
        store.upsert("c", _records(5))
    assert driver.calls == FAST.attempts
    assert len(info.value.failed_ids) == 5 and "kept failing" in str(info.value)
    assert store.count("c") == 0
