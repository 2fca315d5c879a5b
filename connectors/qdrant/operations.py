"""Every operation of the qdrant-client drivers, once, without I/O.

Each operation is a generator that yields the client calls it needs (:class:`ClientCall`: a method
name of ``QdrantClient``/``AsyncQdrantClient``, which share their API, and its arguments) or a
:class:`Pause`, receives each answer, and returns the driver's result. The sync driver runs these
generators with plain calls, the async driver with awaits (``store.py``, ``aio.py``): only the
I/O differs between the two.

Bulk loads into a server follow Qdrant's advice for bulk uploads: indexing is switched off
(``indexing_threshold=0``) while a large load writes, then switched back on, and ``end_load`` waits
until Qdrant reports the collection indexed (green). While indexing is off the collection's
metadata says so (``vecbridge_indexing``), so a load that crashed is undone by the next load's end.

Collections made by other tools are read (and, if adopted writable, written) through their own
layout by adopted.py's plans, which each operation hands them to; their settings are never changed.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from qdrant_client import models as m

from vecbridge.core.driver import Adoption, Batch, SearchMode, SearchRequest, Target, WriteResult
from vecbridge.core.errors import StoreError, UnsupportedFeature
from vecbridge.core.filters import FilterNode
from vecbridge.core.keywords import query_vector
from vecbridge.core.models import CollectionSpec, Hit, Metric, Record, ScanPage

from . import adopted, convert
from .filters import QdrantFilterCompiler, client_dialect
from .options import qdrant_capabilities, search_options
from .scan import cut_at_stop
from .sidecar import LAYOUT

__all__ = ["PLANNED", "ClientCall", "ClientOperations", "Pause", "Plan"]

T = TypeVar("T")

_DISTANCE = {Metric.COSINE: m.Distance.COSINE, Metric.DOT: m.Distance.DOT, Metric.EUCLIDEAN: m.Distance.EUCLID}
#: Collection metadata key saying indexing is off for a load, and what to restore.
PAUSED_KEY = "vecbridge_indexing"
#: Loads with at least this much vector data switch indexing off while they write (about 20,000
#: points of 768 dimensions; below it the switching costs more than it saves).
LARGE_LOAD_BYTES = 64 * 1024 * 1024
#: Qdrant's default indexing threshold (KB), restored when a collection had none of its own.
DEFAULT_INDEXING_KB = 10_000
#: How long ``end_load`` waits for Qdrant to index a large load, and how often it looks.
INDEX_WAIT_SECONDS = 3600.0
INDEX_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class ClientCall:
    method: str
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Pause:
    seconds: float


Plan = Generator[ClientCall | Pause, Any, T]


def _call(method: str, **kwargs: Any) -> ClientCall:
    return ClientCall(method, kwargs)


def _client_calls(steps: adopted.Steps[T]) -> Plan[T]:
    """adopted.py's plans, whose steps are (method, kwargs) pairs, as plans of client calls."""
    try:
        step = next(steps)
        while True:
            step = steps.send((yield ClientCall(*step)))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class ClientOperations:
    """The qdrant-client driver's operations as plans (see the module docstring)."""

    def __init__(self, *, local: bool, exact_floats: bool | None = None) -> None:
        self.local = local
        #: Whether the client hands floats to Qdrant exactly (local mode, gRPC; not REST's JSON).
        self.exact_floats = local if exact_floats is None else exact_floats
        #: Collections made by other tools, adopted under vecbridge names (adopted.py).
        self.adopted: dict[str, adopted.Adopted] = {}
        # Local mode searches by brute force; a server uses HNSW above its full-scan threshold.
        self.capabilities = qdrant_capabilities(exact=local, batch_size=256, native_async=True, multi_process=not local)
        self._filters = QdrantFilterCompiler(client_dialect())
        self._payload = m.PayloadSelectorExclude(exclude=list(convert.HIDDEN_KEYS))

    def _filter(self, target: Target, node: FilterNode | None) -> m.Filter | None:
        found: m.Filter | None = self._filters.root(node, target.tenant)
        return found

    # ----- collections --------------------------------------------------------------------

    def list_collections(self) -> Plan[list[str]]:
        answer = yield _call("get_collections")
        return [found.name for found in answer.collections]

    def describe(self, name: str) -> Plan[CollectionSpec | None]:
        if name in self.adopted:
            return (yield from _client_calls(self.adopted[name].describe(name)))
        exists = yield _call("collection_exists", collection_name=name)
        if not exists:
            return None
        info = yield _call("get_collection", collection_name=name)
        return _spec_of(name, info)

    def create(self, spec: CollectionSpec) -> Plan[None]:
        sparse = {convert.KEYWORDS_VECTOR: m.SparseVectorParams(modifier=m.Modifier.IDF)} if spec.hybrid else None
        yield _call(
            "create_collection",
            collection_name=spec.name,
            vectors_config=m.VectorParams(size=spec.dimension, distance=_DISTANCE[spec.metric]),
            sparse_vectors_config=sparse,
            metadata={convert.SPEC_KEY: {"layout": LAYOUT, "spec": convert.spec_to_stored(spec)}},
        )
        if spec.multi_tenant and not self.local:  # local mode has no payload indexes
            index = m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True)
            yield _call(
                "create_payload_index", collection_name=spec.name, field_name=convert.TENANT_KEY, field_schema=index
            )

    def drop(self, name: str) -> Plan[bool]:
        exists = yield _call("collection_exists", collection_name=name)
        if not exists:
            return False
        dropped = yield _call("delete_collection", collection_name=name)
        return bool(dropped)

    def adopt(self, name: str, adoption: Adoption) -> Plan[CollectionSpec]:
        """Read a collection another tool made under ``name`` (adopted.py: its layout, read-only
        unless ``writable=True``); the data operations below hand adopted collections to it."""
        plan = adopted.adopt(name, adoption, exact_floats=self.exact_floats, local=self.local)
        spec, found = yield from _client_calls(plan)
        self.adopted[name] = found
        return spec

    def check_batch(self, spec: CollectionSpec, batch: Batch) -> list[str]:
        """Records an adopted collection's layout cannot hold (nothing to check in vecbridge's own)."""
        found = self.adopted.get(spec.name)
        return [] if found is None else found.problems(batch)

    # ----- data ---------------------------------------------------------------------------

    def write(self, target: Target, batch: Batch) -> Plan[WriteResult]:
        if target.name in self.adopted:
            return (yield from _client_calls(self.adopted[target.name].write(target.name, batch)))
        tenant = target.tenant
        vectors: Any = batch.vector_lists()
        if target.spec.hybrid:
            words = [convert.keyword_vector(t) for t in batch.texts]
            sparse = [m.SparseVector(indices=list(w.indices), values=list(w.values)) for w in words]
            vectors = {"": vectors, convert.KEYWORDS_VECTOR: sparse}
        points = m.Batch(
            ids=[convert.point_id_of(i, tenant) for i in batch.ids],
            vectors=vectors,
            payloads=[
                convert.payload_of(i, t, md, tenant)
                for i, t, md in zip(batch.ids, batch.texts, batch.metadata, strict=True)
            ],
        )
        yield _call("upsert", collection_name=target.name, points=points, wait=True)
        return WriteResult.all_written(batch)

    def search(self, target: Target, request: SearchRequest) -> Plan[list[Hit]]:
        if target.name in self.adopted:
            return (yield from _client_calls(self.adopted[target.name].search(target.spec, request)))
        keyword = request.mode is SearchMode.KEYWORD
        if keyword:
            words = query_vector(request.text or "")
            query: Any = m.SparseVector(indices=list(words.indices), values=list(words.values))
            corpus = self._filter(target, None)  # a tenant's keyword scores use only its own records
            params = m.SearchParams(idf=m.IdfCorpusParams(corpus=corpus)) if corpus is not None else None
        else:
            assert request.vector is not None
            query = request.vector.tolist()
            options = search_options(request.options)  # checked on local mode too, which is exact anyway
            params = m.SearchParams(**options) if options and not self.local else None
        answer = yield _call(
            "query_points",
            collection_name=target.name,
            query=query,
            using=convert.KEYWORDS_VECTOR if keyword else None,
            limit=request.k,
            query_filter=self._filter(target, request.filter),
            search_params=params,
            with_payload=self._payload,
            with_vectors=request.include_vectors,
        )
        return convert.hits_of(answer.points, None if keyword else target.spec.metric, request.include_vectors)

    def get(self, target: Target, ids: list[str], include_vectors: bool) -> Plan[list[Record]]:
        if target.name in self.adopted:
            return (yield from _client_calls(self.adopted[target.name].get(ids, include_vectors)))
        points = yield _call(
            "retrieve",
            collection_name=target.name,
            ids=[convert.point_id_of(i, target.tenant) for i in ids],
            with_payload=self._payload,
            with_vectors=include_vectors,
        )
        return convert.records_of(points)

    def delete_ids(self, target: Target, ids: list[str]) -> Plan[None]:
        if target.name in self.adopted:
            return (yield from _client_calls(self.adopted[target.name].delete_ids(target.name, ids)))
        selector = m.PointIdsList(points=[convert.point_id_of(i, target.tenant) for i in ids])
        yield _call("delete", collection_name=target.name, points_selector=selector, wait=True)

    def delete_filter(self, target: Target, node: FilterNode) -> Plan[None]:
        if target.name in self.adopted:
            return (yield from _client_calls(self.adopted[target.name].delete_filter(target.name, node)))
        native = self._filter(target, node)
        assert native is not None  # core passes a non-empty filter
        selector = m.FilterSelector(filter=native)
        yield _call("delete", collection_name=target.name, points_selector=selector, wait=True)

    def count(self, target: Target, node: FilterNode | None) -> Plan[int]:
        if target.name in self.adopted:
            return (yield from _client_calls(self.adopted[target.name].count(node)))
        answer = yield _call("count", collection_name=target.name, count_filter=self._filter(target, node), exact=True)
        return int(answer.count)

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> Plan[ScanPage]:
        if target.name in self.adopted:
            steps = self.adopted[target.name].scan_page(convert.parse_cursor(cursor), limit, include_vectors, stop)
            return (yield from _client_calls(steps))
        points, next_offset = yield _call(
            "scroll",
            collection_name=target.name,
            scroll_filter=self._filter(target, None),
            limit=limit,
            offset=convert.parse_cursor(cursor),
            with_payload=self._payload,
            with_vectors=include_vectors,
        )
        points, next_offset = cut_at_stop(points, next_offset, stop)
        return ScanPage(convert.records_of(points), None if next_offset is None else str(next_offset))

    # ----- bulk loads ---------------------------------------------------------------------

    def begin_load(self, target: Target, expected: int | None) -> Plan[int | None]:
        """Switch indexing off for a large load; the token is the threshold to restore."""
        large = expected is not None and expected * target.spec.dimension * 4 >= LARGE_LOAD_BYTES
        if self.local or not large or target.name in self.adopted:  # another tool's collection: left as it is
            return None
        info = yield _call("get_collection", collection_name=target.name)
        paused = (info.config.metadata or {}).get(PAUSED_KEY) or {}
        restore = paused.get("restore") or info.config.optimizer_config.indexing_threshold or DEFAULT_INDEXING_KB
        yield _call(
            "update_collection",
            collection_name=target.name,
            optimizers_config=m.OptimizersConfigDiff(indexing_threshold=0),
            metadata={PAUSED_KEY: {"restore": restore}},
        )
        return int(restore)

    def end_load(self, target: Target, token: int | None) -> Plan[None]:
        """Switch indexing back on and wait until Qdrant has indexed the load."""
        if token is None:
            return
        yield _call(
            "update_collection",
            collection_name=target.name,
            optimizers_config=m.OptimizersConfigDiff(indexing_threshold=token),
            metadata={PAUSED_KEY: None},
        )
        waited = 0.0
        while waited < INDEX_WAIT_SECONDS:
            info = yield _call("get_collection", collection_name=target.name)
            if info.status == m.CollectionStatus.GREEN:
                return
            if info.status == m.CollectionStatus.RED:
                raise StoreError(f"Qdrant failed to index collection {target.name!r} after the load (status red)")
            yield Pause(INDEX_POLL_SECONDS)
            waited += INDEX_POLL_SECONDS


