"""What a clean close records about an Edge shard, and how an open compares it (sidecar.py keeps it).

Qdrant Edge loads damaged shards without complaint: a truncated id tracker gives fewer points, a
zeroed vector file every point with its vector gone. So a clean close records the point count and
a digest — ids, payloads and vectors as stored — of a sample of points: one at each of
``SAMPLE_SIZE`` evenly spaced places of the id order (ids are uuid5 hashes, and an optimized
segment stores points in id order, so the sample is spread over the shard's files). An open
compares both; damage to a few points the sample misses is not seen.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import qdrant_edge as qe

from .convert import dense_vector
from .scan import uuid_ranges
from .sidecar import State

__all__ = ["SAMPLE_SIZE", "clean_state", "mismatch"]

SAMPLE_SIZE = 16


def _digest(points: list[Any]) -> str:
    h = hashlib.sha256()
    for point in sorted(points, key=lambda p: str(p.id)):
        h.update(json.dumps([str(point.id), point.payload], sort_keys=True, default=str).encode())
        h.update(np.asarray(dense_vector(point.vector) or [], dtype=np.float32).tobytes())
    return h.hexdigest()


def _sample(shard: qe.EdgeShard) -> list[Any]:
    """The first point at or after each of SAMPLE_SIZE evenly spaced UUIDs (fewer in a small shard)."""
    found: dict[str, Any] = {}
    for start in [None, *(r.start for r in uuid_ranges(SAMPLE_SIZE)[1:])]:
        points, _ = shard.scroll(qe.ScrollRequest(offset=start, limit=1, with_payload=True, with_vector=True))
        found.update((str(p.id), p) for p in points)
    return list(found.values())


def clean_state(shard: qe.EdgeShard) -> State:
    """The state to record for a shard just flushed."""
    sample = _sample(shard)
    return State(True, shard.count(qe.CountRequest(exact=True)), tuple(str(p.id) for p in sample), _digest(sample))


def mismatch(shard: qe.EdgeShard, state: State) -> str | None:
    """What no longer matches the recorded clean ``state`` (None: everything does)."""
    count = shard.count(qe.CountRequest(exact=True))
    if count != state.points:
        return f"it holds {count:,} records where {state.points:,} were written"
    points = shard.retrieve(list(state.sample_ids), with_payload=True, with_vector=True)
    if _digest(points) != state.digest:
        return "the records it was closed with read back different"
    return None
