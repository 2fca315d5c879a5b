"""``Store.async_view()``: the async API over a store opened synchronously (what the LangChain,
Haystack and LlamaIndex adapters' async methods use). Where the store is a server with an async
SDK client the view runs on that client (no worker thread per call); in-process engines (Qdrant
Edge, qdrant-client local mode, Milvus Lite, memory) fall back to threads. Both forms see the same
data."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.conformance.backends import BACKENDS
from vecbridge.core.async_store import ThreadedAsyncDriver
from vecbridge.core.models import CollectionSpec, Record

_LOCAL = [b for b in BACKENDS if not b.integration and not b.asynchronous]
_SERVER_DRIVERS = {"PgVectorDriver", "WeaviateDriver", "PineconeDriver"}


@pytest.fixture(params=_LOCAL, ids=[b.id for b in _LOCAL])
def backend_store(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Any]]:
    backend = request.param
    reason = backend.skip_reason()
    if reason:
        pytest.skip(reason)
    opened = backend.factory()
    yield backend, opened
    opened.close()


def _served(driver: Any) -> bool:
    name = type(driver).__name__
    if name == "QdrantDriver":
        return not driver.config.local
    if name == "MilvusDriver":  # Milvus Lite is an embedded engine: threads, like Edge
        return driver.settings.data_dir is None
    return name in _SERVER_DRIVERS


def test_async_view_runs_natively_on_servers_and_sees_the_same_data(backend_store: tuple[Any, Any]) -> None:
    backend, store = backend_store
    name = f"view_{uuid.uuid4().hex[:8]}"
    store.create_collection(CollectionSpec(name, 4))
    try:
        vectors = np.eye(4, dtype=np.float32)
        store.upsert(name, [Record(str(i), vectors[i].tolist(), f"t{i}", {"n": i}) for i in range(4)])
        backend.settle()
        view = store.async_view()

        async def use() -> tuple[list[str], int]:
            try:
                hits = await view.query(name, vector=vectors[2].tolist(), k=2)
                return [h.id for h in hits], await view.count(name)
            finally:
                await view.close()

        ids, count = asyncio.run(use())
        assert ids[0] == "2" and count == 4
        threaded = isinstance(view.driver, ThreadedAsyncDriver)
        assert threaded is not _served(store.driver), (type(store.driver).__name__, type(view.driver).__name__)
        if not threaded:
            assert view.driver.capabilities.native_async
        assert store.count(name) == 4  # the sync store stays open after its view is closed
    finally:
        store.drop_collection(name)
