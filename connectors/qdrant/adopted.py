"""Reading (and, if asked, writing) a Qdrant collection another tool made: ``adopt`` and the data
operations on it, as plans like operations.py's.

``adopt`` checks the collection (its dense vector: the unnamed one, the only named one, or the one
named with ``vector=``; its metric; the payload layout, on its first points) and remembers it under
vecbridge's name; search, get, count and scan then read it through its layout (layouts.py) and
filter it with ``AdoptedFilterCompiler``. Writes and deletes are refused before any I/O unless the
collection was adopted with ``writable=True``; then they keep the layout and its point ids
(layouts.py). Only the adopted vector is read; a collection with several named vectors is not
written (an upsert replaces a whole point, so it would drop the others).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from qdrant_client import models as m

from vecbridge.core.driver import Adoption, Batch, Failure, SearchMode, SearchRequest, WriteResult
from vecbridge.core.errors import CollectionNotFound, UnsupportedFeature
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Metric, Record, ScanPage

from .filters import AdoptedFilterCompiler, client_dialect
from .layouts import PayloadLayout, layout_of, payload_integer_or_none, pick_vector, point_id_or_none
from .options import search_options
from .scan import cut_at_stop

__all__ = ["SAMPLE_POINTS", "Adopted", "Steps", "adopt", "adopted_spec"]

T = TypeVar("T")
#: A plan: yields (client method, keyword arguments), receives each answer, returns the result.
Steps = Generator[tuple[str, dict[str, Any]], Any, T]

#: Points whose payloads are checked against the layout when a collection is adopted.
SAMPLE_POINTS = 32

_METRIC = {m.Distance.COSINE: Metric.COSINE, m.Distance.DOT: Metric.DOT, m.Distance.EUCLID: Metric.EUCLIDEAN}


def _call(method: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    return method, kwargs


def adopted_spec(name: str, native: str, params: Any) -> CollectionSpec:
    """The spec of an adopted collection from its vector's params; multivectors and metrics
    vecbridge has no name for are refused."""
    if getattr(params, "multivector_config", None) is not None:
        raise UnsupportedFeature(f"collection {native!r} keeps several vectors per point (multivectors): not readable")
    metric = _METRIC.get(params.distance)
    if metric is None:
        raise UnsupportedFeature(
            f"collection {native!r} uses the {params.distance} distance, which vecbridge has no metric for "
            "(cosine, dot, euclidean)"
        )
    return CollectionSpec(name, params.size, metric)


@dataclass(frozen=True)
class Adopted:
    """One adopted collection: its Qdrant name, layout and vector, how to filter it, and whether
    vecbridge may write into it."""

    native: str
    layout: PayloadLayout
    using: str | None
    filters: AdoptedFilterCompiler
    writable: bool
    #: qdrant-client's local mode: exact search (no search params), payload floats kept exactly (a
    #: server may move some: numbers.py).
    local: bool

    def check_writable(self, name: str) -> None:
        if not self.writable:
            raise UnsupportedFeature(
                f"collection {name!r} was made by another tool and adopted read-only: adopt it with writable=True "
                "to change it"
            )

    def problems(self, batch: Batch) -> list[str]:
        """Records of ``batch`` this layout cannot hold exactly (see layouts.py)."""
        return [p for record in batch.records() for p in self.layout.problems(record, floats_kept=self.local)]

    def _vectors(self, include: bool) -> Any:
        return [self.using] if include and self.using is not None else include

    def _filter(self, node: FilterNode | None) -> m.Filter | None:
        found: m.Filter | None = self.filters.root(node)
        return found

    def _named(self, ids: list[str], key: str) -> m.Filter:
        """Points holding one of ``ids`` under the id key ``key``, or named by them without one."""
        numbers = [n for n in map(payload_integer_or_none, ids) if n is not None]
        point_ids: list[m.ExtendedPointId] = [p for p in map(point_id_or_none, ids) if p is not None]
        wanted: list[m.Condition] = [m.FieldCondition(key=key, match=m.MatchAny(any=list(ids)))]
        if numbers:
            wanted.append(m.FieldCondition(key=key, match=m.MatchAny(any=numbers)))
        if point_ids:
            bare: list[m.Condition] = [
                m.HasIdCondition(has_id=point_ids),
                m.IsEmptyCondition(is_empty=m.PayloadField(key=key)),
            ]
            wanted.append(m.Filter(must=bare))
        return m.Filter(should=wanted)

    def records(self, points: Any) -> list[Record]:
        return [self.layout.record(p.id, p.payload, p.vector, self.using) for p in points]

    # ----- plans (operations.py turns their steps into client calls) -----------------------

    def describe(self, name: str) -> Steps[CollectionSpec | None]:
        exists = yield _call("collection_exists", collection_name=self.native)
        if not exists:
            return None
        info = yield _call("get_collection", collection_name=self.native)
        _, params = pick_vector(self.native, info.config.params.vectors, self.using or None)
        return adopted_spec(name, self.native, params)

    def search(self, spec: CollectionSpec, request: SearchRequest) -> Steps[list[Hit]]:
        if request.mode is not SearchMode.DENSE or request.vector is None:
            raise UnsupportedFeature(f"collection {spec.name!r} was made by another tool: only dense search reads it")
        options = search_options(request.options)
        answer = yield _call(
            "query_points",
            collection_name=self.native,
            query=request.vector.tolist(),
            using=self.using,
            limit=request.k,
            query_filter=self._filter(request.filter),
            search_params=m.SearchParams(**options) if options and not self.local else None,
            with_payload=True,
            with_vectors=self._vectors(request.include_vectors),
        )
        negate = spec.metric is Metric.EUCLIDEAN  # Qdrant returns the L2 distance; vecbridge its negation
        hits = []
        for point in answer.points:
            found = self.layout.record(point.id, point.payload, point.vector, self.using)
            vector = list(found.vector) if request.include_vectors else None
            hits.append(Hit(found.id, -point.score if negate else point.score, found.text, found.metadata, vector))
        return hits

    def get(self, ids: list[str], include_vectors: bool) -> Steps[list[Record]]:
        key = self.layout.id
        if key is None:
            point_ids = [p for p in map(point_id_or_none, ids) if p is not None]
            if not point_ids:
                return []
            points = yield _call(
                "retrieve",
                collection_name=self.native,
                ids=point_ids,
                with_payload=True,
                with_vectors=self._vectors(include_vectors),
            )
            return self.records(points)
        # Records are named by a payload key; points without it keep their point id.
        points, _ = yield _call(
            "scroll",
            collection_name=self.native,
            scroll_filter=self._named(ids, key),
            limit=2 * len(ids),
            with_payload=True,
            with_vectors=self._vectors(include_vectors),
        )
        return self.records(points)

    def write(self, name: str, batch: Batch) -> Steps[WriteResult]:
        """Upsert in the layout: a point already holding a record's id is overwritten (an id held by
        several points fails, naming them), a new one goes where the layout puts it."""
        self.check_writable(name)
        ids = list(batch.ids)
        held: dict[str, list[Any]] = {}
        if self.layout.id is not None:
            points, _ = yield _call(
                "scroll",
                collection_name=self.native,
                scroll_filter=self._named(ids, self.layout.id),
                limit=2 * len(ids),
                with_payload=[self.layout.id],
                with_vectors=False,
            )
            for point in points:
                held.setdefault(self.layout.record_id(point.id, point.payload or {}), []).append(point.id)
        failed = {
            rid: Failure(f"{len(found)} points of {self.native!r} hold id {rid!r}: delete all but one")
            for rid, found in held.items()
            if len(found) > 1
        }
        rows = [i for i, rid in enumerate(ids) if rid not in failed]
        if rows:
            point_ids = [held[ids[i]][0] if ids[i] in held else self.layout.new_point_id(ids[i]) for i in rows]
            yield _call(
                "upsert",
                collection_name=self.native,
                points=[
                    m.PointStruct(
                        id=point_id,
                        vector={self.using: batch.vectors[i].tolist()} if self.using else batch.vectors[i].tolist(),
                        payload=self.layout.payload(ids[i], batch.texts[i], batch.metadata[i]),
                    )
                    for i, point_id in zip(rows, point_ids, strict=True)
                ],
                wait=True,
            )
        return WriteResult(written=[ids[i] for i in rows], failed=failed)

    def delete_ids(self, name: str, ids: list[str]) -> Steps[None]:
        self.check_writable(name)
        if self.layout.id is not None:
            selector: m.PointsSelector = m.FilterSelector(filter=self._named(ids, self.layout.id))
        else:
            point_ids: list[m.ExtendedPointId] = [p for p in map(point_id_or_none, ids) if p is not None]
            if not point_ids:
                return
            selector = m.PointIdsList(points=point_ids)
        yield _call("delete", collection_name=self.native, points_selector=selector, wait=True)

    def delete_filter(self, name: str, node: FilterNode) -> Steps[None]:
        self.check_writable(name)
        native = self._filter(node)
        assert native is not None  # core passes a non-empty filter
        selector = m.FilterSelector(filter=native)
        yield _call("delete", collection_name=self.native, points_selector=selector, wait=True)

    def count(self, node: FilterNode | None) -> Steps[int]:
        answer = yield _call("count", collection_name=self.native, count_filter=self._filter(node), exact=True)
        return int(answer.count)

    def scan_page(
        self, cursor: int | str | None, limit: int, include_vectors: bool, stop: str | None
    ) -> Steps[ScanPage]:
        points, next_offset = yield _call(
            "scroll",
            collection_name=self.native,
            limit=limit,
            offset=cursor,
            with_payload=True,
            with_vectors=self._vectors(include_vectors),
        )
        points, next_offset = cut_at_stop(points, next_offset, stop)
        return ScanPage(self.records(points), None if next_offset is None else str(next_offset))


def adopt(name: str, adoption: Adoption, *, exact_floats: bool, local: bool) -> Steps[tuple[CollectionSpec, Adopted]]:
    """Plan: check the collection ``adoption`` describes and return ``(spec, Adopted)``."""
    layout = layout_of(adoption)
    native = adoption.native or name
    exists = yield _call("collection_exists", collection_name=native)
    if not exists:
        raise CollectionNotFound(f"collection {name!r}: Qdrant has no collection {native!r} to adopt")
    info = yield _call("get_collection", collection_name=native)
    vectors = info.config.params.vectors
    using, params = pick_vector(native, vectors, adoption.vector)
    spec = adopted_spec(name, native, params)
    if adoption.writable and isinstance(vectors, dict) and len(vectors) > 1:
        raise UnsupportedFeature(
            f"collection {native!r} has several named vectors: vecbridge writes one vector per point, and an upsert "
            "would drop the others, so adopt it without writable=True"
        )
    points, _ = yield _call(
        "scroll", collection_name=native, limit=SAMPLE_POINTS, with_payload=True, with_vectors=False
    )
    layout.check_sample(native, [p.payload or {} for p in points])
    filters = AdoptedFilterCompiler(client_dialect(), layout.path, exact_floats=exact_floats)
    return spec, Adopted(native, layout, using, filters, adoption.writable, local)
