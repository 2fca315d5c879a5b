"""One pgvector store shared by threads: concurrent upserts (overlapping ids, so the merge path and
row-lock contention are exercised), queries, counts and scans, with nothing lost or torn."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")

from tests.backends.pgvector import _skip_without_pgserver, embedded_store
from vecbridge.core import CollectionSpec, Metric, Record
from vecbridge.core.retry import RetryPolicy

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)

DIM = 8
THREADS = 8
IDS = 300  # shared by every writer: each thread writes every id, in its own order


def _vector(writer: int, i: int) -> list[float]:
    # Each writer's version of a record is recognisable from its vector alone.
    return [float(writer), float(i), *np.random.default_rng(writer * 1000 + i).normal(size=DIM - 2).tolist()]


def _writer_records(writer: int) -> list[Record]:
    order = np.random.default_rng(writer).permutation(IDS)
    return [Record(f"id{i}", _vector(writer, int(i)), f"w{writer}", {"writer": writer, "i": int(i)}) for i in order]


@pytest.fixture
def shared() -> Iterator[tuple[Any, str]]:
    # Contention may surface as deadlocks or serialization failures: retried, quickly.
    store = embedded_store(
        index="hnsw", pool_max_size=THREADS, retry=RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.2)
    )
    name = "concurrent"
    store.drop_collection(name)
    store.create_collection(CollectionSpec(name, DIM, Metric.EUCLIDEAN))
    try:
        yield store, name
    finally:
        store.drop_collection(name)
        store.close()


def test_threads_share_one_store(shared: tuple[Any, str]) -> None:
    store, name = shared
    start = threading.Barrier(THREADS + 2)
    errors: list[BaseException] = []
    query_results: list[int] = []

    def write(writer: int) -> int:
        start.wait()
        return int(store.upsert(name, _writer_records(writer), batch_size=50))

    def read() -> None:
        start.wait()
        rng = np.random.default_rng(99)
        for _ in range(40):
            hits = store.query(name, rng.normal(size=DIM).tolist(), k=5, filter={"i": {"$lt": 150}})
            assert all(h.metadata["i"] < 150 for h in hits)
            query_results.append(len(hits))
            store.count(name)

    def scan() -> None:
        start.wait()
        for _ in range(5):
            seen = [r.id for page in store.scan(name, batch_size=64) for r in page.records]
            assert len(seen) == len(set(seen)), "a scan returned an id twice"

    with ThreadPoolExecutor(max_workers=THREADS + 2) as pool:
        writes = [pool.submit(write, w) for w in range(THREADS)]
        others = [pool.submit(read), pool.submit(scan)]
        for f in [*writes, *others]:
            try:
                f.result(timeout=120)
            except BaseException as exc:  # collect, so one failure does not hide the others
                errors.append(exc)
    assert not errors, errors
    assert [f.result() for f in writes] == [IDS] * THREADS
    assert query_results and max(query_results) == 5

    # Exactly one row per id, and each row is one writer's whole version (never a mix of two).
    assert store.count(name) == IDS
    rows = store.get(name, [f"id{i}" for i in range(IDS)])
    assert len(rows) == IDS
    for r in rows:
        writer = r.metadata["writer"]
        assert r.text == f"w{writer}"
        assert np.allclose(r.vector, _vector(writer, r.metadata["i"]), atol=1e-6)
