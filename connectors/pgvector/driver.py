"""``PgVectorDriver``: collections as PostgreSQL tables with a pgvector column, over psycopg.

Open it with ``connect("pgvector://user@host/db")`` or ``connect("pgvector+embedded:///path")``
(URLs and options: ``location.py``, ``options.py``). Collections: ``schema.py``; writes, searches,
reads: ``statements.py``; tables made by other tools (``adopt``): ``adopted.py``; bulk loads and
index builds: ``loads.py``; the embedded server: ``embedded.py``. This module only runs those
plans on psycopg's ``Connection``; the async twin is ``async_driver.py``.

Safe to share between threads: every call borrows a connection from a pool (``pool.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from pgvector.psycopg import register_vector

from vecbridge.core.driver import Adoption, Batch, LoadToken, ScanRange, SearchRequest, Target, WriteResult
from vecbridge.core.errors import CollectionNotFound, StoreError
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage

from . import embedded
from .base import DriverBase
from .convert import register_packed_vectors
from .errors import translate
from .loads import LoadToken as Load
from .location import Location, locate
from .options import CollectionLayout
from .plans import Copy, Failed, Plan, Step, Walk, Work
from .pool import Connections
from .session import prepare_database

__all__ = ["PgVectorDriver"]


class PgVectorDriver(DriverBase):
    """The sync driver. ``conninfo``: a libpq connection string; ``location``: how it was found."""

    def __init__(self, conninfo: str, location: Location, on_close: Callable[[], None] | None = None) -> None:
        super().__init__(
            location.options, location.description, embedded=location.data_dir is not None, native_async=False
        )
        self._conninfo = conninfo
        self._location = location
        self._on_close = on_close
        self._closed = False
        try:
            with psycopg.Connection.connect(conninfo, autocommit=True) as conn:
                self._ready(self._drive(conn, prepare_database(self.options, self.description)))
        except psycopg.OperationalError as exc:
            self._release()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"cannot connect to PostgreSQL at {self.description}: {first}") from None
        except BaseException as exc:
            self._release()
            mapped = translate(exc)
            if mapped is None or mapped is exc:
                raise
            raise mapped from exc
        self._pool = Connections(conninfo, self.options, self._configure)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PgVectorDriver:
        """``pgvector://user:pass@host:5432/db?schema=...`` or ``pgvector+embedded:///path``."""
        location = locate(url, options)
        if location.data_dir is None:
            assert location.conninfo is not None
            return cls(location.conninfo, location)
        data_dir = location.data_dir
        conninfo = embedded.acquire(data_dir)
        # If the constructor fails it releases the server itself, so it is not left running.
        return cls(conninfo, location, on_close=lambda: embedded.release(data_dir))

    @classmethod
    def async_from_url(cls, url: str, **options: Any) -> Any:
        """The async driver for the same URLs (``connect_async``): see ``async_driver.py``."""
        from .async_driver import AsyncPgVectorDriver

        return AsyncPgVectorDriver.from_url(url, **options)

    def async_twin(self) -> Any:
        """A native async driver on the same database (``Store.async_view``): its own async pool;
        an embedded server is shared, counted, and stops when the last driver closes."""
        from .async_driver import AsyncPgVectorDriver

        return AsyncPgVectorDriver(self._location)

    # ----- running plans --------------------------------------------------------------------

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        register_vector(conn)
        register_packed_vectors(conn.adapters, conn.adapters.types)
        conn.execute(self.session_sql)

    def _run(self, work: Work[Any]) -> Any:
        with self._pool.connection() as conn:
            return self._drive(conn, work)

    def _drive(self, conn: psycopg.Connection[Any], work: Work[Any]) -> Any:
        try:
            if work.pipeline:
                with conn.pipeline(), conn.transaction():
                    return self._steps(conn, work.plan)
            if work.transaction:
                with conn.transaction():
                    return self._steps(conn, work.plan)
            return self._steps(conn, work.plan)
        except psycopg.Error as exc:
            self._failed(work, exc)
            raise

    @staticmethod
    def _steps(conn: psycopg.Connection[Any], plan: Plan[Any]) -> Any:
        walk = Walk(plan)
        for step in walk:
            walk.result = _outcome(conn, step)
        return walk.value

    def _own_connection(self) -> psycopg.Connection[Any]:
        """A connection outside the pool, for a bulk load's lock or an index build."""
        return psycopg.Connection.connect(self._conninfo, autocommit=True)

    # ----- collections ------------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        return self._run(Work(self.catalog.list_names()))  # type: ignore[no-any-return]

    def describe(self, name: str) -> CollectionSpec | None:
        adoption = self._adoption(name)
        if adoption is not None:
            return self._run(self._adopt_work(name, adoption))  # type: ignore[no-any-return]
        entry = self._run(self._describe_work(name))
        target = self._needs_repair(entry)
        if target is not None:
            self._build(target, None, repair=True)
        return entry.spec if entry is not None else None

    def create(self, spec: CollectionSpec) -> None:
        self._run(self._create_work(spec))

    def adopt(self, name: str, adoption: Adoption) -> CollectionSpec:
        """Read a table made by another tool as collection ``name`` (``adopted.py``)."""
        return self._run(self._adopt_work(name, adoption))  # type: ignore[no-any-return]

    def drop(self, name: str) -> bool:
        return bool(self._run(Work(self.catalog.drop(name), name, transaction=True)))

    def layout(self, name: str) -> CollectionLayout:
        """How ``name`` is stored: column type (vector/halfvec) and vector index with its parameters."""
        entry = self._run(self._describe_work(name))
        if entry is None:
            raise CollectionNotFound(f"collection {name!r} does not exist")
        return entry.layout  # type: ignore[no-any-return]

    def create_index(
        self,
        name: str,
        index: str = "hnsw",
        *,
        m: int | None = None,
        ef_construction: int | None = None,
        lists: int | None = None,
    ) -> CollectionLayout:
        """(Re)build the vector index of ``name`` (``hnsw``, ``ivfflat`` or ``none``) with new
        parameters; concurrently when the collection is in use. Loads already build the index
        after their data: this is for changing it."""
        entry = self._run(self._describe_work(name))
        if entry is None:
            raise CollectionNotFound(f"collection {name!r} does not exist")
        changes = {k: v for k, v in {"m": m, "ef_construction": ef_construction, "lists": lists}.items() if v}
        layout = self._new_layout(entry.spec, index=index, storage=entry.layout.storage, **changes)
        self._run(self.loads.relayout(name, layout))
        self._build(Target(entry.spec), None, repair=False)
        return self.layout(name)

    # ----- data ---------------------------------------------------------------------------------

    def write(self, target: Target, batch: Batch) -> WriteResult:
        return self._run(self._plans(target.name).write(target, batch))  # type: ignore[no-any-return]

    def search(self, target: Target, request: SearchRequest) -> list[Hit]:
        return self._run(self._plans(target.name).search(target, request))  # type: ignore[no-any-return]

    def get(self, target: Target, ids: list[str], include_vectors: bool) -> list[Record]:
        return self._run(self._plans(target.name).get(target, ids, include_vectors))  # type: ignore[no-any-return]

    def delete_ids(self, target: Target, ids: list[str]) -> None:
        self._run(self._plans(target.name).delete_ids(target, ids))

    def delete_filter(self, target: Target, node: FilterNode) -> None:
        self._run(self._plans(target.name).delete_filter(target, node))

    def count(self, target: Target, node: FilterNode | None) -> int:
        return self._run(self._plans(target.name).count(target, node))  # type: ignore[no-any-return]

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> ScanPage:
        plans = self._plans(target.name)
        return self._run(plans.scan_page(target, cursor, limit, include_vectors, stop))  # type: ignore[no-any-return]

    def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]:
        if target.name in self._adopted or parts < 2:
            return [ScanRange()]
        return self._run(self._data().scan_ranges(target, parts))  # type: ignore[no-any-return]

    # ----- bulk loads ---------------------------------------------------------------------------

    def begin_load(self, target: Target, expected: int | None) -> LoadToken:
        if not self._run(self.loads.wants_deferral(target, expected)):
            return None
        conn = self._own_connection()
        try:
            had_rows = self._drive(conn, self.loads.defer(target))
        except BaseException:
            conn.close()
            raise
        return Load(conn, had_rows)

    def end_load(self, target: Target, token: LoadToken) -> None:
        if token is not None or self.loads.build_due(target):
            self._build(target, token, repair=False)

    def _build(self, target: Target, token: Load | None, *, repair: bool) -> None:
        """Build a pending index on the load's connection (or a new one), then close it."""
        conn = token.connection if token is not None else self._own_connection()
        try:
            concurrently = self._drive(conn, self.loads.settle(target, token, repair=repair))
            self._drive(conn, self.loads.build(target, concurrently=concurrently))
        except Exception as exc:
            self._not_built(target, exc, repair=repair)
        finally:
            conn.close()

    # ----- lifecycle ----------------------------------------------------------------------------

    def _release(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._pool.close()
        finally:
            self._release()


def _outcome(conn: psycopg.Connection[Any], step: Step) -> Any:
    """Run one step: its rows (all, the first, or None), or the exception it raised as ``Failed``."""
    try:
        if isinstance(step, Copy):
            with conn.cursor() as cur, cur.copy(step.statement) as copy:
                copy.set_types(list(step.types))
                for row in step.rows:
                    copy.write_row(row)
            return None
        cur = conn.execute(step.statement, step.params, prepare=step.prepare, binary=step.binary)
        return cur.fetchall() if step.fetch == "all" else cur.fetchone() if step.fetch == "one" else None
    except Exception as exc:
        return Failed(exc)
