"""The base store's promise: a failed batch is retried, then reported by id — never dropped."""

from __future__ import annotations

import numpy as np
import pytest

from vecbridge.connectors.qdrant import QdrantStore
from vecbridge.core import CollectionSpec, Record, TransientError, UpsertFailed, connect
from vecbridge.core.errors import StoreError
from vecbridge.core.retry import RetryPolicy

FAST = RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.01)


class FlakyStore(QdrantStore):
    """Real local-mode store whose writes fail on chosen attempts (the failure, not the result,
    is what is injected: the data really lands or not in Qdrant)."""

    def __init__(self, fail_on: dict[int, Exception]) -> None:
        base = connect("qdrant+local://:memory:")
        assert isinstance(base, QdrantStore)
        super().__init__(base.client, local=True)
        self.retry_policy = FAST
        self.fail_on = fail_on
        self.calls = 0

    def _upsert_batch(self, spec: CollectionSpec, records: list[Record]) -> None:
        self.calls += 1
        if self.calls in self.fail_on:
            raise self.fail_on[self.calls]
        super()._upsert_batch(spec, records)


def _records(n: int) -> list[Record]:
    rng = np.random.default_rng(0)
    return [Record(f"id{i}", rng.normal(size=8).tolist()) for i in range(n)]


def test_transient_failure_is_retried_and_nothing_lost() -> None:
    store = FlakyStore({2: TransientError("429")})
    store.create_collection(CollectionSpec("c", 8))
    assert store.upsert("c", _records(30), batch_size=10) == 30
    assert store.calls == 4  # 3 batches + 1 retry
    assert store.count("c") == 30


def test_permanent_failure_reports_every_id_not_written() -> None:
    store = FlakyStore({2: StoreError("payload too large")})
    store.create_collection(CollectionSpec("c", 8))
    recs = _records(30)
    with pytest.raises(UpsertFailed) as info:
        store.upsert("c", recs, batch_size=10)
    assert info.value.written_ids == [r.id for r in recs[:10]]
    assert info.value.failed_ids == [r.id for r in recs[10:]]
    assert store.count("c") == 10
    assert sorted(r.id for r in store.get("c", [r.id for r in recs])) == sorted(info.value.written_ids)
    assert store.calls == 2, "a permanent error is not retried"


def test_retries_are_capped() -> None:
    store = FlakyStore({i: TransientError("503") for i in range(1, 10)})
    store.create_collection(CollectionSpec("c", 8))
    with pytest.raises(UpsertFailed) as info:
        store.upsert("c", _records(5))
    assert store.calls == FAST.attempts
    assert len(info.value.failed_ids) == 5 and "kept failing" in str(info.value)
