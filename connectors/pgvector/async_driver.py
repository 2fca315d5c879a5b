"""``AsyncPgVectorDriver``: the pgvector driver on psycopg's ``AsyncConnection`` and
``AsyncConnectionPool`` (``connect_async("pgvector://...")``).

It runs the same plans as the sync driver (``driver.py``); only the I/O differs. Nothing happens
in the constructor: the embedded server is started (in a worker thread: it runs ``initdb`` and
``pg_ctl``), the database prepared and the pool opened on the first call, inside the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import psycopg
from pgvector.psycopg import register_vector_async

from vecbridge.core.driver import Adoption, Batch, LoadToken, ScanRange, SearchRequest, Target, WriteResult
from vecbridge.core.errors import CollectionNotFound, StoreError
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage

from . import embedded
from .base import DriverBase
from .convert import register_packed_vectors
from .loads import LoadToken as Load
from .location import Location, locate
from .options import CollectionLayout
from .plans import Copy, Failed, Plan, Step, Walk, Work
from .pool import AsyncConnections
from .session import prepare_database

__all__ = ["AsyncPgVectorDriver"]


class AsyncPgVectorDriver(DriverBase):
    """The async driver (see the module docstring)."""

    def __init__(self, location: Location) -> None:
        super().__init__(
            location.options, location.description, embedded=location.data_dir is not None, native_async=True
        )
        self._location = location
        self._conninfo = location.conninfo
        self._pool: AsyncConnections | None = None
        self._opening: asyncio.Lock | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: str, **options: Any) -> AsyncPgVectorDriver:
        return cls(locate(url, options))

    # ----- opening --------------------------------------------------------------------------

    async def _open(self) -> AsyncConnections:
        if self._pool is not None:
            return self._pool
        if self._closed:
            raise StoreError(f"{self!r} is closed: open a new store")
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                self._pool = await self._prepare()
        return self._pool

    async def _prepare(self) -> AsyncConnections:
        data_dir = self._location.data_dir
        if self._conninfo is None:
            assert data_dir is not None
            self._conninfo = await asyncio.to_thread(embedded.acquire, data_dir)
        try:
            conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            await self._release()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"cannot connect to PostgreSQL at {self.description}: {first}") from None
        try:
            async with conn:
                self._ready(await self._drive(conn, prepare_database(self.options, self.description)))
        except BaseException:
            await self._release()
            raise
        return AsyncConnections(self._conninfo, self.options, self._configure)

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await register_vector_async(conn)
        register_packed_vectors(conn.adapters, conn.adapters.types)
        await conn.execute(self.session_sql)

    # ----- running plans --------------------------------------------------------------------

    async def _run(self, make: Callable[[], Work[Any]]) -> Any:
        pool = await self._open()
        work = make()
        async with pool.connection() as conn:
            return await self._drive(conn, work)

    async def _drive(self, conn: psycopg.AsyncConnection[Any], work: Work[Any]) -> Any:
        try:
            if work.pipeline:
                async with conn.pipeline(), conn.transaction():
                    return await self._steps(conn, work.plan)
            if work.transaction:
                async with conn.transaction():
                    return await self._steps(conn, work.plan)
            return await self._steps(conn, work.plan)
        except psycopg.Error as exc:
            self._failed(work, exc)
            raise

    @staticmethod
    async def _steps(conn: psycopg.AsyncConnection[Any], plan: Plan[Any]) -> Any:
        walk = Walk(plan)
        for step in walk:
            walk.result = await _outcome(conn, step)
        return walk.value

    async def _own_connection(self) -> psycopg.AsyncConnection[Any]:
        assert self._conninfo is not None
        return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)

    # ----- collections ------------------------------------------------------------------------

    async def list_collections(self) -> list[str]:
        return await self._run(lambda: Work(self.catalog.list_names()))  # type: ignore[no-any-return]

    async def describe(self, name: str) -> CollectionSpec | None:
        adoption = self._adoption(name)
        if adoption is not None:
            return await self._run(lambda: self._adopt_work(name, adoption))  # type: ignore[no-any-return]
        entry = await self._run(lambda: self._describe_work(name))
        target = self._needs_repair(entry)
        if target is not None:
            await self._build(target, None, repair=True)
        return entry.spec if entry is not None else None

    async def create(self, spec: CollectionSpec) -> None:
        await self._run(lambda: self._create_work(spec))

    async def adopt(self, name: str, adoption: Adoption) -> CollectionSpec:
        """Read a table made by another tool as collection ``name`` (``adopted.py``)."""
        return await self._run(lambda: self._adopt_work(name, adoption))  # type: ignore[no-any-return]

    async def drop(self, name: str) -> bool:
        return bool(await self._run(lambda: Work(self.catalog.drop(name), name, transaction=True)))

    async def layout(self, name: str) -> CollectionLayout:
        entry = await self._run(lambda: self._describe_work(name))
        if entry is None:
            raise CollectionNotFound(f"collection {name!r} does not exist")
        return entry.layout  # type: ignore[no-any-return]

    # ----- data ---------------------------------------------------------------------------------

    async def write(self, target: Target, batch: Batch) -> WriteResult:
        return await self._run(lambda: self._plans(target.name).write(target, batch))  # type: ignore[no-any-return]

    async def search(self, target: Target, request: SearchRequest) -> list[Hit]:
        return await self._run(lambda: self._plans(target.name).search(target, request))  # type: ignore[no-any-return]

    async def get(self, target: Target, ids: list[str], include_vectors: bool) -> list[Record]:
        return await self._run(lambda: self._plans(target.name).get(target, ids, include_vectors))  # type: ignore[no-any-return]

    async def delete_ids(self, target: Target, ids: list[str]) -> None:
        await self._run(lambda: self._plans(target.name).delete_ids(target, ids))

    async def delete_filter(self, target: Target, node: FilterNode) -> None:
        await self._run(lambda: self._plans(target.name).delete_filter(target, node))

    async def count(self, target: Target, node: FilterNode | None) -> int:
        return await self._run(lambda: self._plans(target.name).count(target, node))  # type: ignore[no-any-return]

    async def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> ScanPage:
        plans = self._plans
        page = await self._run(lambda: plans(target.name).scan_page(target, cursor, limit, include_vectors, stop))
        return page  # type: ignore[no-any-return]

    async def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]:
        if target.name in self._adopted or parts < 2:
            return [ScanRange()]
        ranges = await self._run(lambda: self._data().scan_ranges(target, parts))
        return ranges  # type: ignore[no-any-return]

    # ----- bulk loads ---------------------------------------------------------------------------

    async def begin_load(self, target: Target, expected: int | None) -> LoadToken:
        if not await self._run(lambda: self.loads.wants_deferral(target, expected)):
            return None
        conn = await self._own_connection()
        try:
            had_rows = await self._drive(conn, self.loads.defer(target))
        except BaseException:
            await conn.close()
            raise
        return Load(conn, had_rows)

    async def end_load(self, target: Target, token: LoadToken) -> None:
        if token is not None or self.loads.build_due(target):
            await self._build(target, token, repair=False)

    async def _build(self, target: Target, token: Load | None, *, repair: bool) -> None:
        conn = token.connection if token is not None else await self._own_connection()
        try:
            concurrently = await self._drive(conn, self.loads.settle(target, token, repair=repair))
            await self._drive(conn, self.loads.build(target, concurrently=concurrently))
        except Exception as exc:
            self._not_built(target, exc, repair=repair)
        finally:
            await conn.close()

    # ----- lifecycle ----------------------------------------------------------------------------

    async def _release(self) -> None:
        data_dir = self._location.data_dir
        if data_dir is not None and self._conninfo is not None:
            self._conninfo = None
            await asyncio.to_thread(embedded.release, data_dir)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._pool is not None:
                await self._pool.close()
        finally:
            await self._release()


async def _outcome(conn: psycopg.AsyncConnection[Any], step: Step) -> Any:
    """Run one step: its rows (all, the first, or None), or the exception it raised as ``Failed``."""
    try:
        if isinstance(step, Copy):
            async with conn.cursor() as cur, cur.copy(step.statement) as copy:
                copy.set_types(list(step.types))
                for row in step.rows:
                    await copy.write_row(row)
            return None
        cur = await conn.execute(step.statement, step.params, prepare=step.prepare, binary=step.binary)
        if step.fetch == "none":
            return None
        return await (cur.fetchall() if step.fetch == "all" else cur.fetchone())
    except Exception as exc:
        return Failed(exc)
