"""Check a reply before trusting it, and bring every vector to unit length.

Exactly one vector per input, each of the requested length with finite values: anything else is
a ``MalformedReply`` (retried like a transient failure) — a short reply silently accepted would
shift every later vector onto the wrong text.

Only full-size (3072) gemini-embedding-001 vectors come back normalised; truncated ones
(Matryoshka) do not, so every vector is re-normalised here (a no-op for unit vectors).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import MalformedReply

__all__ = ["unit_vectors"]


def unit_vectors(
    values: Sequence[Sequence[float] | None] | None, *, expected: int, dimension: int
) -> list[list[float]]:
    got = 0 if values is None else len(values)
    if values is None or got != expected:
        raise MalformedReply(f"the Gemini API returned {got} vector(s) for {expected} input(s)")
    for i, v in enumerate(values):
        if v is None or len(v) != dimension:
            n = 0 if v is None else len(v)
            raise MalformedReply(f"the Gemini API returned a {n}-value vector for input {i}, expected {dimension}")
    if expected == 0:
        return []
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise MalformedReply("the Gemini API returned a vector with non-finite values")
    norms = np.linalg.norm(arr, axis=1)
    if np.any(norms == 0):
        raise MalformedReply(f"the Gemini API returned an all-zero vector for input {int(np.argmin(norms))}")
    out: list[list[float]] = (arr / norms[:, None]).tolist()
    return out
