"""``PgVectorStore``: collections as PostgreSQL tables with a pgvector column.

URLs::

    pgvector://user:password@host:5432/db?schema=rag     a server (password also from PGPASSWORD,
                                                         ~/.pgpass; every libpq variable applies)
    pgvector+embedded:///path/to/dir                     PostgreSQL 18 + pgvector 0.8 from pip
                                                         (see embedded.py), started on open and
                                                         stopped when the last store closes

A collection is a table ``(id text primary key, embedding vector(d) | halfvec(d), text text,
metadata jsonb)`` with an HNSW (default), IVFFlat or no vector index and a GIN index on metadata;
its spec (dimension, metric, embedder fingerprint) and layout live in the catalog table
``vecbridge_collections`` of the same schema. See ``options.py`` for every option.

Writes: one transaction per batch, so a batch lands whole or not at all. A batch of new ids is
COPied in binary straight into the table (COPY speed: the bulk-load case); a batch holding any
existing id is COPied into a session-private staging table and merged with
``INSERT ... ON CONFLICT (id) DO UPDATE`` (upsert semantics). Queries order by pgvector's distance
operator; filtered queries use iterative index scans (pgvector >= 0.8) so that a selective filter
still fills ``k``. For bulk loads, create the collection with ``index='none'``, upsert, then
``create_index``: pgvector builds an index far faster over existing rows than row by row.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, NoReturn
from urllib.parse import unquote

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolClosed

from vecbridge.core.errors import (
    CollectionExists,
    CollectionNotFound,
    InvalidInput,
    StoreError,
)
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage, Vector
from vecbridge.core.retry import call_with_retry
from vecbridge.core.store import BaseVectorStore, check_compatible
from vecbridge.core.urls import parse_store_url

from . import embedded
from .convert import (
    check_ids_and_texts,
    copy_types,
    encode_rows,
    hit_from_row,
    pack_vector,
    record_from_row,
    register_packed_vectors,
)
from .errors import translate
from .filters import compile_filter
from .options import CollectionLayout, PgVectorOptions, choose_layout
from .schema import (
    CATALOG_TABLE,
    RESERVED_PREFIX,
    TableNames,
    ann_index_sql,
    any_exists_sql,
    catalog_ddl,
    copy_sql,
    create_table_sql,
    metadata_index_sql,
    operators,
    stage_ddl,
    stage_table,
    upsert_from_stage_sql,
)

__all__ = ["PgVectorStore"]

Connection = psycopg.Connection[Any]

#: Advisory lock key serialising DDL of vecbridge in one database ("vecbridg" in ASCII).
_DDL_LOCK = 0x7665636272696467
#: Per-query search parameters (ef_search, probes), set by ``query(..., ef_search=...)``.
_SEARCH: contextvars.ContextVar[tuple[int | None, int | None]] = contextvars.ContextVar(
    "vecbridge_pgvector_search", default=(None, None)
)
#: pgvector's own default of hnsw.ef_search, and the largest value it accepts.
_EF_SEARCH_DEFAULT = 40
_EF_SEARCH_MAX = 1000


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _reraise(exc: BaseException, what: str, collection: str | None = None) -> NoReturn:
    """Raise the vecbridge translation of ``exc`` (``exc`` itself when it needs none)."""
    translated = translate(exc, what, collection)
    if translated is exc:
        raise exc
    raise translated from exc


def _describe_conninfo(conninfo: str) -> str:
    """``pgvector://user@host:port/db`` for messages and reprs: never the password."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "pgvector://(unparsable connection string)"
    user = f"{params['user']}@" if params.get("user") else ""
    host = str(params.get("host") or "")
    port = f":{params['port']}" if params.get("port") else ""
    db = params.get("dbname") or ""
    return f"pgvector://{user}{host}{port}/{db}"


