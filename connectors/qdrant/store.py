"""``QdrantStore``: a Qdrant server or qdrant-client's local mode, through qdrant-client.

URLs::

    qdrant://localhost:6333            plain HTTP (API key from QDRANT_API_KEY if set)
    qdrants://xyz.cloud.qdrant.io      TLS (Qdrant Cloud); ?grpc=true to prefer gRPC on 6334
    qdrant+local:///path/to/dir        qdrant-client's local mode, persisted in SQLite
    qdrant+local://:memory:            local mode in memory

Local mode is brute-force numpy search in one process (it locks its folder) and warns past
20,000 points: for an embedded store of real size, use ``qdrant+edge://`` (QdrantEdgeStore).
The collection spec is kept in Qdrant's collection metadata (Qdrant >= 1.16).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from vecbridge.core.errors import CollectionNotFound, InvalidInput, MissingExtra, StoreError, TransientError

try:
    from qdrant_client import QdrantClient
    from qdrant_client import models as m
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the qdrant connector", "qdrant", exc) from exc

from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Metric, Record, ScanPage
from vecbridge.core.store import BaseVectorStore
from vecbridge.core.urls import parse_store_url
from vecbridge.core.validation import as_float_list

from .convert import (
    SPEC_KEY,
    hit_from_point,
    payload_of,
    point_id_of,
    record_from_point,
    scroll_pages,
)
from .filters import QdrantFilterCompiler, client_dialect

__all__ = ["QdrantStore"]

_DISTANCE = {Metric.COSINE: m.Distance.COSINE, Metric.DOT: m.Distance.DOT, Metric.EUCLIDEAN: m.Distance.EUCLID}
_METRIC = {v: k for k, v in _DISTANCE.items()}


def _translate(exc: Exception, what: str) -> Exception:
    """SDK exception -> vecbridge error (transient ones are retried by the base class)."""
    if isinstance(exc, ResponseHandlingException):  # connection refused, timeout
        return TransientError(f"Qdrant did not answer while {what}: {exc}")
    if isinstance(exc, UnexpectedResponse):
        code = exc.status_code or 0
        if code == 404:
            return CollectionNotFound(f"Qdrant: not found while {what}")
        if code == 429 or code >= 500:
            return TransientError(f"Qdrant answered {code} while {what}")
        return StoreError(f"Qdrant refused {what} ({code}): {exc.content.decode(errors='replace')[:500]}")
    return exc


class QdrantStore(BaseVectorStore):
    """Qdrant through qdrant-client. See the module docstring for URLs."""

    default_batch_size = 256

    def __init__(self, client: QdrantClient, *, description: str = "qdrant", local: bool = False) -> None:
        super().__init__()
        self.client = client
        self._description = description
        self._filters = QdrantFilterCompiler(client_dialect())
        # Local mode searches by brute force: exact. A server uses HNSW above its full-scan threshold.
        self.exact_search = local  # type: ignore[misc]

    @classmethod
    def from_url(cls, url: str, **options: Any) -> QdrantStore:
        u = parse_store_url(url)
        if u.scheme == "qdrant+local":
            if u.path == ":memory:":
                return cls(QdrantClient(location=":memory:"), description="qdrant+local://:memory:", local=True)
            if not u.path:
                raise InvalidInput("qdrant+local:// needs a folder, e.g. qdrant+local:///data/qdrant")
            return cls(QdrantClient(path=u.path), description=f"qdrant+local://{u.path}", local=True)
        if u.scheme not in ("qdrant", "qdrants"):
            raise InvalidInput(f"QdrantStore does not handle {u.scheme}://")
        api_key = options.pop("api_key", None) or u.query.get("api_key") or os.environ.get("QDRANT_API_KEY")
        https = u.scheme == "qdrants"
        client = QdrantClient(
            host=u.host or "localhost",
            port=u.port or 6333,
            https=https,
            api_key=api_key,
            prefer_grpc=u.query.get("grpc", "").lower() in ("1", "true", "yes"),
            timeout=int(u.query.get("timeout", "60")),
            **options,
        )
        return cls(client, description=u.redacted())

    def __repr__(self) -> str:  # never shows the API key
        return f"QdrantStore({self._description!r})"

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ResponseHandlingException, UnexpectedResponse) as exc:
            raise _translate(exc, what) from exc

    def _native(self, node: FilterNode | None) -> m.Filter | None:
        native: m.Filter | None = self._filters.root(node)
        return native

    # ----- collections --------------------------------------------------------------------

    def _list_collections(self) -> list[str]:
        return [c.name for c in self._call("listing collections", self.client.get_collections).collections]

    def _describe(self, name: str) -> CollectionSpec | None:
        if not self._call("checking a collection", self.client.collection_exists, name):
            return None
        info = self._call("describing a collection", self.client.get_collection, name)
        stored = (info.config.metadata or {}).get(SPEC_KEY)
        if stored:
            return CollectionSpec.from_dict({**stored, "name": name})
        # A collection made outside vecbridge: read what Qdrant knows; no fingerprint.
        params = info.config.params.vectors
        if isinstance(params, dict):
            params = params.get("")
        if not isinstance(params, m.VectorParams):
            raise StoreError(
                f"Qdrant collection {name!r} has only named vectors; vecbridge uses the unnamed default vector"
            )
        return CollectionSpec(name, params.size, _METRIC.get(params.distance, Metric.COSINE))

    def _create(self, spec: CollectionSpec) -> None:
        self._call(
            "creating a collection",
            self.client.create_collection,
            spec.name,
            vectors_config=m.VectorParams(size=spec.dimension, distance=_DISTANCE[spec.metric]),
            metadata={SPEC_KEY: spec.to_dict()},
        )

    def _drop(self, name: str) -> bool:
        if not self._call("checking a collection", self.client.collection_exists, name):
            return False
        return bool(self._call("dropping a collection", self.client.delete_collection, name))

    # ----- data ---------------------------------------------------------------------------

    def _upsert_batch(self, spec: CollectionSpec, records: list[Record]) -> None:
        points = [
            m.PointStruct(id=point_id_of(r.id), vector=as_float_list(r.vector), payload=payload_of(r)) for r in records
        ]
        self._call("upserting", self.client.upsert, spec.name, points=points, wait=True)

    def _query(
        self, spec: CollectionSpec, vector: list[float], k: int, node: FilterNode | None, include_vectors: bool
    ) -> list[Hit]:
        res = self._call(
            "querying",
            self.client.query_points,
            spec.name,
            query=vector,
            limit=k,
            query_filter=self._native(node),
            with_payload=True,
            with_vectors=include_vectors,
        )
        return [
            hit_from_point(spec.metric, p.id, p.score, p.payload, p.vector if include_vectors else None)
            for p in res.points
        ]

    def _get(self, spec: CollectionSpec, ids: list[str], include_vectors: bool) -> list[Record]:
        points = self._call(
            "retrieving",
            self.client.retrieve,
            spec.name,
            ids=[point_id_of(i) for i in ids],
            with_payload=True,
            with_vectors=include_vectors,
        )
        return [record_from_point(p.id, p.payload, p.vector) for p in points]

    def _delete_ids(self, spec: CollectionSpec, ids: list[str]) -> None:
        selector = m.PointIdsList(points=[point_id_of(i) for i in ids])
        self._call("deleting", self.client.delete, spec.name, points_selector=selector, wait=True)

    def _delete_filter(self, spec: CollectionSpec, node: FilterNode) -> None:
        native = self._native(node)
        assert native is not None  # the base class passes a non-empty filter
        selector = m.FilterSelector(filter=native)
        self._call("deleting", self.client.delete, spec.name, points_selector=selector, wait=True)

    def _count(self, spec: CollectionSpec, node: FilterNode | None) -> int:
        res = self._call("counting", self.client.count, spec.name, count_filter=self._native(node), exact=True)
        return int(res.count)

    def _scan(self, spec: CollectionSpec, batch_size: int, cursor: str | None) -> Iterator[ScanPage]:
        def scroll(offset: Any) -> tuple[list[Any], Any]:
            return self._call(  # type: ignore[no-any-return]
                "scanning",
                self.client.scroll,
                spec.name,
                limit=batch_size,
                offset=offset,
                with_payload=True,
                with_vectors=True,
            )

        return scroll_pages(scroll, cursor)

    def _close(self) -> None:
        self.client.close()
