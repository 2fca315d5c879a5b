"""``EdgeDriver``: Qdrant's engine in-process (``qdrant-edge-py``), the embedded default.

``qdrant+edge://<folder>``: everything after ``://`` is the folder, as written (``~`` is the home
folder; a relative path is relative to the working directory when connecting): ``qdrant+edge:///
data/vb``, ``qdrant+edge://MyStore/sub``. The folder is created with the first collection. Each
collection is a sub-folder with one Edge shard and a sidecar (edge_shards.py, sidecar.py).

Edge's Python binding holds the GIL during every call, so the async store runs this driver in one
worker thread (``thread_limit``): more threads could not run Edge calls at once.

    >>> import tempfile
    >>> from vecbridge.core import CollectionSpec, Record, connect
    >>> store = connect("qdrant+edge://" + tempfile.mkdtemp())
    >>> store.create_collection(CollectionSpec("docs", 2)).dimension
    2
    >>> store.upsert("docs", [Record("a", [1.0, 0.0], "first"), Record("b", [0.0, 1.0])])
    2
    >>> [h.id for h in store.query("docs", [0.9, 0.2], k=1)]
    ['a']
    >>> store.close()
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from vecbridge.core.errors import InvalidInput, MissingExtra, StoreError, VecbridgeError

try:
    import qdrant_edge as qe
except ImportError as exc:  # pragma: no cover - exercised only without the dependency
    raise MissingExtra("the qdrant+edge connector", "qdrant", exc) from exc

from vecbridge.core.driver import Batch, DriverDefaults, ScanRange, SearchMode, SearchRequest, Target, WriteResult
from vecbridge.core.filters import FilterNode
from vecbridge.core.keywords import query_vector
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage

from . import convert
from .edge_shards import EdgeShards, OpenShard
from .errors import translate
from .field_indexes import plan_filtered
from .filters import QdrantFilterCompiler, edge_dialect
from .options import qdrant_capabilities, search_options
from .scan import cut_at_stop, uuid_ranges

__all__ = ["EdgeDriver", "edge_path"]

F = TypeVar("F", bound=Callable[..., Any])


def _no_panics(method: F) -> F:
    """A Rust panic inside Edge arrives as ``PanicException``, a ``BaseException`` the store's
    error handling does not catch: turn it into an ordinary error the store translates."""

    @wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except BaseException as exc:
            if type(exc).__name__ != "PanicException":
                raise
            raise StoreError(f"Qdrant Edge failed inside ({exc}): its files may be damaged") from exc

    return call  # type: ignore[return-value]


def edge_path(url: str) -> Path:
    """The folder of a ``qdrant+edge://`` URL: the text after ``://``, verbatim."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() != "qdrant+edge":
        raise InvalidInput(f"EdgeDriver takes qdrant+edge:// URLs, not {scheme}://")
    if not rest or rest == ":memory:":
        raise InvalidInput(
            "qdrant+edge:// needs a folder, e.g. qdrant+edge:///home/me/vecbridge or qdrant+edge://./store "
            "(for a throwaway store in memory use qdrant+local://:memory:)"
        )
    return Path(rest).expanduser().absolute()