class PgVectorStore(BaseVectorStore):
    """Vector collections in PostgreSQL with pgvector. See the module docstring for URLs.

    ``conninfo`` is a libpq connection string or ``postgresql://`` URI; ``options`` as in
    ``PgVectorOptions`` (schema, index, storage, m, ef_construction, lists, ef_search, probes,
    iterative_scan, pool sizes ...). Safe to share between threads: every call borrows a
    connection from a pool.
    """

    # COPY pays off with large batches; 1,000 rows of 768-d floats is ~3 MB per transaction.
    default_batch_size: ClassVar[int] = 1000

    def __init__(
        self,
        conninfo: str,
        *,
        options: PgVectorOptions | None = None,
        description: str | None = None,
        on_close: Callable[[], None] | None = None,
        **option_kwargs: Any,
    ) -> None:
        super().__init__()
        if options is not None and option_kwargs:
            raise InvalidInput("pass either options=PgVectorOptions(...) or keyword options, not both")
        self.options = options or PgVectorOptions(**option_kwargs)
        self._description = description or _describe_conninfo(conninfo)
        self._on_close = on_close
        self._closed = False
        self._layouts: dict[str, CollectionLayout] = {}
        self._layout_lock = threading.Lock()
        # An exact (sequential) search when collections have no vector index.
        self.exact_search = self.options.index == "none"  # type: ignore[misc]
        try:
            bootstrap = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            self._release()
            raise StoreError(f"cannot connect to PostgreSQL at {self._description}: {exc}") from None
        try:
            with bootstrap:
                self.extension_version = self._prepare_database(bootstrap)
                # The server's own hnsw.ef_search (postgresql.conf may change pgvector's 40): queries
                # raise it to k when needed, and must never lower it.
                row = bootstrap.execute("SELECT current_setting('hnsw.ef_search', true)").fetchone()
                self._server_ef_search = int(row[0]) if row and row[0] else _EF_SEARCH_DEFAULT
                self._configure(bootstrap)  # fail here, clearly, rather than in the pool's background
        except BaseException as exc:
            self._release()
            _reraise(exc, f"preparing {self._description}")
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            conninfo,
            min_size=self.options.pool_min_size,
            max_size=self.options.pool_max_size,
            timeout=self.options.pool_timeout,
            kwargs={"autocommit": True},
            configure=self._configure,
            name="vecbridge-pgvector",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=self.options.pool_timeout)
        except BaseException as exc:
            self._pool.close()
            self._release()
            _reraise(exc, f"opening connections to {self._description}")

    # ----- construction -------------------------------------------------------------------

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PgVectorStore:
        """``pgvector://user:pass@host:5432/db?schema=...`` or ``pgvector+embedded:///path``.

        Query-string keys that are connector options (see ``PgVectorOptions``) configure the
        store; the others (``sslmode``, ``connect_timeout``, ``application_name`` ...) go to libpq.
        Keyword ``options`` override the query string.
        """
        parsed = parse_store_url(url)
        if parsed.scheme not in ("pgvector", "pgvector+embedded"):
            raise InvalidInput(f"PgVectorStore opens pgvector:// and pgvector+embedded:// URLs, not {parsed.scheme}://")
        opts, libpq = PgVectorOptions.split(parsed.query, options)
        if parsed.scheme == "pgvector+embedded":
            if libpq:
                raise InvalidInput(
                    f"unknown option(s) {', '.join(sorted(libpq))} for pgvector+embedded:// "
                    "(connection parameters apply to pgvector:// servers only)"
                )
            # Take the path verbatim from the URL: urlsplit would lowercase a relative first segment.
            raw_path = unquote(url.split("://", 1)[1].split("?", 1)[0])
            data_dir = embedded.resolve_data_dir(raw_path)
            uri = embedded.acquire(data_dir)
            # If the constructor fails it calls on_close itself, so the server is not left running.
            return cls(
                uri,
                options=opts,
                description=f"pgvector+embedded://{data_dir}",
                on_close=lambda: embedded.release(data_dir),
            )
        from_url_parts = {
            "host": parsed.host,
            "port": parsed.port,
            "dbname": parsed.path.lstrip("/") or None,
            "user": parsed.username,
            "password": parsed.password,  # without it libpq reads PGPASSWORD or ~/.pgpass
        }
        # As in a libpq URI, query parameters (e.g. ?host=/run/postgresql) win over the URL's parts.
        params = {"connect_timeout": "10", **{k: v for k, v in from_url_parts.items() if v is not None}, **libpq}
        return cls(make_conninfo("", **params), options=opts)

    def _prepare_database(self, conn: Connection) -> tuple[int, ...]:
        """pgvector installed (created if allowed), schema and catalog present; returns pgvector's version."""
        with conn.transaction():
            # Serialise with other processes bootstrapping the same database (CREATE ... IF NOT
            # EXISTS is not race-free in PostgreSQL).
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [_DDL_LOCK])
            version = self._ensure_extension(conn)
            if self.options.schema != "public":
                exists = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", [self.options.schema]
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.options.schema)))
            catalog = sql.Identifier(self.options.schema, CATALOG_TABLE).as_string(conn)
            # Look first: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the table
            # exists, and a role that only reads and writes collections may not have it.
            if conn.execute("SELECT to_regclass(%s)", [catalog]).fetchone() == (None,):
                conn.execute(catalog_ddl(self.options.schema))
        return version

    def _ensure_extension(self, conn: Connection) -> tuple[int, ...]:
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        if row is not None:
            return _version(row[0])
        how = (
            "Ask a database owner to run CREATE EXTENSION vector; in this database, or install pgvector "
            "(https://github.com/pgvector/pgvector#installation). Without a server, use pgvector+embedded:///path"
        )
        if not self.options.create_extension:
            raise StoreError(f"the pgvector extension is not installed in {self._description}. {how}")
        available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
        if available is None:
            raise StoreError(f"the pgvector extension is not available on the server of {self._description}. {how}")
        try:
            with conn.transaction():  # a savepoint: a refusal must not poison the bootstrap transaction
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.errors.InsufficientPrivilege:
            raise StoreError(
                f"the pgvector extension is not installed in {self._description} and this role may not "
                f"create it. {how}"
            ) from None
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        assert row is not None
        return _version(row[0])

    def _configure(self, conn: Connection) -> None:
        """Run on every new pooled connection: vector types, session search settings, staging table."""
        register_vector(conn)
        register_packed_vectors(conn)
        settings: list[tuple[str, str]] = []
        if self.extension_version >= (0, 8):
            settings.append(("hnsw.iterative_scan", self.options.iterative_scan))
            # IVFFlat has no strict mode: relaxed is the closest to what was asked.
            ivfflat_mode = "off" if self.options.iterative_scan == "off" else "relaxed_order"
            settings.append(("ivfflat.iterative_scan", ivfflat_mode))
        if self.options.ef_search is not None:
            settings.append(("hnsw.ef_search", str(self.options.ef_search)))
        for name, value in settings:
            conn.execute("SELECT set_config(%s, %s, false)", [name, value])
        conn.execute(stage_ddl("vector"))
        if self.extension_version >= (0, 7):
            conn.execute(stage_ddl("halfvec"))

    # ----- helpers ------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"PgVectorStore({self._description!r}, schema={self.options.schema!r})"

    @contextmanager
    def _connection(self, what: str, collection: str | None = None) -> Iterator[Connection]:
        """A pooled connection; psycopg errors leave as vecbridge errors (transient ones retried)."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolClosed:
            raise StoreError(f"{self!r} is closed: open a new store") from None
        except Exception as exc:
            _reraise(exc, what, collection)

    def _names(self, collection: str) -> TableNames:
        return TableNames(self.options.schema, collection)

    def _layout(self, spec: CollectionSpec) -> CollectionLayout:
        with self._layout_lock:
            layout = self._layouts.get(spec.name)
        if layout is None:
            if self._describe(spec.name) is None:
                raise CollectionNotFound(f"collection {spec.name!r} was dropped meanwhile: create it again")
            with self._layout_lock:
                layout = self._layouts[spec.name]
        return layout

    def layout(self, name: str) -> CollectionLayout:
        """How ``name`` is stored: column type (vector/halfvec) and vector index with its parameters."""
        return self._layout(self.describe_collection(name))

    # ----- collections --------------------------------------------------------------------

    def _list_collections(self) -> list[str]:
        catalog = self._names("x").catalog

        def names() -> list[str]:
            with self._connection("listing collections") as conn:
                return [r[0] for r in conn.execute(sql.SQL("SELECT name FROM {}").format(catalog)).fetchall()]

        # The base class retries most calls but not this one; a pooled connection the server
        # dropped surfaces as TransientError here too.
        return call_with_retry(names, self.retry_policy)

    def _describe(self, name: str) -> CollectionSpec | None:
        names = self._names(name)
        with self._connection(f"describing {name!r}") as conn:
            row = conn.execute(
                sql.SQL("SELECT spec, layout FROM {} WHERE name = %s").format(names.catalog), [name]
            ).fetchone()
        if row is None:
            with self._layout_lock:
                self._layouts.pop(name, None)
            return None
        spec = CollectionSpec.from_dict(row[0])
        with self._layout_lock:
            self._layouts[name] = CollectionLayout.from_dict(row[1])
        return spec

    def _check_features(self, layout: CollectionLayout) -> None:
        have = ".".join(map(str, self.extension_version))
        if layout.storage == "halfvec" and self.extension_version < (0, 7):
            raise StoreError(f"halfvec storage needs pgvector >= 0.7 (this server has {have}): upgrade pgvector")
        if layout.index == "hnsw" and self.extension_version < (0, 5):
            raise StoreError(
                f"HNSW indexes need pgvector >= 0.5 (this server has {have}): upgrade, or use index='ivfflat'"
            )

    def _create(self, spec: CollectionSpec) -> None:
        if spec.name.startswith(RESERVED_PREFIX):
            raise InvalidInput(
                f"collection names starting with {RESERVED_PREFIX!r} are reserved by the pgvector connector: "
                "choose another name"
            )
        layout = choose_layout(spec.dimension, self.options)
        self._check_features(layout)
        names = self._names(spec.name)
        with self._connection(f"creating {spec.name!r}") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [_DDL_LOCK])
            lookup = sql.SQL("SELECT spec FROM {} WHERE name = %s").format(names.catalog)
            row = conn.execute(lookup, [spec.name]).fetchone()
            if row is not None:
                # Another process created it since we looked: fine if it is the same collection.
                existing = CollectionSpec.from_dict(row[0])
                try:
                    check_compatible(existing, spec)
                except InvalidInput:
                    raise CollectionExists(
                        f"collection {spec.name!r} was just created by another client with another spec"
                    ) from None
                return
            try:
                with conn.transaction():
                    conn.execute(create_table_sql(names, spec.dimension, layout))
            except psycopg.errors.DuplicateTable:
                raise StoreError(
                    f"schema {self.options.schema!r} already has a table named {spec.name!r} that is not a "
                    "vecbridge collection: choose another collection name, or another schema (?schema=...)"
                ) from None
            conn.execute(metadata_index_sql(names))
            ann = ann_index_sql(names, spec.metric, layout)
            if ann is not None:
                conn.execute(ann)
            conn.execute(
                sql.SQL("INSERT INTO {} (name, spec, layout) VALUES (%s, %s, %s)").format(names.catalog),
                [spec.name, Jsonb(spec.to_dict()), Jsonb(layout.to_dict())],
            )
        with self._layout_lock:
            self._layouts[spec.name] = layout

    def _drop(self, name: str) -> bool:
        with self._layout_lock:
            self._layouts.pop(name, None)
        # Retried here because the base class does not retry drops (dropping twice is harmless).
        return call_with_retry(lambda: self._drop_once(name), self.retry_policy)

    def _drop_once(self, name: str) -> bool:
        names = self._names(name)
        with self._connection(f"dropping {name!r}") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [_DDL_LOCK])
            gone = conn.execute(
                sql.SQL("DELETE FROM {} WHERE name = %s RETURNING name").format(names.catalog), [name]
            ).fetchone()
            # Only a table the catalog knows is dropped: never a user's table that shares the name.
            if gone is not None:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(names.table))
        return gone is not None

    def create_index(
        self,
        name: str,
        index: str = "hnsw",
        *,
        m: int | None = None,
        ef_construction: int | None = None,
        lists: int | None = None,
        maintenance_work_mem: str | None = None,
    ) -> CollectionLayout:
        """(Re)build the vector index of ``name``: ``hnsw``, ``ivfflat`` or ``none``.

        pgvector builds an index much faster over existing rows than row by row, and IVFFlat
        needs data to place its lists: for bulk loads, create the collection with ``index='none'``,
        upsert, then call this. Writes to the collection wait while the index builds.
        ``maintenance_work_mem`` (e.g. ``'1GB'``) is set for the build only.
        """
        spec = self.describe_collection(name)
        current = self._layout(spec)
        asked = {"m": m, "ef_construction": ef_construction, "lists": lists}
        changes = {k: v for k, v in asked.items() if v is not None}
        opts = PgVectorOptions(**{**self._option_values(), **changes, "storage": current.storage})
        layout = choose_layout(spec.dimension, opts, index=index)
        self._check_features(layout)
        names = self._names(name)
        with self._connection(f"indexing {name!r}", name) as conn, conn.transaction():
            if maintenance_work_mem is not None:
                conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", [maintenance_work_mem])
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(names.ann_index))
            ann = ann_index_sql(names, spec.metric, layout)
            if ann is not None:
                conn.execute(ann)
            conn.execute(
                sql.SQL("UPDATE {} SET layout = %s WHERE name = %s").format(names.catalog),
                [Jsonb(layout.to_dict()), name],
            )
        with self._layout_lock:
            self._layouts[name] = layout
        return layout

    def _option_values(self) -> dict[str, Any]:
        o = self.options
        return {"schema": o.schema, "index": o.index, "m": o.m, "ef_construction": o.ef_construction, "lists": o.lists}

    # ----- writes -------------------------------------------------------------------------

    def _upsert_batch(self, spec: CollectionSpec, records: list[Record]) -> None:
        """One transaction per batch. New ids are COPied straight into the table; if any id of the
        batch exists, the batch is COPied into the session's staging table and merged with
        ``INSERT ... ON CONFLICT (id) DO UPDATE``. Either way the batch lands whole or not at all."""
        check_ids_and_texts(records)
        layout = self._layout(spec)
        names = self._names(spec.name)
        types = copy_types(layout.storage)
        ids = [r.id for r in records]

        def copy_into(cur: psycopg.Cursor[Any], target: sql.Composable) -> None:
            with cur.copy(copy_sql(target)) as copy:
                copy.set_types(types)
                for row in encode_rows(records, storage=layout.storage, metric=spec.metric):
                    copy.write_row(row)

        what = f"upserting into {spec.name!r}"
        with self._connection(what, spec.name) as conn, conn.transaction(), conn.cursor() as cur:
            row = cur.execute(any_exists_sql(names), [ids]).fetchone()
            if row is not None and not row[0]:
                try:
                    with conn.transaction():  # a savepoint, to fall back to merging
                        copy_into(cur, names.table)
                    return
                except psycopg.errors.UniqueViolation:
                    pass  # another writer added one of these ids since the check: merge instead
            copy_into(cur, stage_table(layout.storage))
            cur.execute(upsert_from_stage_sql(names, layout))

    def _delete_ids(self, spec: CollectionSpec, ids: list[str]) -> None:
        names = self._names(spec.name)
        with self._connection(f"deleting from {spec.name!r}", spec.name) as conn:
            conn.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(names.table), [ids])

    def _delete_filter(self, spec: CollectionSpec, node: FilterNode) -> None:
        cond = compile_filter(node)
        assert cond is not None
        names = self._names(spec.name)
        with self._connection(f"deleting from {spec.name!r}", spec.name) as conn:
            conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(names.table, cond.clause), cond.params)

    # ----- reads --------------------------------------------------------------------------

    def query(
        self,
        name: str,
        vector: Vector,
        *,
        k: int = 10,
        filter: Mapping[str, Any] | FilterNode | None = None,
        include_vectors: bool = False,
        ef_search: int | None = None,
        probes: int | None = None,
    ) -> list[Hit]:
        """As ``VectorStore.query``, plus this query's ``ef_search`` (HNSW) or ``probes`` (IVFFlat):
        higher finds more of the true neighbours, slower."""
        if ef_search is not None:
            ef_search = PgVectorOptions(ef_search=ef_search).ef_search
        if probes is not None:
            probes = PgVectorOptions(probes=probes).probes
        token = _SEARCH.set((ef_search, probes))
        try:
            return super().query(name, vector, k=k, filter=filter, include_vectors=include_vectors)
        finally:
            _SEARCH.reset(token)

    def _search_settings(self, layout: CollectionLayout, k: int) -> list[tuple[str, str]]:
        """Transaction-local settings this query needs beyond the session's defaults."""
        ef_override, probes_override = _SEARCH.get()
        if layout.index == "hnsw":
            session_ef = self.options.ef_search or self._server_ef_search
            wanted = ef_override or session_ef
            # An HNSW scan yields at most ef_search rows unless iterative scans go on: ask for k.
            wanted = max(wanted, min(k, _EF_SEARCH_MAX))
            return [("hnsw.ef_search", str(wanted))] if wanted != session_ef else []
        if layout.index == "ivfflat":
            probes = probes_override or self.options.probes or layout.default_probes
            return [("ivfflat.probes", str(probes))]
        return []

    def _query(
        self, spec: CollectionSpec, vector: list[float], k: int, node: FilterNode | None, include_vectors: bool
    ) -> list[Hit]:
        layout = self._layout(spec)
        ops = operators(spec.metric, layout.storage)
        names = self._names(spec.name)
        cond = compile_filter(node)
        params: dict[str, Any] = dict(cond.params) if cond else {}
        params["q"] = pack_vector(vector)
        params["k"] = k
        target = sql.SQL("{}::{}").format(sql.Placeholder("q"), sql.SQL(layout.storage))
        query = sql.SQL(
            "SELECT id, text, metadata, embedding {} {} AS distance{} FROM {}{} ORDER BY distance LIMIT {}"
        ).format(
            ops.operator,
            target,
            sql.SQL(", embedding::vector") if include_vectors else sql.SQL(""),
            names.table,
            sql.SQL(" WHERE {}").format(cond.clause) if cond else sql.SQL(""),
            sql.Placeholder("k"),
        )
        settings = self._search_settings(layout, k)
        # A filter's selectivity decides between the vector index and the metadata index: plan
        # filtered queries with their actual values, never with a cached generic plan.
        prepare = False if cond else None
        with self._connection(f"querying {spec.name!r}", spec.name) as conn:
            if settings:
                with conn.transaction():
                    for setting, value in settings:
                        conn.execute("SELECT set_config(%s, %s, true)", [setting, value])
                    rows = conn.execute(query, params, binary=True, prepare=prepare).fetchall()
            else:
                rows = conn.execute(query, params, binary=True, prepare=prepare).fetchall()
        # Iterative scans in relaxed order may return neighbours slightly out of order; ties by id.
        rows.sort(key=lambda r: (r[3], r[0]))
        return [hit_from_row(r, ops, include_vectors) for r in rows]

    def _get(self, spec: CollectionSpec, ids: list[str], include_vectors: bool) -> list[Record]:
        names = self._names(spec.name)
        query = sql.SQL("SELECT id, text, metadata{} FROM {} WHERE id = ANY(%s)").format(
            sql.SQL(", embedding::vector") if include_vectors else sql.SQL(""), names.table
        )
        with self._connection(f"reading from {spec.name!r}", spec.name) as conn:
            rows = conn.execute(query, [ids], binary=True).fetchall()
        return [record_from_row(r, include_vectors) for r in rows]

    def _count(self, spec: CollectionSpec, node: FilterNode | None) -> int:
        names = self._names(spec.name)
        cond = compile_filter(node)
        query = sql.SQL("SELECT count(*) FROM {}{}").format(
            names.table, sql.SQL(" WHERE {}").format(cond.clause) if cond else sql.SQL("")
        )
        with self._connection(f"counting {spec.name!r}", spec.name) as conn:
            row = conn.execute(query, cond.params if cond else {}).fetchone()
        return int(row[0]) if row else 0

    def _scan(self, spec: CollectionSpec, batch_size: int, cursor: str | None) -> Iterator[ScanPage]:
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidInput(f"a scan cursor is the string a previous page returned, got {type(cursor).__name__}")
        return self._scan_pages(spec, batch_size, cursor)

    def _scan_pages(self, spec: CollectionSpec, batch_size: int, after: str | None) -> Iterator[ScanPage]:
        # Keyset pagination by id (byte order): each page is its own short query, so a scan holds
        # no transaction open and resumes from any page's cursor (the last id it returned).
        names = self._names(spec.name)
        select = sql.SQL("SELECT id, text, metadata, embedding::vector FROM {}").format(names.table)
        first = select + sql.SQL(" ORDER BY id LIMIT %(n)s")
        rest = select + sql.SQL(" WHERE id > %(after)s ORDER BY id LIMIT %(n)s")

        def fetch(after: str | None) -> list[Any]:
            query = first if after is None else rest
            with self._connection(f"scanning {spec.name!r}", spec.name) as conn:
                return conn.execute(query, {"after": after, "n": batch_size + 1}, binary=True).fetchall()

        while True:
            rows = call_with_retry(lambda a=after: fetch(a), self.retry_policy)  # type: ignore[misc]
            more = len(rows) > batch_size
            page = rows[:batch_size]
            records = [record_from_row(r, True) for r in page]
            yield ScanPage(records, page[-1][0] if more else None)
            if not more:
                return
            after = page[-1][0]

    # ----- lifecycle ----------------------------------------------------------------------

    def _release(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._pool.close()
        finally:
            self._release()
