"""Ranking a query the way the vectors API does (db_data 2026-07 ``QueryRequest``), exactly.

* A query names ``vector``, ``sparseVector`` (both: a hybrid query), or the ``id`` of a stored
  record, never ``id`` with a vector.
* Dense scores: cosine similarity, dot product, or for ``euclidean`` the squared L2 distance
  (lowest first). Sparse scores are dot products of the overlapping indices; a hybrid score is the
  sum of both. Sparse queries need an index that accepts sparse values and uses ``dotproduct``.
* A sparse-only query ranks the records that share an index with it (an inverted-index lookup).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import limits
from .errors import ApiFailure
from .records import StoredVector, check_id, parse_sparse

__all__ = ["QueryShape", "rank"]


class QueryShape:
    """What one query asks for, checked against the index."""

    def __init__(self, body: dict[str, Any], *, dimension: int, metric: str, sparse_ok: bool) -> None:
        top_k = body.get("topK")
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= limits.MAX_TOP_K:
            raise ApiFailure(400, f"topK must be an integer between 1 and {limits.MAX_TOP_K}")
        if body.get("queries") is not None:
            raise ApiFailure(501, "multi-vector queries are not implemented by the vecbridge Pinecone emulator")
        self.top_k = top_k
        self.metric = metric
        self.include_values = bool(body.get("includeValues"))
        self.include_metadata = bool(body.get("includeMetadata"))
        self.id: str | None = None
        self.dense: np.ndarray | None = None
        self.sparse: dict[int, float] | None = None
        if body.get("id") is not None:
            if body.get("vector") is not None or body.get("sparseVector") is not None:
                raise ApiFailure(400, "a query by id cannot also carry vector or sparseVector")
            self.id = check_id(body["id"], "id")
            return
        raw = body.get("vector")
        if raw is not None:
            if not isinstance(raw, list) or len(raw) != dimension:
                size = len(raw) if isinstance(raw, list) else 0
                raise ApiFailure(
                    400, f"Query vector dimension {size} does not match the dimension of the index {dimension}"
                )
            self.dense = np.asarray(raw, dtype=np.float32)
        if body.get("sparseVector") is not None:
            if not sparse_ok or metric != "dotproduct":
                raise ApiFailure(
                    400,
                    "Sparse queries need an index that declares a sparse_vector field and uses the dotproduct metric",
                )
            self.sparse = parse_sparse(body["sparseVector"], "sparseVector")
        if self.dense is None and self.sparse is None:
            raise ApiFailure(400, "a query needs one of vector, sparseVector or id")


def _dense_scores(metric: str, query: np.ndarray, data: np.ndarray) -> np.ndarray:
    q = query.astype(np.float64)
    d = data.astype(np.float64)
    if metric == "dotproduct":
        return d @ q
    if metric == "euclidean":
        return np.asarray(((d - q) ** 2).sum(axis=1))
    norms = np.linalg.norm(d, axis=1) * np.linalg.norm(q)
    return np.asarray((d @ q) / np.where(norms == 0, 1.0, norms))


def _sparse_score(query: dict[int, float], stored: dict[int, float] | None) -> float:
    if not stored:
        return 0.0
    return float(sum(v * stored[i] for i, v in query.items() if i in stored))


def rank(
    shape: QueryShape, records: list[StoredVector], by_id: StoredVector | None
) -> list[tuple[StoredVector, float]]:
    """The ``top_k`` best records with their scores, best first (ties by id)."""
    dense = shape.dense if shape.id is None else (by_id.values if by_id is not None else None)
    if shape.id is not None and by_id is None:
        return []
    sparse = shape.sparse
    if sparse is not None and dense is None:
        records = [r for r in records if r.sparse and any(i in r.sparse for i in sparse)]
    if not records:
        return []
    scores = np.zeros(len(records), dtype=np.float64)
    if dense is not None:
        scores += _dense_scores(shape.metric, dense, np.stack([r.values for r in records]))
    if sparse is not None:
        scores += np.asarray([_sparse_score(sparse, r.sparse) for r in records])
    lowest_first = shape.metric == "euclidean" and sparse is None
    order = sorted(range(len(records)), key=lambda i: (scores[i] if lowest_first else -scores[i], records[i].id))
    return [(records[i], float(np.float32(scores[i]))) for i in order[: shape.top_k]]
