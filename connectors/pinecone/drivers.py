"""``PineconeDriver`` (sync, over ``pinecone.Pinecone``) and ``AsyncPineconeDriver`` (over
``pinecone.AsyncPinecone``): thin I/O shells running the same plans (``operations``).

Each driver method is declared once, for both, as an :class:`_Operation`: reading it
from a driver gives a function that runs the operation's plan through that driver's ``_run`` —
a plain function on the sync driver, a coroutine function on the async one. So the two differ
only in how a step is performed. See the package README for URLs and behaviour.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from vecbridge.core.driver import AsyncDriverDefaults, DriverDefaults
from vecbridge.core.errors import StoreError, VecbridgeError
from vecbridge.core.models import Record

from .clients import Clients, async_clients, sync_clients
from .errors import translate
from .operations import Operations, capabilities
from .plan import Io, Pause, Plan, Step, Together, Walk
from .settings import Settings, settings_from_url

__all__ = ["AsyncPineconeDriver", "PineconeDriver"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class _Operation(Generic[P, R]):
    """A driver method running the plan of ``Operations.<name>``."""

    def __init__(self, plan: Callable[Concatenate[Operations, P], Plan[R]]) -> None:
        self._plan = plan

    @overload
    def __get__(self, driver: None, owner: type[Any]) -> _Operation[P, R]: ...
    @overload
    def __get__(self, driver: AsyncPineconeDriver, owner: type[Any]) -> Callable[P, Coroutine[Any, Any, R]]: ...
    @overload
    def __get__(self, driver: PineconeDriver, owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, driver: _Shell | None, owner: type[Any]) -> Any:
        if driver is None:
            return self
        plan, ops = self._plan, driver._ops
        return driver._bind(lambda *args, **kwargs: plan(ops, *args, **kwargs))


class _Collections:
    list_collections = _Operation(Operations.list_collections)
    describe = _Operation(Operations.describe)
    create = _Operation(Operations.create)
    drop = _Operation(Operations.drop)
    adopt = _Operation(Operations.adopt)


class _Writes:
    write = _Operation(Operations.write)
    delete_ids = _Operation(Operations.delete_ids)
    delete_filter = _Operation(Operations.delete_filter)


class _Reads:
    search = _Operation(Operations.search)
    get = _Operation(Operations.get)
    count = _Operation(Operations.count)
    scan_page = _Operation(Operations.scan_page)
    caught_up = _Operation(Operations.caught_up)  # reads reflect this driver's upserts? (see ``freshness``)


class _Shell(_Collections, _Writes, _Reads):
    """What both drivers share: the operations (above), settings, record rules, translation, repr."""

    def __init__(self, settings: Settings, clients: Clients, native_async: bool) -> None:
        self.settings = settings
        self.capabilities = capabilities(native_async)
        self._ops = Operations(settings)
        self._clients = clients
        self._closed = False

    def _bind(self, plan: Callable[..., Plan[Any]]) -> Callable[..., Any]:
        raise NotImplementedError

    def _step(self) -> None:
        if self._closed:
            raise StoreError(f"{self!r} is closed: open the store again")

    def check_record(self, record: Record) -> list[str]:
        return self._ops.check_record(record)

    def translate(self, exc: BaseException) -> VecbridgeError | None:
        return translate(exc)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings.display}, {self.settings.summary()})"


class PineconeDriver(_Shell, DriverDefaults):
    """Pinecone through the sync SDK client; the concurrent requests of one call run in threads."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, sync_clients(settings), native_async=False)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PineconeDriver:
        """The sync driver for ``url`` (options: see ``settings``); it connects on its first call."""
        return cls(settings_from_url(url, options))

    @classmethod
    def async_from_url(cls, url: str, **options: Any) -> AsyncPineconeDriver:
        """The native async driver for ``url``; it connects on its first call, in the caller's loop."""
        settings = settings_from_url(url, options)  # checked here, in the caller's thread
        return AsyncPineconeDriver(settings)

    def async_twin(self) -> AsyncPineconeDriver:
        """``AsyncPinecone`` on the same project (``Store.async_view``); no I/O until its first call."""
        return AsyncPineconeDriver(self.settings)

    def _bind(self, plan: Callable[..., Plan[Any]]) -> Callable[..., Any]:
        return lambda *args, **kwargs: self._run(plan(*args, **kwargs))

    def _outcomes(self, calls: tuple[Callable[[Any], Any], ...]) -> list[Any]:
        def outcome(call: Callable[[Any], Any]) -> Any:
            try:
                return call(self._clients)
            except Exception as exc:
                return exc

        if len(calls) == 1 or self.settings.max_concurrency == 1:
            return [outcome(call) for call in calls]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.settings.max_concurrency, thread_name_prefix="vecbridge-pinecone")
            pool = self._pool
        return list(pool.map(outcome, calls))

    def _perform(self, step: Step) -> Any:
        if isinstance(step, Pause):
            return time.sleep(step.seconds)
        if isinstance(step, Together):
            return self._outcomes(step.calls)
        result = step.call(self._clients)
        return list(result) if step.collect else result

    def _run(self, plan: Plan[T]) -> T:
        self._step()
        walk = Walk(plan)
        while (step := walk.step()) is not None:
            try:
                walk.answer(self._perform(step))
            except Exception as exc:
                walk.fail(exc)
        result: T = walk.value
        return result

    def close(self) -> None:
        self._closed = True
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        for handle in self._clients.release():
            handle.close()
        self._clients.control.close()


class AsyncPineconeDriver(_Shell, AsyncDriverDefaults):
    """The same driver over ``AsyncPinecone``; the concurrent requests of one call are gathered,
    at most ``max_concurrency`` at a time. Construction does no I/O."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, async_clients(settings), native_async=True)
        self._limit: asyncio.Semaphore | None = None

    def _bind(self, plan: Callable[..., Plan[Any]]) -> Callable[..., Any]:
        async def method(*args: Any, **kwargs: Any) -> Any:
            return await self._run(plan(*args, **kwargs))

        return method

    async def _call(self, call: Callable[[Any], Any]) -> Any:
        if self._limit is None:  # created inside the running loop
            self._limit = asyncio.Semaphore(self.settings.max_concurrency)
        async with self._limit:
            outcome = call(self._clients)
            return await outcome if inspect.isawaitable(outcome) else outcome

    async def _perform(self, step: Step) -> Any:
        if isinstance(step, Pause):
            return await asyncio.sleep(step.seconds)
        if isinstance(step, Together):
            return list(await asyncio.gather(*(self._call(c) for c in step.calls), return_exceptions=True))
        assert isinstance(step, Io)
        if step.collect:
            return [item async for item in step.call(self._clients)]
        return await self._call(step.call)

    async def _run(self, plan: Plan[T]) -> T:
        self._step()
        walk = Walk(plan)
        while (step := walk.step()) is not None:
            try:
                walk.answer(await self._perform(step))
            except Exception as exc:
                walk.fail(exc)
        result: T = walk.value
        return result

    async def close(self) -> None:
        self._closed = True
        for handle in self._clients.release():
            await handle.close()
        await self._clients.control.close()
