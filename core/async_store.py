"""``AsyncStore``: the same policy as ``Store``, run with awaits over an :class:`AsyncDriver`.

Nothing here decides anything: validation, retries, translation, the spec cache and failure
accounting are the generators of ``policy.py``, shared with the sync store. Drivers whose SDK has a
native async client (qdrant-client, psycopg, weaviate-client, pinecone) implement ``AsyncDriver``
themselves; a store without one (Qdrant Edge, qdrant-client's local mode) is wrapped in
:class:`ThreadedAsyncDriver`, which runs its sync calls in threads, a bounded number at a time.

    >>> import asyncio
    >>> from vecbridge.core import CollectionSpec, Record, connect_async
    >>> async def main() -> list[str]:
    ...     async with connect_async("qdrant+local://:memory:") as store:
    ...         await store.create_collection(CollectionSpec("notes", dimension=2))
    ...         await store.upsert("notes", [Record("a", [1.0, 0.0]), Record("b", [0.0, 1.0])])
    ...         return [h.id for h in await store.query("notes", [0.9, 0.1], k=1)]
    >>> asyncio.run(main())
    ['a']
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from .driver import Adoption, AsyncDriver, Capabilities, Driver, ScanRange
from .embedders import Embedder
from .errors import TransientError, VecbridgeError
from .filters import FilterNode
from .models import CollectionSpec, Hit, Record, ScanPage, Vector
from .policy import Call, Embed, Sleep, Steps, StorePolicy
from .retry import DEFAULT_RETRY, Replay, RetryPolicy

__all__ = ["AsyncStore", "ThreadedAsyncDriver", "arun_steps"]

T = TypeVar("T")
Filter = Mapping[str, Any] | FilterNode | None


async def arun_steps(steps: Steps[T], driver: Any, policy: StorePolicy, embedder: Embedder | None = None) -> T:
    """Run a policy generator with awaits: the runner behind ``AsyncStore`` and ``AsyncCollection``."""
    try:
        step = next(steps)
        while True:
            try:
                result = await _perform(step, driver, policy, embedder)
            except VecbridgeError as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def _perform(step: Any, driver: Any, policy: StorePolicy, embedder: Embedder | None) -> Any:
    if isinstance(step, Sleep):
        await asyncio.sleep(step.seconds)
        return None
    if isinstance(step, Embed):
        assert embedder is not None, "an Embed step needs a runner with an embedder"
        if step.query:
            return await embedder.aembed_query(step.texts[0])
        return await embedder.aembed_documents(list(step.texts))
    assert isinstance(step, Call)
    method = getattr(driver, step.op)
    started = time.monotonic()
    try:
        return await _call_once(method, step, driver, policy)
    except TransientError as error:
        if not step.retry or policy.retry.attempts == 1:
            raise
        replay = Replay(error)  # the loop is set up only after a failure: see Replay
    async for attempt in policy.retry.async_retrying(time.monotonic() - started):
        with attempt:
            replay.first()
            return await _call_once(method, step, driver, policy)
    raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover


async def _call_once(method: Any, step: Call, driver: Any, policy: StorePolicy) -> Any:
    try:
        return await method(*step.args)
    except Exception as exc:
        mapped = None if isinstance(exc, VecbridgeError) else driver.translate(exc)
        error = policy.translate(exc, step, mapped)
        if error is exc:
            raise
        raise error from exc


class ThreadedAsyncDriver:
    """An ``AsyncDriver`` over a sync driver: each call runs in a worker thread, at most
    ``limit`` at once (the store's own thread safety decides how many help)."""

    _IO = (
        "list_collections",
        "describe",
        "create",
        "drop",
        "write",
        "search",
        "get",
        "delete_ids",
        "delete_filter",
        "count",
        "scan_page",
        "scan_ranges",
        "begin_load",
        "end_load",
        "adopt",
    )

    def __init__(self, driver: Driver, *, limit: int | None = None, owns: bool = True) -> None:
        self.sync_driver = driver
        #: False when a sync ``Store`` shares the driver: closing this view leaves it open.
        self._owns = owns
        self.capabilities = driver.capabilities
        self.check_record = driver.check_record
        self.check_batch = getattr(driver, "check_batch", None)
        self.translate = driver.translate
        self._limit = limit or int(getattr(driver, "thread_limit", 4))
        self._semaphore: asyncio.Semaphore | None = None

    async def close(self) -> None:
        if self._owns:
            await asyncio.to_thread(self.sync_driver.close)

    def __getattr__(self, name: str) -> Any:
        if name not in self._IO:
            raise AttributeError(name)
        method = getattr(self.sync_driver, name)

        @functools.wraps(method)
        async def threaded(*args: Any) -> Any:
            if self._semaphore is None:  # created inside the running loop
                self._semaphore = asyncio.Semaphore(self._limit)
            async with self._semaphore:
                return await asyncio.to_thread(method, *args)

        return threaded

    def __repr__(self) -> str:
        return repr(self.sync_driver)


class AsyncStore:
    """The async store API: the methods of :class:`~vecbridge.core.store.Store` as coroutines,
    with the same arguments, semantics and errors. Obtain one with ``connect_async(url)``."""

    def __init__(
        self,
        driver: AsyncDriver | Driver,
        *,
        retry: RetryPolicy | None = None,
        label: str | None = None,
        policy: StorePolicy | None = None,
    ) -> None:
        if not asyncio.iscoroutinefunction(getattr(driver, "search", None)):
            driver = ThreadedAsyncDriver(driver)  # type: ignore[arg-type]
        self.driver: Any = driver
        #: ``policy``: shared with a sync ``Store`` (``Store.async_view``): one spec cache for both.
        self.policy = policy or StorePolicy(
            driver.capabilities,
            driver.check_record,
            retry or DEFAULT_RETRY,
            label or repr(driver),
            getattr(driver, "check_batch", None),
        )

    async def _run(self, steps: Steps[T]) -> T:
        return await arun_steps(steps, self.driver, self.policy)

    @property
    def capabilities(self) -> Capabilities:
        capabilities: Capabilities = self.driver.capabilities
        return capabilities

    async def list_collections(self) -> list[str]:
        return await self._run(self.policy.list_collections())

    async def has_collection(self, name: str) -> bool:
        return await self._run(self.policy.has(name))

    async def describe_collection(self, name: str) -> CollectionSpec:
        return await self._run(self.policy.describe(name))

    async def create_collection(self, spec: CollectionSpec, *, exist_ok: bool = False) -> CollectionSpec:
        return await self._run(self.policy.create(spec, exist_ok))

    async def drop_collection(self, name: str) -> bool:
        return await self._run(self.policy.drop(name))

    async def adopt(self, name: str, adoption: Adoption | None = None, **fields: Any) -> CollectionSpec:
        return await self._run(self.policy.adopt(name, adoption or Adoption(**fields)))

    async def upsert(
        self, name: str, records: Iterable[Record], *, batch_size: int | None = None, tenant: str | None = None
    ) -> int:
        return await self._run(self.policy.upsert(name, records, batch_size, tenant))

    async def query(
        self,
        name: str,
        vector: Vector | None = None,
        *,
        k: int = 10,
        filter: Filter = None,
        include_vectors: bool = False,
        text: str | None = None,
        mode: str = "dense",
        score_threshold: float | None = None,
        alpha: float | None = None,
        tenant: str | None = None,
        **options: Any,
    ) -> list[Hit]:
        arguments = {
            "vector": vector,
            "text": text,
            "k": k,
            "filter": filter,
            "mode": mode,
            "include_vectors": include_vectors,
            "score_threshold": score_threshold,
            "alpha": alpha,
            "options": options,
        }
        return await self._run(self.policy.search(name, tenant, **arguments))

    async def get(
        self, name: str, ids: Sequence[str], *, include_vectors: bool = True, tenant: str | None = None
    ) -> list[Record]:
        return await self._run(self.policy.get(name, ids, include_vectors, tenant))

    async def delete(
        self, name: str, ids: Sequence[str] | None = None, *, filter: Filter = None, tenant: str | None = None
    ) -> None:
        await self._run(self.policy.delete(name, ids, filter, tenant))

    async def count(self, name: str, *, filter: Filter = None, tenant: str | None = None) -> int:
        return await self._run(self.policy.count(name, filter, tenant))

    async def scan(
        self,
        name: str,
        *,
        batch_size: int = 256,
        cursor: str | None = None,
        include_vectors: bool = True,
        tenant: str | None = None,
        stop: str | None = None,
    ) -> AsyncIterator[ScanPage]:
        """Pages of the collection: ``async for page in store.scan(name)`` (checked when the first
        page is asked for)."""
        target = await self._run(self.policy.scan_target(name, batch_size, cursor, tenant))
        position = cursor
        while True:
            page = await self._run(self.policy.scan_page(target, position, batch_size, include_vectors, stop))
            yield page
            if page.next_cursor is None:
                return
            position = page.next_cursor

    async def scan_ranges(self, name: str, parts: int, *, tenant: str | None = None) -> list[ScanRange]:
        return await self._run(self.policy.scan_ranges(name, parts, tenant))

    @asynccontextmanager
    async def bulk_load(
        self, name: str, *, expected: int | None = None, tenant: str | None = None
    ) -> AsyncIterator[None]:
        target = await self._run(self.policy.target(name, tenant))
        token = await self._run(self.policy.begin_load(target, expected))
        try:
            yield
        except BaseException:
            await self._run(self.policy.end_load(target, token, quietly=True))
            raise
        await self._run(self.policy.end_load(target, token))

    async def close(self) -> None:
        await self.driver.close()

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncStore({self.policy.label})"
