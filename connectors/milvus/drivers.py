"""``MilvusDriver`` (pymilvus ``MilvusClient``) and ``AsyncMilvusDriver`` (``AsyncMilvusClient``).

Both run the operations of ``operations.py``; they differ only in how a call is made. Clients are
made on first use (no I/O in constructors), and pymilvus's own retries are switched off on every
call (``retry_times=0``, ``retry_on_rate_limit=False``): the store in core retries, once.
No per-call ``timeout`` is passed, because pymilvus treats it as a budget for retrying gRPC
failures by itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymilvus import AsyncMilvusClient, MilvusClient

from vecbridge.core.driver import Driver
from vecbridge.core.errors import StoreError, VecbridgeError
from vecbridge.core.models import Record

from . import lite
from .convert import check_record
from .errors import translate
from .operations import FLUSH_AFTER, LITE_FLUSH_AFTER, MilvusOperations, Ops, Rpc, capabilities
from .options import MilvusSettings, settings_from_url

__all__ = ["AsyncMilvusDriver", "MilvusDriver"]

T = TypeVar("T")

_NO_SDK_RETRY = {"retry_times": 0, "retry_on_rate_limit": False}


def _translated(exc: Exception) -> Exception:
    error = translate(exc)
    if error is None or error is exc:
        return exc
    error.__cause__ = exc
    return error


async def arun_ops(ops: Ops[T], call: Callable[[Rpc], Awaitable[Any]]) -> T:
    """Drive an operation: each call's result (or translated error) goes back into it."""
    try:
        step = next(ops)
        while True:
            try:
                result = await call(step)
            except Exception as exc:
                step = ops.throw(_translated(exc))
            else:
                step = ops.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def run_ops(ops: Ops[T], call: Callable[[Rpc], Any]) -> T:
    """Drive an operation with blocking calls: ``arun_ops`` over calls that never suspend, so its
    coroutine runs to the end at the first ``send``, without an event loop (one loop for both)."""

    async def immediately(rpc: Rpc) -> Any:
        return call(rpc)

    coroutine = arun_ops(ops, immediately)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise AssertionError("a blocking call suspended the operation's coroutine")  # pragma: no cover


def _client_kwargs(settings: MilvusSettings, uri: str) -> dict[str, Any]:
    return {"uri": uri, "token": settings.token, "db_name": settings.db_name}


#: The driver methods that are, one for one, the operations of the same name in operations.py:
#: every method of the driver contract but those ``_Shared`` and the drivers define themselves.
OPERATIONS = frozenset(name for name in vars(MilvusOperations) if not name.startswith("_") and hasattr(Driver, name))


class _Shared:
    """What both drivers hold: settings, operations, capabilities, record rules, translation.

    The methods named in ``OPERATIONS`` are not written out twice: ``__getattr__`` of each driver
    returns the operation of that name run through its client (a plain function for the sync
    driver, a coroutine function for the async one)."""

    def __init__(self, settings: MilvusSettings, *, native_async: bool) -> None:
        self.settings = settings
        lite_store = settings.data_dir is not None
        self.ops = MilvusOperations(settings.index_type, flush_after=LITE_FLUSH_AFTER if lite_store else FLUSH_AFTER)
        self.capabilities = capabilities(settings.index_type, native_async=native_async, multi_process=not lite_store)
        self._client: Any = None  # made on first use
        self._closed = False

    def check_record(self, record: Record) -> list[str]:
        return check_record(record)

    def translate(self, exc: BaseException) -> VecbridgeError | None:
        return translate(exc)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self!r} is closed")

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in OPERATIONS:
            raise AttributeError(name)
        return self._bind(getattr(self.ops, name))

    def _bind(self, operation: Callable[..., Ops[Any]]) -> Callable[..., Any]:
        raise NotImplementedError

    def _detach(self) -> Any:
        """Close this driver for further calls; the client to close (None if none was made)."""
        if self._closed:
            return None
        self._closed = True
        client, self._client = self._client, None
        return client

    def _release_lite(self) -> None:
        if self.settings.data_dir is not None:
            lite.release(self.settings.data_dir)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings.label})"


class MilvusDriver(_Shared):
    """A Milvus server or Milvus Lite through pymilvus's ``MilvusClient``."""

    def __init__(self, settings: MilvusSettings) -> None:
        super().__init__(settings, native_async=False)
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MilvusDriver:
        return cls(settings_from_url(url, **options))

    @classmethod
    def async_from_url(cls, url: str, **options: Any) -> AsyncMilvusDriver:
        return AsyncMilvusDriver(settings_from_url(url, **options))

    def async_twin(self) -> AsyncMilvusDriver | None:
        """``AsyncMilvusClient`` to the same server (``Store.async_view``). None for Milvus Lite:
        a twin would hold the embedded engine open on its own count, and an async view that is
        never closed (framework adapters seldom are) would keep it running after the store is
        closed; the view then runs this driver in threads, as for the other in-process engines."""
        if self.settings.data_dir is not None:
            return None
        return AsyncMilvusDriver(self.settings)

    def _connect(self) -> MilvusClient:
        with self._lock:
            self._check_open()
            if self._client is None:
                data_dir = self.settings.data_dir
                uri = lite.acquire(data_dir) if data_dir is not None else self.settings.server_uri
                assert uri is not None
                try:
                    self._client = MilvusClient(**_client_kwargs(self.settings, uri))
                except BaseException:
                    if data_dir is not None:
                        lite.release(data_dir)
                    raise
            return self._client

    def _run(self, ops: Ops[T]) -> T:
        client = self._connect()
        return run_ops(ops, lambda rpc: getattr(client, rpc.method)(**rpc.kwargs, **_NO_SDK_RETRY))

    def _bind(self, operation: Callable[..., Ops[Any]]) -> Callable[..., Any]:
        return lambda *args: self._run(operation(*args))

    def close(self) -> None:
        with self._lock:
            client = self._detach()
        if client is not None:
            try:
                client.close()
            finally:
                self._release_lite()


class AsyncMilvusDriver(_Shared):
    """A Milvus server or Milvus Lite through pymilvus's ``AsyncMilvusClient``."""

    def __init__(self, settings: MilvusSettings) -> None:
        super().__init__(settings, native_async=True)
        self._lock: asyncio.Lock | None = None

    async def _connect(self) -> AsyncMilvusClient:
        if self._lock is None:  # made inside the running loop
            self._lock = asyncio.Lock()
        async with self._lock:
            self._check_open()
            if self._client is None:
                data_dir = self.settings.data_dir
                # Starting Milvus Lite opens and recovers its files: not in the event loop's thread.
                if data_dir is not None:
                    uri = await asyncio.to_thread(lite.acquire, data_dir)
                else:
                    assert self.settings.server_uri is not None
                    uri = self.settings.server_uri
                try:
                    self._client = AsyncMilvusClient(**_client_kwargs(self.settings, uri))
                except BaseException:
                    if data_dir is not None:
                        await asyncio.to_thread(lite.release, data_dir)
                    raise
            return self._client

    async def _run(self, ops: Ops[T]) -> T:
        client = await self._connect()
        return await arun_ops(ops, lambda rpc: getattr(client, rpc.method)(**rpc.kwargs, **_NO_SDK_RETRY))

    def _bind(self, operation: Callable[..., Ops[Any]]) -> Callable[..., Any]:
        async def run(*args: Any) -> Any:  # a coroutine function: AsyncStore tells async drivers by it
            return await self._run(operation(*args))

        return run

    async def close(self) -> None:
        client = self._detach()
        if client is not None:
            try:
                await client.close()
            finally:
                await asyncio.to_thread(self._release_lite)
