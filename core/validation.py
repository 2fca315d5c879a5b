"""Checks run on every record before any connector sends it, so bad input fails the same way
on every store and nothing of a bad batch is written."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import DimensionMismatch, InvalidInput
from .models import Metric, Record

__all__ = ["as_float_list", "as_vector", "check_metadata", "validate_records", "validate_vector"]

MAX_ID_LENGTH = 512


def as_vector(vector: Any, dimension: int, *, what: str = "vector", metric: Metric | None = None) -> np.ndarray:
    """Return ``vector`` as a float32 array after checking its shape and values."""
    try:
        arr = np.asarray(vector, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} is not a sequence of numbers") from None
    if arr.ndim != 1:
        raise InvalidInput(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.shape[0] != dimension:
        raise DimensionMismatch(
            f"{what} has {arr.shape[0]} dimensions but the collection expects {dimension}: "
            "embed with the collection's model and dimension"
        )
    if not np.isfinite(arr).all():
        raise InvalidInput(f"{what} contains NaN or infinity: check the embedding that produced it")
    if metric is Metric.COSINE and not arr.any():
        raise InvalidInput(f"{what} is all zeros, which has no direction for cosine similarity")
    with np.errstate(over="ignore"):  # beyond float32: the caller's finiteness check reports it
        return arr.astype(np.float32)


def validate_vector(vector: Any, dimension: int, metric: Metric | None = None) -> list[float]:
    """Check a query vector and return it as a plain list of floats."""
    return [float(x) for x in as_vector(vector, dimension, what="query vector", metric=metric)]


_PLAIN = frozenset({str, int, bool, type(None)})


def _plain_value(value: Any) -> bool:
    t = type(value)
    return t in _PLAIN or (t is float and math.isfinite(value))


def _plainly_valid(metadata: Mapping[str, Any]) -> bool:
    """Fast path for the common case: a flat object of scalars and lists of scalars (exact types,
    so subclasses and anything unusual take the detailed check, which names the offending field).
    It runs for every record written, so it avoids the detailed check's recursion."""
    for key, value in metadata.items():
        if type(key) is not str or not key:
            return False
        if not _plain_value(value) and not (type(value) is list and all(_plain_value(x) for x in value)):
            return False
    return True


def check_metadata(metadata: Any, *, where: str) -> None:
    """Metadata must be a JSON object: str keys; str/int/float/bool/None/list/dict values."""
    if isinstance(metadata, dict) and _plainly_valid(metadata):
        return
    if not isinstance(metadata, Mapping):
        raise InvalidInput(f"{where}: metadata must be a dict, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidInput(f"{where}: metadata keys must be non-empty strings, got {key!r}")
        _check_json_value(value, f"{where}: metadata[{key!r}]")


def _check_json_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{where} is {value}, which JSON cannot carry; use None or a finite number")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json_value(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        check_metadata(value, where=where)
        return
    raise InvalidInput(
        f"{where} has type {type(value).__name__}; metadata values must be str, int, float, bool, "
        "None, lists or dicts (convert dates to ISO strings)"
    )


def _batch_vectors(records: list[Record], dimension: int, metric: Metric | None) -> np.ndarray:
    """All vectors of a batch checked at once (one numpy conversion instead of one per record:
    validation would otherwise cost more than the write). Falls back to record-by-record checks
    to name the offending record."""
    try:
        # float32 directly: what the stores keep, and half the copying. A value beyond float32's
        # range becomes inf and is refused below like any non-finite value.
        with np.errstate(over="ignore"):
            mat = np.asarray([r.vector for r in records], dtype=np.float32)
    except (TypeError, ValueError):  # ragged or non-numeric: find which record
        mat = None
    if mat is None or mat.ndim != 2 or mat.shape[1] != dimension:
        for rec in records:
            as_vector(rec.vector, dimension, what=f"vector of record {rec.id!r}", metric=metric)
        raise InvalidInput("vectors could not be read as a matrix")  # pragma: no cover - found above
    finite = np.isfinite(mat).all(axis=1)
    nonzero = mat.any(axis=1) if metric is Metric.COSINE else np.ones(len(records), dtype=bool)
    if not (finite.all() and nonzero.all()):
        bad = int(np.flatnonzero(~(finite & nonzero))[0])
        as_vector(records[bad].vector, dimension, what=f"vector of record {records[bad].id!r}", metric=metric)
        raise InvalidInput(
            f"vector of record {records[bad].id!r} has values beyond float32's range (about 3.4e38), "
            "which no store can keep: rescale it"
        )
    # float32 rows, not Python lists: building 768 float objects per record cost more than the
    # write itself. Connectors that need lists call ``as_float_list``; pgvector's COPY takes the
    # array buffer directly.
    return mat


def validate_records(records: Iterable[Record], dimension: int, metric: Metric | None = None) -> list[Record]:
    """Check a batch: ids, vectors, text and metadata. Raises before anything is written.

    Returns new records whose vectors are float32 numpy rows (see ``as_float_list``).
    """
    batch = list(records)
    checked: list[Record] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(batch):
        if not isinstance(rec, Record):
            raise InvalidInput(f"item {i} is a {type(rec).__name__}, not a vecbridge Record")
        if not isinstance(rec.id, str) or not rec.id:
            raise InvalidInput(f"record {i}: id must be a non-empty string, got {rec.id!r} (use str(id))")
        if len(rec.id) > MAX_ID_LENGTH:
            raise InvalidInput(f"record {rec.id[:40]!r}...: id longer than {MAX_ID_LENGTH} characters")
        if rec.id in seen:
            raise InvalidInput(
                f"duplicate id {rec.id!r} at positions {seen[rec.id]} and {i} of one batch: "
                "which one should win is ambiguous, so deduplicate before upserting"
            )
        seen[rec.id] = i
        if rec.text is not None and (not isinstance(rec.text, str) or not rec.text.strip()):
            raise InvalidInput(f"record {rec.id!r}: text must be a non-empty string or None")
        check_metadata(rec.metadata if rec.metadata is not None else {}, where=f"record {rec.id!r}")
        checked.append(rec)
    if not checked:
        return []
    vectors = _batch_vectors(checked, dimension, metric)
    return [Record(r.id, vectors[i], r.text, dict(r.metadata or {})) for i, r in enumerate(checked)]


def as_float_list(vector: Any) -> list[float]:
    """A vector as a list of Python floats, whatever it came as (list, tuple, numpy row)."""
    if isinstance(vector, np.ndarray):
        out: list[float] = vector.tolist()
        return out
    return [float(x) for x in vector]


def check_ids(ids: Sequence[str]) -> list[str]:
    """Ids passed to get/delete: non-empty strings."""
    if isinstance(ids, str):
        raise InvalidInput("ids must be a list of strings, not a single string: wrap it as [id]")
    out = list(ids)
    for i in out:
        if not isinstance(i, str) or not i:
            raise InvalidInput(f"ids must be non-empty strings, got {i!r}")
    return out
