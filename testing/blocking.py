"""Blocking views of the async API, so one test suite checks the sync and the async store alike.

``BlockingStore(async_store)`` offers the methods of ``Store`` and runs each coroutine of the
``AsyncStore`` on one event loop in a background thread; ``BlockingCollection`` does the same for
``AsyncCollection``. The conformance suite runs through them in its async mode: every assertion of
the sync suite then holds for the async path, driver and all.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any, TypeVar

from vecbridge.core.async_store import AsyncStore
from vecbridge.core.collection import AsyncCollection
from vecbridge.core.driver import Capabilities
from vecbridge.core.embedders import Embedder
from vecbridge.core.models import ScanPage

__all__ = ["BlockingCollection", "BlockingStore", "EventLoopThread"]

T = TypeVar("T")


class EventLoopThread:
    """One asyncio loop running in a daemon thread; ``run(coro)`` waits for its result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="vecbridge-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()  # type: ignore[arg-type]

    def iterate(self, agen: AsyncIterator[T]) -> Iterator[T]:
        while True:
            try:
                yield self.run(agen.__anext__())
            except StopAsyncIteration:
                return

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class BlockingStore:
    """The ``Store`` API over an ``AsyncStore`` (for tests)."""

    def __init__(self, store: AsyncStore, runner: EventLoopThread | None = None) -> None:
        self.async_store = store
        self._own_runner = runner is None
        self.runner = runner or EventLoopThread()

    @property
    def capabilities(self) -> Capabilities:
        return self.async_store.capabilities

    def scan(self, name: str, **kwargs: Any) -> Iterator[ScanPage]:
        return self.runner.iterate(self.async_store.scan(name, **kwargs))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.async_store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.runner.run(method(*args, **kwargs))

        return call

    def close(self) -> None:
        try:
            self.runner.run(self.async_store.close())
        finally:
            if self._own_runner:
                self.runner.stop()

    def __repr__(self) -> str:
        return f"BlockingStore({self.async_store!r})"


class BlockingCollection:
    """The ``Collection`` API over an ``AsyncCollection`` (for tests)."""

    def __init__(self, collection: AsyncCollection, runner: EventLoopThread) -> None:
        self.async_collection = collection
        self.runner = runner

    @classmethod
    def open(
        cls, store: BlockingStore, name: str, *, embedder: Embedder | None = None, **kwargs: Any
    ) -> BlockingCollection:
        coll = store.runner.run(AsyncCollection.open(store.async_store, name, embedder=embedder, **kwargs))
        return cls(coll, store.runner)

    @property
    def spec(self) -> Any:
        return self.async_collection.spec

    def records(self, **kwargs: Any) -> Iterator[Any]:
        return self.runner.iterate(self.async_collection.records(**kwargs))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.async_collection, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.runner.run(method(*args, **kwargs))

        return call
