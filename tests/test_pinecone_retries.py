"""429 and 5xx are retried (by the SDK, then by the store); other errors are not."""

from __future__ import annotations

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import Fault, PineconeEmulator
from tests.emulators.pinecone.fixtures import emulator_fixture, records, store_fixture  # noqa: F401
from vecbridge.connectors.pinecone import PineconeStore
from vecbridge.core import CollectionSpec, StoreError, TransientError, UpsertFailed

#: What one SDK call makes at most: the first attempt and 3 retries.
SDK_ATTEMPTS = 4


def test_a_429_is_retried(emulator: PineconeEmulator, store: PineconeStore) -> None:
    store.create_collection(CollectionSpec("busy", 8))
    # More 429s in a row than the SDK absorbs on its own: the store's retry must take over.
    fault = emulator.inject(Fault(429, "/vectors/upsert", times=SDK_ATTEMPTS + 1))
    assert store.upsert("busy", records(20, 8)) == 20
    sent = emulator.received("/vectors/upsert")
    assert fault.hits == SDK_ATTEMPTS + 1
    assert [r.status for r in sent] == [429] * (SDK_ATTEMPTS + 1) + [200]
    assert store.count("busy") == 20


def test_persistent_429_becomes_upsert_failed_with_transient_cause(
    emulator: PineconeEmulator, store: PineconeStore
) -> None:
    store.create_collection(CollectionSpec("busy", 8))
    emulator.inject(Fault(429, "/vectors/upsert", times=1000))
    recs = records(10, 8)
    with pytest.raises(UpsertFailed) as info:
        store.upsert("busy", recs)
    assert isinstance(info.value.cause, TransientError)
    assert sorted(info.value.failed_ids) == sorted(r.id for r in recs)
    assert len(emulator.received("/vectors/upsert")) == SDK_ATTEMPTS * store.retry_policy.attempts


def test_5xx_on_reads_is_retried(emulator: PineconeEmulator, store: PineconeStore) -> None:
    store.create_collection(CollectionSpec("flaky", 8))
    recs = records(5, 8)
    store.upsert("flaky", recs)
    emulator.inject(Fault(503, "/query", times=SDK_ATTEMPTS + 1))
    assert store.query("flaky", recs[0].vector, k=1)[0].id == recs[0].id
    emulator.inject(Fault(503, "/describe_index_stats", times=SDK_ATTEMPTS + 2))
    assert store.count("flaky") == 5


def test_a_400_is_not_retried(emulator: PineconeEmulator, store: PineconeStore) -> None:
    store.create_collection(CollectionSpec("strict", 8))
    emulator.clear()
    emulator.inject(Fault(400, "/query", times=1, message="bad request on purpose"))
    with pytest.raises(StoreError, match="400: bad request on purpose"):
        store.query("strict", [0.5] * 8, k=1)
    assert len(emulator.received("/query")) == 1
