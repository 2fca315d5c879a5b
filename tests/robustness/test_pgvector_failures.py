"""pgvector when things go wrong: the server dies in the middle of an upsert, another client drops
a collection this one has cached. On a real embedded PostgreSQL of the test's own (it is killed).

Each runs through the sync driver and the native async one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")

import psutil
import psycopg

from tests.backends.pgvector import _skip_without_pgserver, embedded_url, private_parent
from vecbridge.connectors.pgvector import embedded
from vecbridge.core import CollectionNotFound, CollectionSpec, Record, UpsertFailed, connect, connect_async
from vecbridge.core.retry import RetryPolicy

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)

THREE_TRIES = RetryPolicy(attempts=3, initial_wait=0.05, max_wait=0.2, max_elapsed=30)


def _records(n: int, dim: int = 8) -> list[Record]:
    vecs = np.random.default_rng(1).normal(size=(n, dim)).astype(np.float32)
    return [Record(f"r{i:03d}", vecs[i].tolist(), f"text {i}", {"i": i}) for i in range(n)]


@pytest.fixture(scope="module")
def own_server() -> Iterator[Path]:
    """An embedded server only these tests use (and kill, then restart)."""
    data_dir = private_parent("vb-pg-kill-") / "data"
    embedded.acquire(data_dir)  # keeps it for the test, whatever the stores do
    try:
        yield data_dir
    finally:
        embedded.release(data_dir)
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def _kill_server(data_dir: Path) -> None:
    """SIGKILL the postmaster, then wait for its backends to notice and exit."""
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    children = psutil.Process(pid).children()
    os.kill(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(pid), *children], timeout=10)


def _restart(data_dir: Path) -> None:
    embedded.release(data_dir)  # the dead server: nothing to stop
    embedded.acquire(data_dir)  # a new one on the same data (crash recovery)


class _Counting:
    """Counts driver calls and connection attempts; kills the server before write ``kill_at``."""

    def __init__(self, data_dir: Path, kill_at: int) -> None:
        self.data_dir, self.kill_at = data_dir, kill_at
        self.writes = 0
        self.calls_after_kill = 0
        self.connects = 0
        self.killed_at = 0.0

    def before(self, op: str) -> None:
        self.writes += op == "write"
        if self.writes == self.kill_at and not self.killed_at:
            _kill_server(self.data_dir)
            self.killed_at = time.monotonic()
            self.connects = 0
        self.calls_after_kill += bool(self.killed_at)

    def wrap(self, driver: Any, *, asynchronous: bool) -> None:
        for op in ("write", "end_load"):
            method = getattr(driver, op)
            if asynchronous:

                async def counted(*args: Any, _op: str = op, _method: Any = method) -> Any:
                    self.before(_op)
                    return await _method(*args)

            else:

                def counted(*args: Any, _op: str = op, _method: Any = method) -> Any:  # type: ignore[misc]
                    self.before(_op)
                    return _method(*args)

            setattr(driver, op, counted)


@pytest.fixture
def counting(own_server: Path, monkeypatch: pytest.MonkeyPatch) -> _Counting:
    counter = _Counting(own_server, kill_at=3)
    for cls in (psycopg.Connection, psycopg.AsyncConnection):
        original = cls.connect.__func__  # type: ignore[attr-defined]

        def connect(klass: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            counter.connects += 1
            return _original(klass, *args, **kwargs)

        monkeypatch.setattr(cls, "connect", classmethod(connect))
    return counter


def _check_failure(info: pytest.ExceptionInfo[UpsertFailed], records: list[Record], counter: _Counting) -> None:
    elapsed = time.monotonic() - counter.killed_at
    ids = [r.id for r in records]
    # One transaction per batch: the first two batches landed whole, the third failed whole.
    assert info.value.written_ids == ids[:20]
    assert info.value.failed_ids == ids[20:30]
    assert info.value.not_attempted_ids == ids[30:]
    # One retry layer: the store's 3 attempts are 3 driver writes, and no driver call tries to
    # connect more than once (the store also retries closing the load: more calls, one try each).
    assert counter.writes == 2 + THREE_TRIES.attempts
    assert counter.connects <= counter.calls_after_kill
    assert elapsed < 8, f"a dead server took {elapsed:.1f} s to report"


def _check_rows(data_dir: Path, name: str, records: list[Record]) -> None:
    _restart(data_dir)
    with connect(f"pgvector+embedded://{data_dir}") as store:
        assert store.count(name) == 20
        assert sorted(r.id for r in store.get(name, [r.id for r in records])) == [r.id for r in records[:20]]


def test_dead_server_sync(own_server: Path, counting: _Counting) -> None:
    records = _records(50)
    store = connect(f"pgvector+embedded://{own_server}", retry=THREE_TRIES)
    counting.wrap(store.driver, asynchronous=False)
    try:
        store.drop_collection("c")
        store.create_collection(CollectionSpec("c", 8))
        with pytest.raises(UpsertFailed) as info:
            store.upsert("c", records, batch_size=10)
        _check_failure(info, records, counting)
    finally:
        store.close()
    _check_rows(own_server, "c", records)


def test_dead_server_async(own_server: Path, counting: _Counting) -> None:
    records = _records(50)

    async def run() -> pytest.ExceptionInfo[UpsertFailed]:
        store = connect_async(f"pgvector+embedded://{own_server}", retry=THREE_TRIES)
        counting.wrap(store.driver, asynchronous=True)
        try:
            await store.drop_collection("c")
            await store.create_collection(CollectionSpec("c", 8))
            with pytest.raises(UpsertFailed) as info:
                await store.upsert("c", records, batch_size=10)
            return info
        finally:
            await store.close()

    _check_failure(asyncio.run(run()), records, counting)
    _check_rows(own_server, "c", records)


# ----- another client drops what this one has cached ------------------------------------------------


def test_drop_by_another_handle_sync() -> None:
    a, b = connect(embedded_url()), connect(embedded_url())
    try:
        a.drop_collection("shared_c")
        b.create_collection(CollectionSpec("shared_c", 8))
        b.upsert("shared_c", _records(5))  # b now holds the spec and layout in its caches
        assert a.drop_collection("shared_c")
        with pytest.raises(CollectionNotFound):
            b.upsert("shared_c", _records(5))
        with pytest.raises(CollectionNotFound):
            b.query("shared_c", _records(1)[0].vector)
        # Re-created with another storage: b's next calls read the new layout, and land.
        a.create_collection(CollectionSpec("shared_c", 8))
        halfvec = connect(embedded_url(), storage="halfvec")
        halfvec.drop_collection("shared_c")
        halfvec.create_collection(CollectionSpec("shared_c", 8))
        halfvec.close()
        assert b.upsert("shared_c", _records(5)) == 5
        hits = b.query("shared_c", _records(5)[3].vector, k=1)
        assert [h.id for h in hits] == ["r003"]
    finally:
        a.drop_collection("shared_c")
        a.close()
        b.close()


def test_drop_by_another_handle_async() -> None:
    async def run() -> None:
        a, b = connect_async(embedded_url()), connect_async(embedded_url())
        try:
            await a.drop_collection("shared_d")
            await b.create_collection(CollectionSpec("shared_d", 8))
            await b.upsert("shared_d", _records(5))
            assert await a.drop_collection("shared_d")
            with pytest.raises(CollectionNotFound):
                await b.upsert("shared_d", _records(5))
            with pytest.raises(CollectionNotFound):
                await b.count("shared_d")
        finally:
            await a.drop_collection("shared_d")
            await a.close()
            await b.close()

    asyncio.run(run())
