"""Reciprocal rank fusion: the one documented way vecbridge merges a dense and a keyword ranking.

``score(d) = sum_i w_i / (RRF_K + rank_i(d))`` over the rankings ``i`` that contain ``d`` (rank 1
is the best), with ``RRF_K = 60`` as in Cormack et al. (2009) and in Weaviate's and Elasticsearch's
defaults. Equal weights unless ``alpha`` is given (dense ``alpha``, keyword ``1 - alpha``). The
result keeps each record's text, metadata and vector from the first ranking that has it; scores
are fusion scores (higher is better), not similarities.
"""

from __future__ import annotations

from collections.abc import Sequence

from .models import Hit

__all__ = ["RRF_K", "reciprocal_rank_fusion"]

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hit]], k: int, *, weights: Sequence[float] | None = None
) -> list[Hit]:
    """Fuse best-first rankings into one best-first list of at most ``k`` hits.

    >>> a = [Hit("x", 0.9), Hit("y", 0.8)]
    >>> b = [Hit("y", 7.0), Hit("z", 3.0)]
    >>> [h.id for h in reciprocal_rank_fusion([a, b], 3)]
    ['y', 'x', 'z']
    """
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.id] = scores.get(hit.id, 0.0) + weight / (RRF_K + rank)
            first.setdefault(hit.id, hit)
    # Ties (equal fused score) are broken by id, so every store returns the same order.
    order = sorted(scores, key=lambda i: (-scores[i], i))[:k]
    return [Hit(i, scores[i], first[i].text, first[i].metadata, first[i].vector) for i in order if scores[i] > 0]
