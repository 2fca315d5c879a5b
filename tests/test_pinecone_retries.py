"""One retry layer: the store's, in core. The SDK's own retries are off, so every attempt the store
makes is one request; Retry-After reaches the store; a monthly quota 429 is not retried; a write
of several requests reports exactly which records landed, and only the others are sent again."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import Fault, PineconeEmulator
from tests.emulators.pinecone.errors import MONTHLY_READ_LIMIT_MESSAGE, MONTHLY_WRITE_LIMIT_MESSAGE, RATE_LIMIT_MESSAGE
from tests.emulators.pinecone.fixtures import (  # noqa: F401
    emulator_fixture,
    fast_retry,
    make_async_store,
    make_store,
    records,
    store_fixture,
    vectors,
)
from vecbridge.connectors.pinecone import QuotaExceeded
from vecbridge.core import CollectionSpec, Record, StoreError, TransientError, UpsertFailed
from vecbridge.core.driver import SearchRequest, Target
from vecbridge.core.store import Store


def test_each_store_attempt_is_one_request(emulator: PineconeEmulator) -> None:
    store = make_store(emulator, retry=fast_retry(attempts=3))
    try:
        store.create_collection(CollectionSpec("busy", 8))
        emulator.clear()
        emulator.inject(Fault(503, "/vectors/upsert", times=2))
        assert store.upsert("busy", records(20, 8)) == 20
        assert [r.status for r in emulator.received("/vectors/upsert")] == [503, 503, 200]
        emulator.inject(Fault(429, "/query", times=1000, message=RATE_LIMIT_MESSAGE))
        with pytest.raises(TransientError, match="429"):
            store.query("busy", records(1, 8)[0].vector, k=1)
        assert len(emulator.received("/query")) == 3  # the store's 3 attempts, nothing nested
    finally:
        store.close()


def test_each_async_attempt_is_one_request(emulator: PineconeEmulator) -> None:
    async def scenario() -> list[int]:
        store = make_async_store(emulator, retry=fast_retry(attempts=2))
        try:
            await store.create_collection(CollectionSpec("busy", 8))
            emulator.clear()
            emulator.inject(Fault(503, "/describe_index_stats", times=1000))
            with pytest.raises(TransientError):
                await store.count("busy")
            return [r.status for r in emulator.received("/describe_index_stats")]
        finally:
            await store.close()

    assert asyncio.run(scenario()) == [503, 503]


def test_retry_after_reaches_the_store(emulator: PineconeEmulator, store: Store) -> None:
    spec = store.create_collection(CollectionSpec("hint", 8))
    emulator.inject(Fault(429, "/query", times=1, retry_after="7.5", message=RATE_LIMIT_MESSAGE))
    driver = store.driver
    with pytest.raises(Exception) as info:
        driver.search(Target(spec), SearchRequest(k=1, vector=records(1, 8)[0].vector))  # type: ignore[arg-type]
    error = driver.translate(info.value)
    assert isinstance(error, TransientError) and error.retry_after == 7.5


@pytest.mark.parametrize(
    "message, path", [(MONTHLY_READ_LIMIT_MESSAGE, "/query"), (MONTHLY_WRITE_LIMIT_MESSAGE, "/vectors/upsert")]
)
def test_a_monthly_quota_is_not_retried(emulator: PineconeEmulator, store: Store, message: str, path: str) -> None:
    store.create_collection(CollectionSpec("starter", 8))
    emulator.clear()
    emulator.inject(Fault(429, path, times=1000, message=message, retry_after=None))
    with pytest.raises(QuotaExceeded, match=r"monthly usage limit.*upgrade the Pinecone plan"):
        if path == "/query":
            store.query("starter", records(1, 8)[0].vector, k=1)
        else:
            store.upsert("starter", records(3, 8))
    assert len(emulator.received(path)) == 1


def test_a_400_is_not_retried(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("strict", 8))
    emulator.clear()
    emulator.inject(Fault(400, "/query", times=1, message="bad request on purpose"))
    with pytest.raises(StoreError, match="400: bad request on purpose"):
        store.query("strict", [0.5] * 8, k=1)
    assert len(emulator.received("/query")) == 1


def _big_records(n: int, dim: int = 512) -> list[Record]:
    # ~30 KB of text each: a batch of 200 takes several 2 MB requests.
    return [Record(f"b{i}", v, "t" * 30_000, {"i": i}) for i, v in enumerate(vectors(n, dim, seed=4))]


def _stored(emulator: PineconeEmulator, index: str) -> set[str]:
    return set(emulator.indexes[index].data.namespaces.get("__default__", {}))


def test_a_failed_request_names_exactly_its_records(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("split", 512))
    emulator.clear()
    emulator.inject(Fault(400, "/vectors/upsert", times=1, message="refused on purpose"))
    recs = _big_records(200)
    with pytest.raises(UpsertFailed) as info:
        store.upsert("split", recs, batch_size=200)
    sent = emulator.received("/vectors/upsert")
    assert len(sent) >= 4 and [r.status for r in sent].count(400) == 1
    refused = {v["id"] for r in sent if r.status == 400 for v in r.vectors}
    assert set(info.value.failed_ids) == refused and set(info.value.written_ids) == _stored(emulator, "split")
    assert set(info.value.written_ids) | refused == {r.id for r in recs} and not refused & _stored(emulator, "split")
    assert "refused on purpose" in info.value.reasons[next(iter(refused))]


def test_only_the_records_of_a_failed_request_are_sent_again(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("again", 512))
    emulator.clear()
    emulator.inject(Fault(503, "/vectors/upsert", times=1))
    recs = _big_records(200)
    assert store.upsert("again", recs, batch_size=200) == 200
    sent = emulator.received("/vectors/upsert")
    failed = [{v["id"] for v in r.vectors} for r in sent if r.status == 503]
    landed = [{v["id"] for v in r.vectors} for r in sent if r.status == 200]
    assert len(failed) == 1 and failed[0] in landed  # resent alone, in one request
    assert sum(len(ids) for ids in landed) == 200 and _stored(emulator, "again") == {r.id for r in recs}
