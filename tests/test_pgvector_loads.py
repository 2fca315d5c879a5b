"""Bulk loads on pgvector: the vector index is dropped while a large load runs and built once after
it (with the build settings), concurrently when the collection is in use, once for concurrent
loads, repaired after a crash; small upserts keep it; ``defer_index=False`` keeps the old way.

The deferral threshold is lowered for these tests so that a few hundred rows count as a bulk load.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")

import psycopg
from psycopg import sql

from tests.backends.pgvector import _skip_without_pgserver, embedded_conninfo, embedded_store, embedded_url
from vecbridge.connectors.pgvector import CollectionLayout, PgVectorOptions, loads
from vecbridge.connectors.pgvector import driver as sync_driver
from vecbridge.connectors.pgvector.catalog import Catalog
from vecbridge.connectors.pgvector.plans import Query
from vecbridge.core import CollectionSpec, Metric, Record, Store, connect_async

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)

DIM = 8


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loads, "DEFER_MIN_ROWS", 50)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The SQL the sync driver runs (text and parameters), in order."""
    seen: list[tuple[str, Any]] = []
    original = sync_driver._outcome

    def recording(conn: Any, step: Any) -> Any:
        if isinstance(step, Query):
            text = step.statement if isinstance(step.statement, str) else step.statement.as_string(conn)
            seen.append((text, step.params))
        return original(conn, step)

    monkeypatch.setattr(sync_driver, "_outcome", recording)
    return seen


def _records(n: int, seed: int = 0, prefix: str = "r") -> list[Record]:
    vecs = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return [Record(f"{prefix}{i:05d}", vecs[i], f"text {i}", {"i": i}) for i in range(n)]


def _state(name: str) -> tuple[str, list[str]]:
    """The catalog's index state and the table's index methods."""
    with psycopg.connect(embedded_conninfo()) as conn:
        row = conn.execute("SELECT index_state FROM vecbridge_collections WHERE name = %s", [name]).fetchone()
        methods = conn.execute(
            "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
            " WHERE i.indrelid = %s::regclass AND i.indisvalid ORDER BY 1",
            [sql.Identifier(name).as_string(conn)],
        ).fetchall()
    return (row[0] if row else "gone"), [m[0] for m in methods]


def _uses_index(name: str, vector: list[float]) -> bool:
    with psycopg.connect(embedded_conninfo()) as conn:
        conn.execute("SET enable_seqscan = off")  # 300 rows: the planner would rather scan them
        plan = conn.execute(
            sql.SQL("EXPLAIN SELECT id FROM {} ORDER BY embedding <=> %s::vector LIMIT 5").format(sql.Identifier(name)),
            [str(vector)],
        ).fetchall()
    return any("_ann" in line[0] for line in plan)


@pytest.fixture
def store() -> Iterator[Store]:
    s = embedded_store()
    yield s
    s.close()


@pytest.fixture
def name(store: Store) -> Iterator[str]:
    n = "t" + uuid.uuid4().hex[:12]
    yield n
    store.drop_collection(n)


def _watch_writes(store: Store, name: str) -> list[tuple[str, list[str]]]:
    """The index state seen at every write of ``store``'s driver."""
    states: list[tuple[str, list[str]]] = []
    write = store.driver.write

    def watched(*args: Any) -> Any:
        states.append(_state(name))
        return write(*args)

    store.driver.write = watched  # type: ignore[method-assign]
    return states


def test_a_bulk_load_builds_the_index_after_the_data(store: Store, name: str) -> None:
    store.create_collection(CollectionSpec(name, DIM))
    assert _state(name) == ("pending", ["btree", "gin"])  # no data yet, so no graph yet
    states = _watch_writes(store, name)
    records = _records(300)
    assert store.upsert(name, records, batch_size=100) == 300
    assert states == [("pending", ["btree", "gin"])] * 3  # no index while the rows arrive
    assert _state(name) == ("ready", ["btree", "gin", "hnsw"])
    assert _uses_index(name, records[0].vector.tolist())
    assert [h.id for h in store.query(name, records[7].vector, k=1)] == [records[7].id]


def test_the_build_gets_its_memory_and_workers(name: str, statements: list[tuple[str, Any]]) -> None:
    s = embedded_store(maintenance_work_mem="77MB", build_workers=1)
    try:
        s.create_collection(CollectionSpec(name, DIM))
        s.upsert(name, _records(200))
    finally:
        s.close()
    texts = [t for t, _ in statements]
    build = next(i for i, t in enumerate(texts) if t.startswith("CREATE INDEX") and "_ann" in t)
    settings = {t.split("'")[1]: params[0] for t, params in statements[:build] if t.startswith("SELECT set_config('")}
    assert settings == {"maintenance_work_mem": "77MB", "max_parallel_maintenance_workers": "1"}
    assert "CONCURRENTLY" not in texts[build]  # a new collection: nobody else uses it


