"""A real Qdrant server (``-m integration`` with VECBRIDGE_QDRANT_URL, e.g. qdrant://127.0.0.1:16333):
bulk loads follow Qdrant's bulk-upload advice — indexing off while a large load writes, back on
after, and the load ends once the collection is indexed — and a crashed load is undone."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
from qdrant_client import QdrantClient

from vecbridge.connectors.qdrant import operations
from vecbridge.connectors.qdrant.urls import client_config
from vecbridge.core import CollectionSpec, Record, connect
from vecbridge.core.driver import Target
from vecbridge.core.store import Store

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("VECBRIDGE_QDRANT_URL"), reason="VECBRIDGE_QDRANT_URL is not set"),
]

DIM = 32


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(operations, "LARGE_LOAD_BYTES", 100 * DIM * 4)  # "large" from 100 records
    monkeypatch.setattr(operations, "INDEX_POLL_SECONDS", 0.2)
    opened = connect(os.environ["VECBRIDGE_QDRANT_URL"])
    name = "bulk_" + os.urandom(4).hex()
    opened.create_collection(CollectionSpec(name, DIM))
    opened.test_name = name  # type: ignore[attr-defined]
    yield opened
    opened.drop_collection(name)
    opened.close()


def _client() -> QdrantClient:
    return QdrantClient(**client_config(os.environ["VECBRIDGE_QDRANT_URL"], {}).kwargs)


def _records(n: int) -> list[Record]:
    rng = np.random.default_rng(0)
    return [Record(f"r{i}", rng.normal(size=DIM).tolist(), None, {"i": i}) for i in range(n)]


def test_a_large_load_switches_indexing_off_and_back_on(store: Store) -> None:
    name = store.test_name  # type: ignore[attr-defined]
    client = _client()
    before = client.get_collection(name).config.optimizer_config.indexing_threshold
    with store.bulk_load(name, expected=500):
        during = client.get_collection(name).config
        assert during.optimizer_config.indexing_threshold == 0
        assert during.metadata[operations.PAUSED_KEY] == {"restore": before}
        store.upsert(name, _records(500))
    after = client.get_collection(name)
    assert after.config.optimizer_config.indexing_threshold == before
    assert not after.config.metadata.get(operations.PAUSED_KEY)
    assert str(after.status) == "green"
    assert store.count(name) == 500


def test_a_small_load_changes_nothing(store: Store) -> None:
    name = store.test_name  # type: ignore[attr-defined]
    client = _client()
    with store.bulk_load(name, expected=10):
        assert client.get_collection(name).config.optimizer_config.indexing_threshold != 0
        store.upsert(name, _records(10))


def test_the_next_load_undoes_a_crashed_one(store: Store) -> None:
    name = store.test_name  # type: ignore[attr-defined]
    client = _client()
    before = client.get_collection(name).config.optimizer_config.indexing_threshold
    target = Target(store.describe_collection(name))
    store.driver.begin_load(target, 500)  # a load that never ended
    assert client.get_collection(name).config.optimizer_config.indexing_threshold == 0
    with connect(os.environ["VECBRIDGE_QDRANT_URL"]) as other, other.bulk_load(name, expected=500):
        other.upsert(name, _records(500))
    assert client.get_collection(name).config.optimizer_config.indexing_threshold == before
