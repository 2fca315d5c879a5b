"""Every Milvus driver operation, written once for the sync and the async client ("sans I/O").

Each operation is a generator that yields :class:`Rpc` — a pymilvus client method and its keyword
arguments — and receives the method's result (or has the error thrown in, already translated into
a vecbridge error). ``MilvusDriver`` runs them with ``MilvusClient``, ``AsyncMilvusDriver`` with
``AsyncMilvusClient``: the two drivers differ only in how they call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from vecbridge.core.batching import batched_by_size
from vecbridge.core.driver import (
    Batch,
    Capabilities,
    Failure,
    LoadToken,
    ScanRange,
    SearchMode,
    SearchRequest,
    Target,
    WriteResult,
)
from vecbridge.core.errors import CollectionNotFound, InvalidInput, TransientError, VecbridgeError
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage

from . import convert
from .errors import NotLoaded
from .filters import MilvusFilterCompiler, literal
from .schema import (
    ID_FIELD,
    SPARSE_FIELD,
    TENANT_FIELD,
    VECTOR_FIELD,
    collection_schema,
    index_params,
    milvus_metric,
    milvus_name,
    spec_from_description,
    spec_properties,
    stored_name,
)

__all__ = ["MAX_REQUEST_BYTES", "MilvusOperations", "Ops", "Rpc"]

T = TypeVar("T")

#: Bytes per insert request: Milvus 2.6 documents 64 MB per insert; half leaves room for protobuf.
MAX_REQUEST_BYTES = 32 * 1024 * 1024
#: Rows per query request: Milvus's maxQueryResultWindow (limit + offset) is 16,384.
MAX_QUERY_ROWS = 16_384
#: A load into a Milvus server of at least this many records (or of an unknown number) is flushed
#: at its end, so Milvus seals its segments and indexes them; smaller ones are left to Milvus's own
#: timing (its docs advise against frequent flushes, which make many small segments).
FLUSH_AFTER = 10_000
#: Milvus Lite is flushed after every load: it searches unflushed rows by rebuilding them on every
#: query (measured here: 2,000 x 64-d rows, 211 ms a query unflushed, 10 ms flushed; a flush costs
#: ~65 ms).
LITE_FLUSH_AFTER = 1
CONSISTENCY_LEVELS = ("Strong", "Bounded", "Session", "Eventually")


@dataclass(frozen=True)
class Rpc:
    """Call ``client.<method>(**kwargs)``."""

    method: str
    kwargs: dict[str, Any]


Ops = Generator[Rpc, Any, T]


def capabilities(index_type: str, *, native_async: bool, multi_process: bool = True) -> Capabilities:
    return Capabilities(
        exact_search=index_type == "FLAT",
        # Milvus answers BM25 itself; core fuses hybrid searches from the two rankings by RRF.
        search_modes=frozenset({SearchMode.DENSE, SearchMode.KEYWORD}),
        tenants=True,
        default_batch_size=1000,
        query_options=frozenset({"consistency", "ef"} if index_type == "HNSW" else {"consistency"}),
        native_async=native_async,
        # Milvus Lite is an engine in this process, holding its folder: multi_process=False.
        multi_process=multi_process,
    )


class MilvusOperations:
    """The driver operations of one Milvus store (see the module docstring)."""

    def __init__(self, index_type: str, *, flush_after: int = FLUSH_AFTER) -> None:
        self.index_type = index_type
        self.flush_after = flush_after
        self._filters = MilvusFilterCompiler()

    # ----- expressions --------------------------------------------------------------------

    def where(self, target: Target, node: FilterNode | None, *keys: str) -> str:
        """The expression of a data call: the tenant, key conditions, then the user's filter."""
        parts = [] if target.tenant is None else [f"{TENANT_FIELD} == {literal(target.tenant)}"]
        parts.extend(keys)
        if node is not None:
            parts.append(self._filters.visit(node))
        return " and ".join(parts)

    @staticmethod
    def _ids_in(target: Target, ids: list[str]) -> str:
        return f"{ID_FIELD} in [{', '.join(literal(convert.primary_key(target, i)) for i in ids)}]"

    @staticmethod
    def _read(rpc: Rpc) -> Ops[Any]:
        """A search or query; a collection found released (Milvus Lite reopens collections
        released) is loaded and asked again, once."""
        try:
            return (yield rpc)
        except NotLoaded:
            yield Rpc("load_collection", {"collection_name": rpc.kwargs["collection_name"]})
            return (yield rpc)

    # ----- collections --------------------------------------------------------------------

    def list_collections(self) -> Ops[list[str]]:
        names = yield Rpc("list_collections", {})
        found = []
        for name in names:
            try:
                description = yield Rpc("describe_collection", {"collection_name": name})
            except CollectionNotFound:  # dropped since the listing
                continue
            stored = stored_name(description)
            if stored is not None and milvus_name(stored) == name:
                found.append(stored)
        return found

    def describe(self, name: str) -> Ops[CollectionSpec | None]:
        description = yield from self._description(name)
        return None if description is None else spec_from_description(description, name)

    def _description(self, name: str) -> Ops[dict[str, Any] | None]:
        # has_collection first: describing a missing collection makes pymilvus log an ERROR.
        exists = yield Rpc("has_collection", {"collection_name": milvus_name(name)})
        if not exists:
            return None
        try:
            description: dict[str, Any] = yield Rpc("describe_collection", {"collection_name": milvus_name(name)})
        except CollectionNotFound:
            return None
        return description

    def create(self, spec: CollectionSpec) -> Ops[None]:
        """Create, index and load, as three calls (pymilvus's one-call form makes the last two
        with its own retries). A collection whose index or load failed is dropped again, so no
        half-made collection is left to be found by ``describe``."""
        name = milvus_name(spec.name)
        yield Rpc(
            "create_collection",
            {
                "collection_name": name,
                "schema": collection_schema(spec),
                "properties": spec_properties(spec),
                "consistency_level": "Strong",
            },
        )
        try:
            yield Rpc("create_index", {"collection_name": name, "index_params": index_params(spec, self.index_type)})
            yield Rpc("load_collection", {"collection_name": name})
        except VecbridgeError:
            with contextlib.suppress(VecbridgeError):  # the first error is the one to report
                yield Rpc("drop_collection", {"collection_name": name})
            raise

    def drop(self, name: str) -> Ops[bool]:
        description = yield from self._description(name)
        # A Milvus collection vecbridge did not make is not vecbridge's to drop.
        if description is None or spec_from_description(description, name) is None:
            return False
        yield Rpc("drop_collection", {"collection_name": milvus_name(name)})
        return True

    # ----- writes -------------------------------------------------------------------------

    def write(self, target: Target, batch: Batch) -> Ops[WriteResult]:
        """Upsert in requests under Milvus's size limit. A request fails whole: when one fails after
        others landed, its records and the later ones are reported failed, the earlier written."""
        result = WriteResult()
        rows = list(convert.rows(target, batch))
        done = 0
        for chunk in batched_by_size(
            rows, max_count=max(len(rows), 1), max_bytes=MAX_REQUEST_BYTES, size_of=convert.row_bytes
        ):
            try:
                yield Rpc("upsert", {"collection_name": milvus_name(target.name), "data": chunk})
            except VecbridgeError as exc:
                if not result.written:
                    raise
                failure = Failure(str(exc), transient=isinstance(exc, TransientError))
                result.failed.update((record_id, failure) for record_id in batch.ids[done:])
                return result
            result.written.extend(batch.ids[done : done + len(chunk)])
            done += len(chunk)
        return result

    def delete_ids(self, target: Target, ids: list[str]) -> Ops[None]:
        expression = self.where(target, None, self._ids_in(target, ids))
        yield Rpc("delete", {"collection_name": milvus_name(target.name), "filter": expression})

    def delete_filter(self, target: Target, node: FilterNode) -> Ops[None]:
        yield Rpc("delete", {"collection_name": milvus_name(target.name), "filter": self.where(target, node)})

    def begin_load(self, target: Target, expected: int | None) -> Ops[LoadToken]:
        """Nothing to prepare: the token is the number of records expected, which ``end_load`` reads."""
        return expected
        yield  # an operation that makes no call

    def end_load(self, target: Target, expected: int | None) -> Ops[None]:
        if expected is None or expected >= self.flush_after:
            yield Rpc("flush", {"collection_name": milvus_name(target.name)})

    # ----- reads --------------------------------------------------------------------------

    def _search_options(self, request: SearchRequest) -> tuple[dict[str, Any], dict[str, Any]]:
        """(search params, call kwargs) from the request's per-call options."""
        params: dict[str, Any] = {}
        call: dict[str, Any] = {}
        consistency = request.options.get("consistency")
        if consistency is not None:
            if consistency not in CONSISTENCY_LEVELS:
                raise InvalidInput(f"consistency={consistency!r}: use one of {', '.join(CONSISTENCY_LEVELS)}")
            call["consistency_level"] = consistency
        ef = request.options.get("ef")
        if ef is not None:
            if isinstance(ef, bool) or not isinstance(ef, int) or ef < request.k:
                raise InvalidInput(f"ef={ef!r}: HNSW's search list must be an integer of at least k ({request.k})")
            params["ef"] = ef
        return params, call

    def search(self, target: Target, request: SearchRequest) -> Ops[list[Hit]]:
        params, call = self._search_options(request)
        data: Any
        if request.mode is SearchMode.DENSE:
            field, data, metric = VECTOR_FIELD, request.vector, milvus_metric(target.spec.metric)
        elif request.mode is SearchMode.KEYWORD:
            field, data, metric = SPARSE_FIELD, request.text, "BM25"
        else:
            raise InvalidInput("the Milvus driver answers dense and keyword searches; core fuses hybrid ones")
        result = yield from self._read(
            Rpc(
                "search",
                {
                    "collection_name": milvus_name(target.name),
                    "data": [data],
                    "anns_field": field,
                    "limit": request.k,
                    "filter": self.where(target, request.filter),
                    "output_fields": convert.output_fields(request.include_vectors),
                    "search_params": {"metric_type": metric, "params": params},
                    **call,
                },
            )
        )
        return [convert.hit_from_result(target, hit, request.mode, request.include_vectors) for hit in result[0]]

    def scan_ranges(self, target: Target, parts: int) -> Ops[list[ScanRange]]:
        """One range: Milvus has no way to split a collection's keys cheaply (no split scans declared)."""
        return [ScanRange()]
        yield  # an operation that makes no call

    def _query(self, target: Target, expression: str, fields: list[str], **options: Any) -> Ops[list[dict[str, Any]]]:
        rpc = Rpc(
            "query",
            {"collection_name": milvus_name(target.name), "filter": expression, "output_fields": fields, **options},
        )
        rows: list[dict[str, Any]] = yield from self._read(rpc)
        return rows

    def get(self, target: Target, ids: list[str], include_vectors: bool) -> Ops[list[Record]]:
        expression = self.where(target, None, self._ids_in(target, ids))
        rows = yield from self._query(target, expression, convert.output_fields(include_vectors), limit=len(ids))
        return [convert.record_from_row(target, row, include_vectors) for row in rows]

    def count(self, target: Target, node: FilterNode | None) -> Ops[int]:
        rows = yield from self._query(target, self.where(target, node), ["count(*)"])
        return int(rows[0]["count(*)"])

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> Ops[ScanPage]:
        """One page in primary-key order (keyset: ``id > cursor``), asked the way pymilvus's query
        iterator asks (``iterator`` / ``reduce_stop_for_best`` make Milvus return rows by key), but
        with the key escaped: the iterator pastes the last key into its expression unescaped, which
        breaks on ids holding quotes or backslashes."""
        page = min(limit, MAX_QUERY_ROWS - 1)
        keys = [f"{ID_FIELD} > {literal(convert.primary_key(target, cursor or ''))}"]
        if stop is not None:
            keys.append(f"{ID_FIELD} < {literal(convert.primary_key(target, stop))}")
        rows = yield from self._query(
            target,
            self.where(target, None, *keys),
            convert.output_fields(include_vectors),
            limit=page + 1,
            iterator="True",
            reduce_stop_for_best="True",
        )
        records = [convert.record_from_row(target, row, include_vectors) for row in rows[:page]]
        return ScanPage(records, records[-1].id if len(rows) > page else None)