def _spec_of(name: str, info: Any) -> CollectionSpec:
    """A collection's spec: vecbridge's own, or what Qdrant knows of a collection made elsewhere."""
    stored = (info.config.metadata or {}).get(convert.SPEC_KEY)
    if isinstance(stored, dict) and stored.get("layout") == LAYOUT:
        return convert.spec_from_stored(name, stored["spec"])
    if isinstance(stored, dict):
        raise StoreError(
            f"collection {name!r} was written by an earlier vecbridge (payload layout 1), whose filters on numbers "
            "and booleans this version cannot answer exactly: ingest it again into a new collection"
        )
    # Made by another tool: its payload is not vecbridge's layout, so reading it as one would
    # answer filters on booleans and floats wrongly, silently. Adopting names the layout.
    raise UnsupportedFeature(
        f"Qdrant collection {name!r} was not made by vecbridge: open it with store.adopt({name!r}, "
        "preset='langchain' | 'llamaindex' | 'haystack', or text=/metadata= for another layout; vector= picks a "
        "named vector), or `vecbridge migrate ... --adopt PRESET` (see docs/decisions.md, adopting collections)"
    )


#: The driver methods that are plans (every generator method above): each shell defines them as
#: "run this plan".
PLANNED = tuple(name for name, value in vars(ClientOperations).items() if inspect.isgeneratorfunction(value))