def test_automatic_build_memory_covers_the_graph() -> None:
    plans = loads.LoadPlans(Catalog("public"), PgVectorOptions(), embedded=True)
    layout = CollectionLayout("vector", "hnsw", m=16, ef_construction=64)
    wanted = int(plans._memory(layout, 768, 100_000, 64 << 20).removesuffix("MB"))
    assert 100_000 * 768 * 4 / (1 << 20) < wanted < 1024  # the vectors alone, plus the graph; not absurd
    assert plans._memory(layout, 768, 10, 256 << 20) == "257MB"  # never below the server's own setting


def test_a_collection_in_use_is_indexed_concurrently(
    store: Store, name: str, statements: list[tuple[str, Any]]
) -> None:
    store.create_collection(CollectionSpec(name, DIM))
    store.upsert(name, _records(60, prefix="old"))
    assert _state(name)[1] == ["btree", "gin", "hnsw"]
    statements.clear()
    store.upsert(name, _records(100))  # bigger than the table: deferred, rebuilt over all 160 rows
    texts = [t for t, _ in statements]
    assert any(t.startswith("DROP INDEX IF EXISTS") for t in texts)
    assert any(t.startswith("CREATE INDEX CONCURRENTLY") for t in texts)
    assert _state(name) == ("ready", ["btree", "gin", "hnsw"]) and store.count(name) == 160


def test_small_upserts_keep_the_index(store: Store, name: str, statements: list[tuple[str, Any]]) -> None:
    store.create_collection(CollectionSpec(name, DIM))
    store.upsert(name, _records(200))
    statements.clear()
    store.upsert(name, _records(20, seed=5, prefix="s"))  # below the threshold
    store.upsert(name, _records(120, seed=6, prefix="m"))  # above it, but the table is larger
    assert not any("INDEX" in t for t, _ in statements)
    assert _state(name) == ("ready", ["btree", "gin", "hnsw"])


def test_defer_index_false_keeps_the_index_live(name: str, statements: list[tuple[str, Any]]) -> None:
    s = embedded_store(defer_index=False)
    try:
        s.create_collection(CollectionSpec(name, DIM))
        assert _state(name) == ("ready", ["btree", "gin", "hnsw"])
        statements.clear()
        s.upsert(name, _records(300))
        assert not any("INDEX" in t for t, _ in statements)
    finally:
        s.close()


def test_concurrent_loads_build_once(store: Store, name: str, statements: list[tuple[str, Any]]) -> None:
    store.create_collection(CollectionSpec(name, DIM))
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def load(prefix: str) -> None:
        try:
            start.wait()
            store.upsert(name, _records(400, prefix=prefix), batch_size=50)
        except BaseException as exc:  # collected: one failure must not hide another
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(p,)) for p in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    builds = [t for t, _ in statements if t.startswith("CREATE INDEX") and "_ann" in t]
    assert len(builds) == 1, builds
    assert _state(name) == ("ready", ["btree", "gin", "hnsw"]) and store.count(name) == 1200


_CRASHING_LOAD = """
import sys, time
import numpy as np
from vecbridge.connectors.pgvector import loads
from vecbridge.core import CollectionSpec, Record, connect
loads.DEFER_MIN_ROWS = 50
store = connect(sys.argv[1])
store.create_collection(CollectionSpec(sys.argv[2], 8))
vecs = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
with store.bulk_load(sys.argv[2], expected=10_000):
    store.upsert(sys.argv[2], [Record(f"r{i}", vecs[i]) for i in range(200)])
    print("loading", flush=True)
    time.sleep(600)
"""


def test_a_crashed_load_is_repaired_when_the_collection_is_opened(name: str) -> None:
    loader = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_LOAD, embedded_url(), name], stdout=subprocess.PIPE, text=True
    )
    try:
        assert loader.stdout is not None and loader.stdout.readline().strip() == "loading"
        loader.send_signal(signal.SIGKILL)
        loader.wait(10)
    finally:
        if loader.poll() is None:
            loader.kill()
    assert _state(name) == ("pending", ["btree", "gin"])
    fresh = embedded_store()
    try:
        spec = fresh.describe_collection(name)  # opening it repairs it
        assert spec.dimension == DIM
        assert _state(name) == ("ready", ["btree", "gin", "hnsw"])
        assert fresh.count(name) == 200
    finally:
        fresh.close()


def test_an_async_bulk_load_builds_the_index_after_the_data(name: str) -> None:
    async def run() -> None:
        store = connect_async(embedded_url())
        try:
            await store.create_collection(CollectionSpec(name, DIM, Metric.EUCLIDEAN))
            async with store.bulk_load(name, expected=300):
                for part in range(3):
                    await store.upsert(name, _records(100, seed=part, prefix=f"p{part}-"))
                    assert _state(name) == ("pending", ["btree", "gin"])
            assert _state(name) == ("ready", ["btree", "gin", "hnsw"])
            assert await store.count(name) == 300
        finally:
            await store.close()

    asyncio.run(run())
