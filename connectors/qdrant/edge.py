"""``QdrantEdgeStore``: Qdrant's own engine in-process (``qdrant-edge-py``), the embedded default.

``qdrant+edge:///path`` is a folder; each collection is a sub-folder holding one Edge shard
(``shard/``) and ``collection.json`` with the vecbridge spec (dimension, metric, embedder
fingerprint), since a shard has no place for such metadata. Shards stay open while the store is
open and are flushed on close. Edge's API is beta: everything it is asked goes through this file.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vecbridge.core.errors import InvalidInput, MissingExtra, StoreError

try:
    import qdrant_edge as qe
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the qdrant+edge connector", "qdrant", exc) from exc

from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Metric, Record, ScanPage
from vecbridge.core.store import BaseVectorStore
from vecbridge.core.urls import parse_store_url
from vecbridge.core.validation import as_float_list

from .convert import hit_from_point, payload_of, point_id_of, record_from_point, scroll_pages
from .filters import QdrantFilterCompiler, edge_dialect

__all__ = ["QdrantEdgeStore"]

_DISTANCE = {Metric.COSINE: qe.Distance.Cosine, Metric.DOT: qe.Distance.Dot, Metric.EUCLIDEAN: qe.Distance.Euclid}
SPEC_FILE = "collection.json"
SHARD_DIR = "shard"


class QdrantEdgeStore(BaseVectorStore):
    """Collections as Qdrant Edge shards under one folder.

    >>> import tempfile
    >>> from vecbridge.core import CollectionSpec
    >>> store = QdrantEdgeStore(tempfile.mkdtemp())
    >>> store.create_collection(CollectionSpec("docs", 4)).dimension
    4
    >>> store.close()
    """

    default_batch_size = 512

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.root = Path(path).expanduser()
        self.root.mkdir(parents=True, exist_ok=True)
        self._shards: dict[str, qe.EdgeShard] = {}
        self._lock = threading.RLock()
        self._filters = QdrantFilterCompiler(edge_dialect())

    @classmethod
    def from_url(cls, url: str, **options: Any) -> QdrantEdgeStore:
        u = parse_store_url(url)
        path = (u.host or "") + u.path if u.host not in (None, "localhost") else u.path
        if not path or path == ":memory:":
            raise InvalidInput(
                "qdrant+edge:// needs a folder, e.g. qdrant+edge:///home/me/.vecbridge/qdrant "
                "(for a throwaway store use qdrant+local://:memory:)"
            )
        return cls(path, **options)

    def __repr__(self) -> str:
        return f"QdrantEdgeStore({str(self.root)!r})"

    # ----- shard handling -----------------------------------------------------------------

    def _dir(self, name: str) -> Path:
        return self.root / name

    def _shard(self, name: str) -> qe.EdgeShard:
        with self._lock:
            shard = self._shards.get(name)
            if shard is None:
                shard_path = self._dir(name) / SHARD_DIR
                if not shard_path.is_dir():
                    raise StoreError(f"Edge shard of collection {name!r} is missing at {shard_path}")
                shard = qe.EdgeShard.load(str(shard_path))
                self._shards[name] = shard
            return shard

    def optimize(self, name: str) -> bool:
        """Build Edge's indexes for ``name`` (after a large load: queries get much faster)."""
        self.describe_collection(name)
        return bool(self._shard(name).optimize())

    # ----- collections --------------------------------------------------------------------

    def _list_collections(self) -> list[str]:
        return [p.name for p in self.root.iterdir() if (p / SPEC_FILE).is_file()]

    def _describe(self, name: str) -> CollectionSpec | None:
        spec_path = self._dir(name) / SPEC_FILE
        if not spec_path.is_file():
            return None
        return CollectionSpec.from_dict({**json.loads(spec_path.read_text("utf-8")), "name": name})

    def _create(self, spec: CollectionSpec) -> None:
        folder = self._dir(spec.name)
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=spec.dimension, distance=_DISTANCE[spec.metric]))
            self._shards[spec.name] = qe.EdgeShard.create(str(folder / SHARD_DIR), config)
            # Written last and atomically: a folder without it is not a collection.
            tmp = folder / (SPEC_FILE + ".tmp")
            tmp.write_text(json.dumps(spec.to_dict()), "utf-8")
            os.replace(tmp, folder / SPEC_FILE)

    def _drop(self, name: str) -> bool:
        folder = self._dir(name)
        with self._lock:
            shard = self._shards.pop(name, None)
            if shard is not None:
                shard.close()
            if not (folder / SPEC_FILE).is_file():
                return False
            (folder / SPEC_FILE).unlink()
            shutil.rmtree(folder, ignore_errors=True)
        return True

    # ----- data ---------------------------------------------------------------------------

    def _native(self, node: FilterNode | None) -> Any:
        return self._filters.root(node)

    def _upsert_batch(self, spec: CollectionSpec, records: list[Record]) -> None:
        points = [
            qe.Point(point_id_of(r.id), as_float_list(r.vector), payload_of(r, bool_shadow=True)) for r in records
        ]
        self._shard(spec.name).update(qe.UpdateOperation.upsert_points(points))

    def _query(
        self, spec: CollectionSpec, vector: list[float], k: int, node: FilterNode | None, include_vectors: bool
    ) -> list[Hit]:
        request = qe.QueryRequest(
            limit=k,
            query=qe.Query.Nearest(vector),
            filter=self._native(node),
            with_payload=True,
            with_vector=include_vectors,
        )
        return [
            hit_from_point(spec.metric, p.id, p.score, p.payload, p.vector if include_vectors else None)
            for p in self._shard(spec.name).query(request)
        ]

    def _get(self, spec: CollectionSpec, ids: list[str], include_vectors: bool) -> list[Record]:
        points = self._shard(spec.name).retrieve(
            [point_id_of(i) for i in ids], with_payload=True, with_vector=include_vectors
        )
        return [record_from_point(p.id, p.payload, p.vector) for p in points]

    def _delete_ids(self, spec: CollectionSpec, ids: list[str]) -> None:
        self._shard(spec.name).update(qe.UpdateOperation.delete_points([point_id_of(i) for i in ids]))

    def _delete_filter(self, spec: CollectionSpec, node: FilterNode) -> None:
        self._shard(spec.name).update(qe.UpdateOperation.delete_points_by_filter(self._native(node)))

    def _count(self, spec: CollectionSpec, node: FilterNode | None) -> int:
        return int(self._shard(spec.name).count(qe.CountRequest(exact=True, filter=self._native(node))))

    def _scan(self, spec: CollectionSpec, batch_size: int, cursor: str | None) -> Iterator[ScanPage]:
        shard = self._shard(spec.name)
        return scroll_pages(
            lambda offset: shard.scroll(
                qe.ScrollRequest(offset=offset, limit=batch_size, with_payload=True, with_vector=True)
            ),
            cursor,
        )

    def _close(self) -> None:
        with self._lock:
            for shard in self._shards.values():
                shard.flush()
                shard.close()
            self._shards.clear()
