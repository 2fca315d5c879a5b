"""The store policy, tested once over the in-memory driver that fails on demand (the way httpx
tests clients with MockTransport): retries, no nested retries, exact failure accounting, cache
eviction, translation. Each test runs through the sync store and the async store alike."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from vecbridge.core import (
    AsyncStore,
    CollectionNotFound,
    CollectionSpec,
    InvalidInput,
    Record,
    RetryPolicy,
    Store,
    StoreError,
    TransientError,
    UpsertFailed,
)
from vecbridge.embedders.hashing import HashingEmbedder
from vecbridge.testing.blocking import BlockingCollection, BlockingStore
from vecbridge.testing.memory import MemoryDriver, MemoryFault

FAST = RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.002, max_elapsed=5)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_store(mode: str, driver: MemoryDriver) -> Any:
    if mode == "sync":
        return Store(driver, retry=FAST)
    return BlockingStore(AsyncStore(driver, retry=FAST))


@pytest.fixture
def driver() -> MemoryDriver:
    return MemoryDriver()


@pytest.fixture
def store(mode: str, driver: MemoryDriver) -> Iterator[Any]:
    s = open_store(mode, driver)
    s.create_collection(CollectionSpec("c", 8))
    yield s
    s.close()


def records(n: int, prefix: str = "id") -> list[Record]:
    rng = np.random.default_rng(0)
    return [Record(f"{prefix}{i}", rng.normal(size=8).tolist(), f"text {i}", {"i": i}) for i in range(n)]


def collection(mode: str, store: Any, name: str = "docs") -> Any:
    from vecbridge.core import Collection

    emb = HashingEmbedder(dimension=8)
    if mode == "sync":
        return Collection.open(store, name, embedder=emb)
    return BlockingCollection.open(store, name, embedder=emb)


def writes(driver: MemoryDriver) -> int:
    return driver.calls.count("write")


# ----- accounting -------------------------------------------------------------------------


def test_add_texts_validates_every_text_before_the_first_write(mode: str, store: Any, driver: MemoryDriver) -> None:
    docs = collection(mode, store)
    metadatas: list[dict[str, Any]] = [{"n": i} for i in range(150)]
    metadatas[120] = {"bad": object()}
    with pytest.raises(InvalidInput, match="record 'x120'"):
        docs.add_texts([f"text {i}" for i in range(150)], ids=[f"x{i}" for i in range(150)], metadatas=metadatas)
    assert docs.count() == 0
    assert writes(driver) == 0


def test_store_failure_in_the_second_unit_reports_every_id(mode: str, store: Any, driver: MemoryDriver) -> None:
    docs = collection(mode, store)
    driver.faults.fail("write", MemoryFault("disk full", transient=False), after=1)
    ids = [f"x{i}" for i in range(250)]
    with pytest.raises(UpsertFailed) as info:
        docs.add_texts([f"text {i}" for i in range(250)], ids=ids, batch_size=100)
    err = info.value
    assert err.written_ids == ids[:100]
    assert err.failed_ids == ids[100:200]
    assert err.not_attempted_ids == ids[200:]
    assert docs.count() == 100
    assert sorted(r.id for r in docs.get(ids, include_vectors=False)) == sorted(err.written_ids)


def test_partial_batch_failure_names_only_the_rejected(mode: str, store: Any, driver: MemoryDriver) -> None:
    recs = records(12)
    driver.faults.reject({"id3", "id7"}, "object too large")
    with pytest.raises(UpsertFailed) as info:
        store.upsert("c", recs)
    assert sorted(info.value.failed_ids) == ["id3", "id7"]
    assert sorted(info.value.written_ids) == sorted(r.id for r in recs if r.id not in ("id3", "id7"))
    assert info.value.reasons["id3"] == "object too large"
    assert store.count("c") == 10
    assert writes(driver) == 1, "a permanent rejection is not retried"


def test_transient_record_failures_resend_only_those_records(mode: str, store: Any, driver: MemoryDriver) -> None:
    driver.faults.reject({"id5"}, "busy", transient=True, times=1)
    assert store.upsert("c", records(10)) == 10
    assert store.count("c") == 10
    assert writes(driver) == 2


def test_stream_with_an_invalid_later_batch(mode: str, store: Any) -> None:
    def stream() -> Iterator[Record]:
        yield from records(10)
        yield Record("bad", [float("nan")] * 8)

    with pytest.raises(UpsertFailed) as info:
        store.upsert("c", stream(), batch_size=5)
    err = info.value
    assert err.written_ids == [f"id{i}" for i in range(10)]
    assert err.failed_ids == ["bad"] and err.unread_input
    assert isinstance(err.cause, InvalidInput)
    assert store.count("c") == 10


def test_invalid_list_writes_nothing(mode: str, store: Any, driver: MemoryDriver) -> None:
    with pytest.raises(InvalidInput):
        store.upsert("c", [*records(10), Record("bad", [1.0] * 3)], batch_size=2)
    assert writes(driver) == 0


# ----- retries ----------------------------------------------------------------------------


def test_transient_write_is_retried_then_lands(mode: str, store: Any, driver: MemoryDriver) -> None:
    driver.faults.fail("write", times=2)
    assert store.upsert("c", records(5)) == 5
    assert writes(driver) == 3


def test_retries_are_capped_and_never_nested(mode: str, store: Any, driver: MemoryDriver) -> None:
    driver.faults.fail("write", times=-1)
    with pytest.raises(UpsertFailed) as info:
        store.upsert("c", records(5))
    assert writes(driver) == FAST.attempts
    assert "kept failing" in str(info.value) and len(info.value.failed_ids) == 5


@pytest.mark.parametrize("op", ["search", "count", "get", "list_collections"])
def test_every_call_is_retried_the_same_number_of_times(mode: str, store: Any, driver: MemoryDriver, op: str) -> None:
    store.upsert("c", records(3))
    driver.faults.fail(op, times=-1)
    calls: dict[str, Any] = {
        "search": lambda: store.query("c", [1.0] * 8),
        "count": lambda: store.count("c"),
        "get": lambda: store.get("c", ["id1"]),
        "list_collections": lambda: store.list_collections(),
    }
    with pytest.raises(TransientError):
        calls[op]()
    assert driver.calls.count(op) == FAST.attempts


def test_the_first_attempt_counts_against_max_elapsed(mode: str, driver: MemoryDriver) -> None:
    # Runners make the first attempt before any retry loop exists; its time must still count.
    policy = RetryPolicy(attempts=5, initial_wait=0.001, max_wait=0.002, max_elapsed=0.05)
    store = Store(driver, retry=policy) if mode == "sync" else BlockingStore(AsyncStore(driver, retry=policy))
    store.create_collection(CollectionSpec("c", 8))
    count = driver.count

    def slow_count(*args: Any) -> int:
        time.sleep(0.1)
        return count(*args)

    driver.count = slow_count  # type: ignore[method-assign]
    driver.faults.fail("count", times=-1)
    try:
        with pytest.raises(TransientError):
            store.count("c")
        assert driver.calls.count("count") == 1  # 0.1 s spent > max_elapsed: no second attempt
    finally:
        store.close()


def test_a_call_that_succeeds_after_a_transient_error_is_retried_with_backoff(
    mode: str, store: Any, driver: MemoryDriver
) -> None:
    driver.faults.fail("count", TransientError("busy", retry_after=0.05), times=1)
    started = time.monotonic()
    assert store.count("c") == 0
    assert time.monotonic() - started >= 0.05  # the server's hint was honoured before attempt 2
    assert driver.calls.count("count") == 2


def test_scan_pages_are_retried_one_by_one(mode: str, store: Any, driver: MemoryDriver) -> None:
    store.upsert("c", records(30))
    driver.faults.fail("scan_page", times=2, after=1)  # the second page fails twice
    ids = [r.id for page in store.scan("c", batch_size=10) for r in page.records]
    assert sorted(ids) == sorted(f"id{i}" for i in range(30))
    assert driver.calls.count("scan_page") == 3 + 2


def test_permanent_errors_are_not_retried(mode: str, store: Any, driver: MemoryDriver) -> None:
    driver.faults.fail("count", MemoryFault("forbidden", transient=False), times=-1)
    with pytest.raises(StoreError, match="forbidden"):
        store.count("c")
    assert driver.calls.count("count") == 1


def test_sdk_errors_are_translated_and_unknown_ones_wrapped(mode: str, store: Any, driver: MemoryDriver) -> None:
    driver.faults.fail("count", ConnectionResetError("peer reset"), times=1)
    assert store.count("c") == 0  # translated to TransientError, retried
    driver.faults.fail("count", KeyError("internal"), times=1)
    with pytest.raises(StoreError, match="unexpected KeyError") as info:
        store.count("c")
    assert isinstance(info.value.__cause__, KeyError)


# ----- the spec cache ---------------------------------------------------------------------


def test_a_collection_dropped_by_another_handle(mode: str) -> None:
    shared = f"memory-{uuid.uuid4().hex}"
    first = open_store(mode, MemoryDriver(shared))
    second = open_store(mode, MemoryDriver(shared))
    first.create_collection(CollectionSpec("c", 8))
    second.upsert("c", records(2))  # caches the spec
    assert first.drop_collection("c")
    assert second.has_collection("c") is False
    assert second.list_collections() == []
    with pytest.raises(CollectionNotFound):
        second.upsert("c", records(2))
    with pytest.raises(CollectionNotFound):
        second.count("c")


def test_not_found_evicts_the_cached_spec(mode: str, store: Any, driver: MemoryDriver) -> None:
    store.count("c")
    describes = driver.calls.count("describe")
    store.count("c")
    assert driver.calls.count("describe") == describes, "data calls use the cached spec"
    driver.faults.fail("count", CollectionNotFound("gone"), times=1)
    with pytest.raises(CollectionNotFound):
        store.count("c")
    store.count("c")
    assert driver.calls.count("describe") == describes + 1, "the spec was described again"


# ----- bulk loads -------------------------------------------------------------------------


def test_a_load_is_begun_and_ended_once(mode: str, store: Any, driver: MemoryDriver) -> None:
    store.upsert("c", records(30), batch_size=10)
    assert driver.calls.count("begin_load") == 1 and driver.calls.count("end_load") == 1


def test_bulk_load_groups_upserts(driver: MemoryDriver) -> None:
    store = Store(driver, retry=FAST)
    store.create_collection(CollectionSpec("c", 8))
    with store.bulk_load("c", expected=10):
        store.upsert("c", records(5))
        store.upsert("c", records(5, prefix="x"))
    assert driver.calls.count("begin_load") == 1 and driver.calls.count("end_load") == 1


class AdoptingMemory(MemoryDriver):
    """A driver that can adopt: a collection it holds, read under another name."""

    def adopt(self, name: str, adoption: Any) -> CollectionSpec:
        found = self.describe(adoption.native)
        assert found is not None
        return CollectionSpec(name, found.dimension, found.metric)


def test_adopted_collections_are_read_only_unless_writable(mode: str) -> None:
    from vecbridge.core import UnsupportedFeature

    driver = AdoptingMemory()
    s = open_store(mode, driver)
    s.create_collection(CollectionSpec("theirs", 8))
    s.adopt("mine", native="theirs")
    writes_before = driver.calls.count("write")
    with pytest.raises(UnsupportedFeature, match="writable=True"):
        s.upsert("mine", records(2))
    with pytest.raises(UnsupportedFeature, match="another tool"):
        s.drop_collection("mine")
    assert driver.calls.count("write") == writes_before and driver.calls.count("drop") == 0
    s.close()


@pytest.mark.parametrize("mode_value", [["dense"], {"dense": 1}, 3, "sparse"])
def test_a_bad_search_mode_is_refused_with_a_typed_error(mode: str, store: Any, mode_value: Any) -> None:
    with pytest.raises(InvalidInput, match="search mode"):
        store.query("c", [1.0] * 8, mode=mode_value)
