"""Deterministic pseudo-embeddings, shaped like the real API's output.

The real ``gemini-embedding-001`` computes a 3072-d unit vector and, when a smaller
``outputDimensionality`` is asked for, returns its first N values *without* re-normalising them
(Matryoshka truncation). The emulator does the same with a vector derived from a hash of
(task, title, text) — SHAKE-256 output read as centred uniform values, cheap enough for
benchmarks of 10,000 texts — so tests can predict exactly what the server sends back. Values
travel as float32, about the precision the real API sends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

FULL_DIMENSION = 3072


def ignores_task(model: str) -> bool:
    """gemini-embedding-2 ignores ``taskType`` and ``title`` (tasks travel as text prefixes)."""
    return model.rsplit("/", 1)[-1].startswith("gemini-embedding-2")


def _key(text: str, model: str, task: str | None, title: str | None) -> bytes:
    if ignores_task(model):
        task, title = None, None
    return "\x1f".join([task or "TASK_TYPE_UNSPECIFIED", title or "", text]).encode("utf-8")


def full_vectors(items: Sequence[tuple[str, str | None, str | None]], *, model: str) -> np.ndarray:
    """Unit 3072-d vectors (rows, float32) for (text, task, title) items."""
    raw = b"".join(hashlib.shake_256(_key(text, model, task, title)).digest(2 * FULL_DIMENSION)
                   for text, task, title in items)
    arr = np.frombuffer(raw, dtype="<u2").reshape(len(items), FULL_DIMENSION).astype(np.float64) - 32767.5
    arr /= np.linalg.norm(arr, axis=1, keepdims=True)
    return arr.astype(np.float32)


def full_vector(text: str, *, model: str = "gemini-embedding-001", task: str | None = None,
                title: str | None = None) -> np.ndarray:
    """The 3072-d unit vector the emulator computes for one input (float64 view of the float32 values)."""
    return full_vectors([(text, task, title)], model=model)[0].astype(np.float64)


def expected_values(text: str, *, model: str = "gemini-embedding-001", task: str | None = None,
                    title: str | None = None, dimension: int | None = None) -> list[float]:
    """What the emulator puts on the wire: the first ``dimension`` values, not re-normalised."""
    return [float(x) for x in full_vector(text, model=model, task=task, title=title)[: dimension or FULL_DIMENSION]]
