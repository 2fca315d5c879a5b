"""How a collection's vectors are kept in Pinecone: the index metric, unit vectors, keyword vectors.

Hybrid collections keep, beside each dense vector, a sparse vector of the record's words
(``core.keywords.document_vector``: BM25's term-frequency part per word; Pinecone multiplies in no
IDF), and keyword searches send ``core.keywords.query_vector`` (1 per query word). Pinecone takes
sparse values only on ``dotproduct`` indexes, so a hybrid collection's index is ``dotproduct``:

* ``dot`` collections: as they are;
* ``cosine`` collections: their vectors (and query vectors) are stored as unit vectors, whose dot
  product is the cosine similarity, so scores stay cosine similarities. ``get`` and ``scan`` then
  return the unit vectors (the direction, which is all cosine similarity uses);
* ``euclidean`` collections cannot be hybrid on Pinecone (a dot product of unit vectors gives no
  distances): ``UnsupportedFeature``.

Scores: cosine and dot product come back as Pinecone computes them; for ``euclidean`` Pinecone
returns the *squared* L2 distance (lower is closer), which becomes ``-sqrt(d2)``, the core's
negated L2 distance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vecbridge.core.errors import UnsupportedFeature
from vecbridge.core.keywords import SparseVector, document_vector, query_vector
from vecbridge.core.models import CollectionSpec, Metric

__all__ = [
    "MAX_SPARSE_VALUES",
    "check_storable",
    "from_pinecone_metric",
    "keyword_query",
    "keyword_vector",
    "pinecone_metric",
    "similarity",
    "storage_metric",
    "stored_rows",
    "unit_vectors",
]

#: Non-zero values of one sparse vector (SparseValues in db_data 2026-07).
MAX_SPARSE_VALUES = 2048

_METRICS = {Metric.COSINE: "cosine", Metric.DOT: "dotproduct", Metric.EUCLIDEAN: "euclidean"}


def pinecone_metric(metric: Metric) -> str:
    return _METRICS[metric]


def from_pinecone_metric(name: str, *, unit: bool = False) -> Metric | None:
    """The collection metric of an index metric (``unit``: cosine kept as unit vectors)."""
    if unit:
        return Metric.COSINE if str(name).lower() == "dotproduct" else None
    for metric, pinecone_name in _METRICS.items():
        if pinecone_name == str(name).lower():
            return metric
    return None


def check_storable(spec: CollectionSpec) -> None:
    if spec.hybrid and spec.metric is Metric.EUCLIDEAN:
        raise UnsupportedFeature(
            f"collection {spec.name!r}: Pinecone keeps keyword (sparse) vectors only in dotproduct indexes, "
            "which cannot rank by euclidean distance: create the hybrid collection with metric 'cosine' or 'dot'"
        )


def unit_vectors(spec: CollectionSpec) -> bool:
    """Whether the collection's vectors are stored normalised (cosine on a dotproduct index)."""
    return spec.hybrid and spec.metric is Metric.COSINE


def storage_metric(spec: CollectionSpec) -> str:
    """The metric of the index that holds ``spec``."""
    return "dotproduct" if spec.hybrid else pinecone_metric(spec.metric)


def stored_rows(vectors: np.ndarray, unit: bool) -> np.ndarray:
    """The float32 rows to send: as given, or scaled to unit length (in float64, then float32)."""
    if not unit:
        return vectors
    wide = vectors.astype(np.float64)
    norms = np.linalg.norm(wide, axis=-1, keepdims=True)
    return np.ascontiguousarray(wide / np.where(norms == 0, 1.0, norms), dtype=np.float32)


def _wire(vector: SparseVector) -> dict[str, Any] | None:
    if not vector.indices:
        return None  # a text without words: the record has no keyword vector
    return {"indices": list(vector.indices), "values": list(vector.values)}


def keyword_vector(text: str) -> dict[str, Any] | None:
    """The sparse values of a document (None when it has no words)."""
    return _wire(document_vector(text))


def keyword_query(text: str) -> dict[str, Any] | None:
    """The sparse values of a keyword query (None when it has no words)."""
    return _wire(query_vector(text))


def similarity(raw_score: float, metric: str) -> float:
    """Pinecone's score on an index of ``metric`` -> the core convention (higher is more similar)."""
    if metric == "euclidean":
        return -math.sqrt(max(float(raw_score), 0.0))
    return float(raw_score)
