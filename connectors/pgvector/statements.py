"""The data operations of a collection as plans: write, search (dense and keyword), get, delete,
count and one scan page.

Every statement is scoped to its target: ``tenant = %(tenant)s`` on a multi-tenant collection
comes first in every WHERE, whatever the filter says (filters only ever read ``fields`` and
``dates``, never the tenant column), so no filter reaches across tenants.

Writes: one transaction per batch, so a batch lands whole or not at all. Its first statement reads
the collection's catalog row (``FOR KEY SHARE``: a concurrent drop waits for the batch) together
with whether any id of the batch exists. A batch of new ids is COPied in binary straight into the
table (COPY speed: the bulk-load case); a batch holding an existing id is COPied into the
session's staging table and merged with ``INSERT ... ON CONFLICT DO UPDATE`` (upsert semantics).

Dense search orders by pgvector's distance operator; on HNSW, ``hnsw.ef_search`` is raised to k
when k is larger (an HNSW scan yields at most ef_search rows unless iterative scans go on), and
per-call ``ef_search``/``probes`` apply to that query only (``SET LOCAL`` in a pipelined
transaction: one round trip more). Keyword search ranks the matches of any query word with
``ts_rank_cd`` (cover density, normalised by the log of the text's length): PostgreSQL has no
BM25 of its own. Hybrid search is fused by core from the two (one documented RRF).
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from vecbridge.core.driver import Batch, ScanRange, SearchMode, SearchRequest, Target, WriteResult
from vecbridge.core.errors import InvalidInput
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import Hit, Record, ScanPage

from .catalog import Catalog, Entry
from .convert import (
    copy_rows,
    copy_types,
    hit_from_row,
    keyword_hit_from_row,
    pack_matrix,
    pack_vector,
    record_from_row,
)
from .filters import compile_filter
from .options import CollectionLayout, PgVectorOptions, SearchKnobs
from .plans import Copy, Plan, Query, Work
from .schema import TEXT_SEARCH_CONFIG, operators, stage_table
from .session import ServerInfo

__all__ = ["DataPlans"]

#: The largest hnsw.ef_search pgvector accepts.
_EF_SEARCH_MAX = 1000
_COLUMNS = sql.SQL("id, embedding, text, metadata, dates")
_NO_KNOBS = SearchKnobs()
_ORDER_BY_DISTANCE = " ORDER BY distance LIMIT %(k)s"


def filter_first(select: sql.Composable, where: sql.Composable) -> sql.Composed:
    """A dense search whose WHERE runs before the ORDER BY, exactly: the ``OFFSET 0`` fence keeps
    the ORDER BY out of the ANN index. For answers that came back short: an index scan checking a
    WHERE stops after hnsw.max_scan_tuples (ivfflat: max_probes), though more rows pass (measured:
    3 to 7 of 10 at 40,000 rows with 10 passing)."""
    return sql.SQL("SELECT * FROM ({}{} OFFSET 0) AS passing" + _ORDER_BY_DISTANCE).format(select, where)


def _vector_column(include: bool) -> sql.Composable:
    # halfvec is read back as vector: records carry float lists whatever the storage.
    return sql.SQL(", embedding::vector") if include else sql.SQL("")


class DataPlans:
    """Builds the plans of data operations for one driver (its catalog cache, options and server)."""

    def __init__(self, catalog: Catalog, options: PgVectorOptions, server: ServerInfo) -> None:
        self.catalog = catalog
        self.options = options
        self.server = server
        self.session_ef_search = options.ef_search or server.ef_search
        self._selects: dict[tuple[Any, ...], str] = {}

    # ----- helpers ------------------------------------------------------------------------

    @staticmethod
    def _where(
        target: Target, node: FilterNode | None, params: dict[str, Any], *extra: sql.Composable
    ) -> sql.Composable:
        """`` WHERE tenant = ... AND <extra> AND <filter>``, or nothing."""
        parts: list[sql.Composable] = []
        if target.spec.multi_tenant:
            params["tenant"] = target.tenant
            parts.append(sql.SQL("tenant = %(tenant)s"))
        parts.extend(extra)
        cond = compile_filter(node)
        if cond is not None:
            params.update(cond.params)
            parts.append(cond.clause)
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts) if parts else sql.SQL("")

    # ----- writes -------------------------------------------------------------------------

    def write(self, target: Target, batch: Batch) -> Work[WriteResult]:
        return Work(self._write(target, batch), target.name, transaction=True)

    def _write(self, target: Target, batch: Batch) -> Plan[WriteResult]:
        spec = target.spec
        names = self.catalog.names(spec.name)
        params: dict[str, Any] = {"ids": list(batch.ids), "name": spec.name}
        scope = self._where(target, None, params, sql.SQL("id = ANY(%(ids)s)"))
        row = yield Query(
            sql.SQL(
                "SELECT c.spec, c.layout, c.index_state, EXISTS (SELECT 1 FROM {}{}) FROM {} c "
                "WHERE c.name = %(name)s FOR KEY SHARE OF c"
            ).format(names.table, scope, self.catalog.table),
            params,
            "one",
        )
        entry = self.catalog.checked_for_write(spec, row[:3] if row is not None else None)
        storage = entry.layout.storage
        vectors, failures = pack_matrix(batch, storage, spec.metric)
        if len(failures) < len(batch):
            if not row[3]:
                columns = sql.SQL("tenant, ") + _COLUMNS if spec.multi_tenant else _COLUMNS
                yield Copy(
                    sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(names.table, columns),
                    copy_types(storage, spec.multi_tenant),
                    copy_rows(batch, vectors, target.tenant, spec.multi_tenant),
                )
            else:
                yield Copy(
                    sql.SQL("COPY {} (tenant, {}) FROM STDIN (FORMAT BINARY)").format(stage_table(storage), _COLUMNS),
                    copy_types(storage, True),
                    copy_rows(batch, vectors, target.tenant, True),
                )
                yield Query(self._merge_sql(target, storage), fetch="none")
        return WriteResult(written=[i for i in batch.ids if i not in failures], failed=failures)

    def _merge_sql(self, target: Target, storage: str) -> sql.Composed:
        # ORDER BY id: concurrent upserts of overlapping ids take row locks in the same order, which
        # avoids most deadlocks (those left are retried as TransientError).
        key = sql.SQL("tenant, id") if target.spec.multi_tenant else sql.SQL("id")
        lead = sql.SQL("tenant, ") if target.spec.multi_tenant else sql.SQL("")
        return sql.SQL(
            "INSERT INTO {table} ({lead}{columns}) SELECT {lead}{columns} FROM {stage} ORDER BY id"
            " ON CONFLICT ({key}) DO UPDATE SET embedding = EXCLUDED.embedding, text = EXCLUDED.text,"
            " metadata = EXCLUDED.metadata, dates = EXCLUDED.dates"
        ).format(
            table=self.catalog.names(target.name).table,
            lead=lead,
            columns=_COLUMNS,
            stage=stage_table(storage),
            key=key,
        )

    # ----- searches -----------------------------------------------------------------------

    def search(self, target: Target, request: SearchRequest) -> Work[list[Hit]]:
        knobs = SearchKnobs.parse(request.options) if request.options else _NO_KNOBS
        entry = self.catalog.cached(target.name)
        dense = request.mode is SearchMode.DENSE
        settings = self._settings(entry.layout, request.k, knobs) if entry is not None and dense else None
        return Work(
            self._search(target, request, knobs),
            target.name,
            transaction=bool(settings) or entry is None,
            pipeline=bool(settings),
        )

    def _settings(self, layout: CollectionLayout, k: int, knobs: SearchKnobs) -> list[tuple[str, str]]:
        """Transaction-local settings a dense search needs beyond the session's defaults. A knob
        that does not apply to the collection's index is refused, not ignored."""
        for knob, index in (("ef_search", "hnsw"), ("probes", "ivfflat")):
            if getattr(knobs, knob) is not None and layout.index != index:
                raise InvalidInput(
                    f"the search option {knob} tunes {index} indexes; this collection's index is {layout.index!r}"
                    + (" (exact search)" if layout.index == "none" else "")
                )
        if layout.index == "hnsw":
            wanted = max(knobs.ef_search or self.session_ef_search, min(k, _EF_SEARCH_MAX))
            return [("hnsw.ef_search", str(wanted))] if wanted != self.session_ef_search else []
        if layout.index == "ivfflat":
            return [("ivfflat.probes", str(knobs.probes or self.options.probes or layout.default_probes))]
        return []

    def _search(self, target: Target, request: SearchRequest, knobs: SearchKnobs) -> Plan[list[Hit]]:
        entry: Entry = yield from self.catalog.entry(target.name)
        if request.mode is SearchMode.KEYWORD:
            rows = yield self._keyword_query(target, request)
            return [keyword_hit_from_row(r, request.include_vectors) for r in rows]
        for name, value in self._settings(entry.layout, request.k, knobs) if request.mode is SearchMode.DENSE else ():
            yield Query("SELECT set_config(%s, %s, true)", [name, value], "none")
        ops = operators(target.spec.metric, entry.layout.storage)
        assert request.vector is not None
        params: dict[str, Any] = {"q": pack_vector(request.vector), "k": request.k}
        select = self._dense_select(target, entry.layout, request.include_vectors)
        where = ""
        if request.filter is None and not target.spec.multi_tenant:
            statement = select + _ORDER_BY_DISTANCE  # the common case: nothing to compose
        else:
            where = self._where(target, request.filter, params).as_string(None)
            statement = select + where + _ORDER_BY_DISTANCE
        # A filter's selectivity decides between the vector index and the metadata index: plan
        # filtered queries with their actual values, never with a cached generic plan.
        rows = yield Query(statement, params, binary=True, prepare=False if request.filter is not None else None)
        if where and len(rows) < request.k and entry.layout.index != "none":
            # Short, maybe because the index scan gave up: the same search, filter first.
            rows = yield Query(filter_first(sql.SQL(select), sql.SQL(where)), params, binary=True, prepare=False)
        # Iterative scans in relaxed order may return neighbours slightly out of order; ties by id.
        rows.sort(key=lambda r: (r[3], r[0]))
        return [hit_from_row(r, ops, request.include_vectors) for r in rows]

    def _dense_select(self, target: Target, layout: CollectionLayout, include_vectors: bool) -> str:
        """The SELECT ... FROM of a dense search, rendered once per collection and shape: composing
        SQL costs more client time than the rest of a query's own work."""
        key = (target.name, layout.storage, target.spec.metric, include_vectors)
        text = self._selects.get(key)
        if text is None:
            ops = operators(target.spec.metric, layout.storage)
            text = self._selects[key] = (
                sql.SQL("SELECT id, text, metadata, embedding {} %(q)s::{} AS distance{} FROM {}")
                .format(
                    ops.operator,
                    sql.SQL(layout.storage),
                    _vector_column(include_vectors),
                    self.catalog.names(target.name).table,
                )
                .as_string(None)
            )
        return text

    def _keyword_query(self, target: Target, request: SearchRequest) -> Query:
        """Records sharing a word with the query text, best ``ts_rank_cd`` first (ties by id). The
        query's words come from the same parser and configuration as the texts' (plainto_tsquery
        joins them with AND; a lexeme never holds a space, so ' & ' -> ' | ' makes it "any")."""
        params: dict[str, Any] = {"text": request.text, "k": request.k, "config": TEXT_SEARCH_CONFIG}
        where = self._where(target, request.filter, params, sql.SQL("search @@ q.query"))
        statement = sql.SQL(
            "SELECT id, text, metadata, ts_rank_cd(search, q.query, 1) AS rank{} FROM {},"
            " (SELECT replace(plainto_tsquery(%(config)s::regconfig, %(text)s)::text, ' & ', ' | ')::tsquery"
            " AS query) q"
            "{} ORDER BY rank DESC, id LIMIT %(k)s"
        ).format(_vector_column(request.include_vectors), self.catalog.names(target.name).table, where)
        return Query(statement, params, binary=True, prepare=False)

    # ----- reads and deletes ----------------------------------------------------------------

    def get(self, target: Target, ids: list[str], include_vectors: bool) -> Work[list[Record]]:
        params: dict[str, Any] = {"ids": ids}
        where = self._where(target, None, params, sql.SQL("id = ANY(%(ids)s)"))
        statement = sql.SQL("SELECT id, text, metadata{} FROM {}{}").format(
            _vector_column(include_vectors), self.catalog.names(target.name).table, where
        )
        return Work(self._records(Query(statement, params, binary=True), include_vectors), target.name)

    @staticmethod
    def _records(query: Query, include_vectors: bool) -> Plan[list[Record]]:
        rows = yield query
        return [record_from_row(r, include_vectors) for r in rows]

    def delete_ids(self, target: Target, ids: list[str]) -> Work[None]:
        params: dict[str, Any] = {"ids": ids}
        return self._delete(target, self._where(target, None, params, sql.SQL("id = ANY(%(ids)s)")), params)

    def delete_filter(self, target: Target, node: FilterNode) -> Work[None]:
        params: dict[str, Any] = {}
        return self._delete(target, self._where(target, node, params), params)

    def _delete(self, target: Target, where: sql.Composable, params: dict[str, Any]) -> Work[None]:
        statement = sql.SQL("DELETE FROM {}{}").format(self.catalog.names(target.name).table, where)
        return Work(_ignore(Query(statement, params, fetch="none")), target.name)

    def count(self, target: Target, node: FilterNode | None) -> Work[int]:
        params: dict[str, Any] = {}
        where = self._where(target, node, params)
        statement = sql.SQL("SELECT count(*) FROM {}{}").format(self.catalog.names(target.name).table, where)
        return Work(_scalar(Query(statement, params, fetch="one")), target.name)

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None
    ) -> Work[ScanPage]:
        """One page by keyset pagination on id (byte order): a short query of its own, so a scan
        holds no transaction open and resumes after any page's cursor (the last id it returned)."""
        params: dict[str, Any] = {"after": cursor, "stop": stop, "n": limit + 1}
        bounds = [sql.SQL("id > %(after)s")] if cursor is not None else []
        bounds += [sql.SQL("id < %(stop)s")] if stop is not None else []
        where = self._where(target, None, params, *bounds)
        statement = sql.SQL("SELECT id, text, metadata{} FROM {}{} ORDER BY id LIMIT %(n)s").format(
            _vector_column(include_vectors), self.catalog.names(target.name).table, where
        )
        return Work(_page(Query(statement, params, binary=True), limit, include_vectors), target.name)


    def scan_ranges(self, target: Target, parts: int) -> Work[list[ScanRange]]:
        """``parts`` ranges of about equal size in scan order (id, byte order), for parallel
        readers: ``ntile`` over the primary key's order, one pass over its index. Range i runs
        after the last id of part i-1 (a scan cursor is exclusive) and stops before the first id
        of part i+1, so the ranges cover every id exactly once."""
        params: dict[str, Any] = {"parts": parts}
        inner = sql.SQL("SELECT id, ntile(%(parts)s) OVER (ORDER BY id) AS part FROM {}{}").format(
            self.catalog.names(target.name).table, self._where(target, None, params)
        )
        statement = sql.SQL("SELECT min(id), max(id) FROM ({}) AS parts GROUP BY part ORDER BY part").format(inner)
        return Work(_ranges(Query(statement, params)), target.name)


def _ranges(query: Query) -> Plan[list[ScanRange]]:
    bounds = yield query
    if len(bounds) < 2:
        return [ScanRange()]
    ranges = []
    for i in range(len(bounds)):
        start = bounds[i - 1][1] if i > 0 else None
        stop = bounds[i + 1][0] if i + 1 < len(bounds) else None
        ranges.append(ScanRange(start, stop))
    return ranges


def _ignore(query: Query) -> Plan[None]:
    yield query


def _scalar(query: Query) -> Plan[int]:
    row = yield query
    return int(row[0]) if row else 0


def _page(query: Query, limit: int, include_vectors: bool) -> Plan[ScanPage]:
    rows = yield query
    page = rows[:limit]
    return ScanPage([record_from_row(r, include_vectors) for r in page], page[-1][0] if len(rows) > limit else None)