class EdgeDriver(DriverDefaults):
    """Collections as Qdrant Edge shards under one folder (see the module docstring).
    ``verify=False`` opens collections whose sidecar check failed, to read what is left."""

    thread_limit = 1

    def __init__(self, root: str | os.PathLike[str], *, verify: bool = True) -> None:
        self.root = Path(root).expanduser().absolute()
        self.capabilities = qdrant_capabilities(exact=False, batch_size=1024, native_async=False, multi_process=False)
        self._shards = EdgeShards(self.root, verify=verify)
        self._filters = QdrantFilterCompiler(edge_dialect())
        # Whole payloads: Edge spends longer excluding the keys only filters read than reading them.
        self._payload = True

    @classmethod
    def from_url(cls, url: str, **options: Any) -> EdgeDriver:
        verify = options.pop("verify", True)
        if options:
            raise InvalidInput(f"qdrant+edge:// takes only verify=, got {sorted(options)}")
        if not isinstance(verify, bool):
            raise InvalidInput(f"verify must be True or False, got {verify!r}")
        return cls(edge_path(url), verify=verify)

    def __repr__(self) -> str:
        return f"EdgeDriver({str(self.root)!r})"

    def translate(self, exc: BaseException) -> VecbridgeError | None:
        found = translate(exc, f"Qdrant Edge at {self.root}")
        if found is None and isinstance(exc, OSError):
            return StoreError(f"Qdrant Edge at {self.root}: {exc}: check the folder exists and you may write to it")
        return found

    # ----- collections --------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        return self._shards.names()

    def describe(self, name: str) -> CollectionSpec | None:
        sidecar = self._shards.sidecar(name)
        return None if sidecar is None else sidecar.spec

    @_no_panics
    def create(self, spec: CollectionSpec) -> None:
        self._shards.create(spec)

    @_no_panics
    def drop(self, name: str) -> bool:
        return self._shards.drop(name)

    # ----- data ---------------------------------------------------------------------------

    def _filter(self, target: Target, node: FilterNode | None) -> Any:
        return self._filters.root(node, target.tenant)

    @_no_panics
    def write(self, target: Target, batch: Batch) -> WriteResult:
        opened = self._shards.writing(target.name)
        tenant, hybrid = target.tenant, target.spec.hybrid
        points = []
        # Lists, converted once per batch: Edge reads a list several times faster than a numpy row.
        rows = batch.vectors.tolist()
        for i, rid in enumerate(batch.ids):
            vector: Any = rows[i]
            if hybrid:
                words = convert.keyword_vector(batch.texts[i])
                vector = {"": vector, convert.KEYWORDS_VECTOR: qe.SparseVector(list(words.indices), list(words.values))}
            payload = convert.payload_of(rid, batch.texts[i], batch.metadata[i], tenant)
            points.append(qe.Point(convert.point_id_of(rid, tenant), vector, payload))
        if opened.fields.observe(batch.metadata):
            # Before the points: Edge indexes them as they come instead of re-reading every
            # payload later (field_indexes.py).
            opened.fields.create_pending(opened.shard)
        opened.shard.update(qe.UpdateOperation.upsert_points(points))
        return WriteResult.all_written(batch)

    def _query(self, target: Target, request: SearchRequest, opened: OpenShard, compiled: Any) -> tuple[Any, Any]:
        """The Edge query and search parameters of a dense or keyword search on ``opened``
        (``compiled``: its filter, as Edge takes it)."""
        if request.mode is SearchMode.KEYWORD:
            words = query_vector(request.text or "")
            query = qe.Query.Nearest(
                qe.SparseVector(list(words.indices), list(words.values)), using=convert.KEYWORDS_VECTOR
            )
            # A tenant's keyword scores use its own records' word statistics, never another tenant's.
            corpus = self._filter(target, None)
            return query, qe.SearchParams(idf=qe.IdfParams(corpus=corpus)) if corpus is not None else None
        options = search_options(request.options)
        if request.filter is not None and options.get("exact") is not True:
            # A graph walk checking a filter strands where few points pass: exact or ACORN instead
            # (only ACORN when the caller said exact=False).
            options.update(
                plan_filtered(
                    opened.fields,
                    opened.shard,
                    request.filter,
                    compiled,
                    target.spec.dimension,
                    approximate=options.get("exact") is False,
                )
            )
        assert request.vector is not None
        # A list: Edge reads it faster than a numpy array (measured: ~80 vs ~220 us for 768 floats).
        return qe.Query.Nearest(request.vector.tolist()), qe.SearchParams(**options) if options else None

    @_no_panics
    def search(self, target: Target, request: SearchRequest) -> list[Hit]:
        opened = self._shards.get(target.name)
        compiled = self._filter(target, request.filter)
        query, params = self._query(target, request, opened, compiled)
        points = opened.shard.query(
            qe.QueryRequest(
                limit=request.k,
                query=query,
                filter=compiled,
                params=params,
                with_payload=self._payload,
                with_vector=request.include_vectors,
            )
        )
        metric = None if request.mode is SearchMode.KEYWORD else target.spec.metric
        return convert.hits_of(points, metric, request.include_vectors)

    @_no_panics
    def get(self, target: Target, ids: list[str], include_vectors: bool) -> list[Record]:
        shard = self._shards.get(target.name).shard
        points = shard.retrieve(
            [convert.point_id_of(i, target.tenant) for i in ids],
            with_payload=self._payload,
            with_vector=include_vectors,
        )
        return convert.records_of(points)

    @_no_panics
    def delete_ids(self, target: Target, ids: list[str]) -> None:
        shard = self._shards.writing(target.name).shard
        shard.update(qe.UpdateOperation.delete_points([convert.point_id_of(i, target.tenant) for i in ids]))

    @_no_panics
    def delete_filter(self, target: Target, node: FilterNode) -> None:
        shard = self._shards.writing(target.name).shard
        shard.update(qe.UpdateOperation.delete_points_by_filter(self._filter(target, node)))

    @_no_panics
    def count(self, target: Target, node: FilterNode | None) -> int:
        shard = self._shards.get(target.name).shard
        return int(shard.count(qe.CountRequest(exact=True, filter=self._filter(target, node))))

    @_no_panics
    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> ScanPage:
        shard = self._shards.get(target.name).shard
        points, next_offset = shard.scroll(
            qe.ScrollRequest(
                offset=convert.parse_cursor(cursor),
                limit=limit,
                filter=self._filter(target, None),
                with_payload=self._payload,
                with_vector=include_vectors,
            )
        )
        points, next_offset = cut_at_stop(points, next_offset, stop)
        return ScanPage(convert.records_of(points), None if next_offset is None else str(next_offset))

    def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]:
        return uuid_ranges(parts)

    @_no_panics
    def end_load(self, target: Target, token: object) -> None:
        self._shards.end_load(target.name)

    @_no_panics
    def close(self) -> None:
        self._shards.close()
