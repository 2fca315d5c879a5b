"""Checks run once on every record before any driver sees it, so bad input fails the same way on
every store and nothing of a bad unit is written. The result is a :class:`~vecbridge.core.driver.Batch`:
ids, texts, metadata and one float32 matrix."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .driver import Batch
from .errors import DimensionMismatch, InvalidInput
from .limits import MAX_ID_LENGTH, MAX_METADATA_DEPTH, MAX_SAFE_INTEGER, MAX_TENANT_LENGTH, MAX_VECTOR_NORM
from .models import Metric, Record

__all__ = [
    "as_float_list",
    "as_vector",
    "check_ids",
    "check_metadata",
    "check_tenant",
    "validate_batch",
    "validate_records",
    "validate_vector",
]


def as_vector(vector: Any, dimension: int, *, what: str = "vector", metric: Metric | None = None) -> np.ndarray:
    """Return ``vector`` as a float32 array after checking its shape and values."""
    if type(vector) is np.ndarray and vector.dtype in _FLOATS and vector.shape == (dimension,):
        fast = _plain_vector(vector, metric)
        if fast is not None:
            return fast
    if isinstance(vector, (str, bytes, Mapping)):
        raise InvalidInput(f"{what} is not a sequence of numbers")
    try:
        arr = np.asarray(vector)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"{what} is not a sequence of numbers") from None
    if arr.dtype.kind not in "fiu":  # strings, booleans, objects: never silently read as numbers
        raise InvalidInput(f"{what} is not a sequence of numbers (it holds {arr.dtype.name} values)")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise InvalidInput(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.shape[0] != dimension:
        raise DimensionMismatch(
            f"{what} has {arr.shape[0]} dimensions but the collection expects {dimension}: "
            "embed with the collection's model and dimension"
        )
    if not np.isfinite(arr).all():
        raise InvalidInput(f"{what} contains NaN or infinity: check the embedding that produced it")
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32)
    if not np.isfinite(out).all():
        raise InvalidInput(
            f"{what} has values beyond float32's range (about 3.4e38), which no store can keep: rescale it"
        )
    if metric is Metric.COSINE and not out.any():
        raise InvalidInput(f"{what} is all zeros, which has no direction for cosine similarity")
    if float(np.linalg.norm(arr)) > MAX_VECTOR_NORM:
        raise InvalidInput(
            f"{what} has length {np.linalg.norm(arr):.3g}, above vecbridge's limit of {MAX_VECTOR_NORM:.0e}: "
            "its scores would overflow the stores' float32 arithmetic; normalise or rescale it"
        )
    return out


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _plain_vector(vector: np.ndarray, metric: Metric | None) -> np.ndarray | None:
    """The common case (a float array of the right shape, as embedders return it) checked with
    one dot product instead of the general path's five passes: it runs on every query. The sum
    of squares in float64 is finite exactly when every value is (a float32's square cannot
    overflow a float64), and its root is the norm. None: let the general path name the problem."""
    wide = vector.astype(np.float64, copy=False)
    square = float(wide @ wide)
    if not math.isfinite(square) or math.sqrt(square) > MAX_VECTOR_NORM:
        return None  # NaN, infinity, beyond float32 or too long
    out = vector.astype(np.float32, copy=True)  # a copy: later changes to the caller's array stay theirs
    if metric is Metric.COSINE and not out.any():
        return None  # all zeros (or values that underflow float32)
    return out


def validate_vector(vector: Any, dimension: int, metric: Metric | None = None) -> np.ndarray:
    """Check a query vector; returns it as a float32 array."""
    return as_vector(vector, dimension, what="query vector", metric=metric)


_PLAIN = frozenset({str, bool, type(None)})


def _plain_value(value: Any) -> bool:
    t = type(value)
    if t in _PLAIN:
        return True
    if t is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    return t is float and math.isfinite(value)


def _plainly_valid(metadata: Mapping[str, Any]) -> bool:
    """Fast path for the common case: a flat object of scalars and lists of scalars (exact types,
    so subclasses and anything unusual take the detailed check, which names the offending field).
    It runs for every record written, so it avoids the detailed check's recursion."""
    for key, value in metadata.items():
        if type(key) is not str or not key or not _clean_text(key):
            return False
        if type(value) is str:
            if not _clean_text(value):
                return False
        elif type(value) is list:
            if not all(_plain_value(x) and (type(x) is not str or _clean_text(x)) for x in value):
                return False
        elif not _plain_value(value):
            return False
    return True


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean_text(text: str) -> bool:
    """No lone surrogates (they cannot be encoded as UTF-8, so no store can keep them) and no NUL
    (PostgreSQL text and jsonb refuse it)."""
    # isascii() is a flag CPython keeps on every str: most texts skip the regex.
    return "\x00" not in text and (text.isascii() or not _SURROGATE.search(text))


def check_text(text: str, where: str) -> None:
    if not _clean_text(text):
        raise InvalidInput(
            f"{where} contains a NUL character or a lone surrogate (invalid Unicode), which stores cannot keep: "
            "clean the text (e.g. text.encode('utf-8', 'replace').decode())"
        )


def check_metadata(metadata: Any, *, where: str) -> None:
    """Metadata must be a JSON object: str keys; str / int / float / bool / None / list / dict
    values, at most ``MAX_METADATA_DEPTH`` levels deep, integers within JSON's safe range."""
    if type(metadata) is dict and _plainly_valid(metadata):
        return
    _check_object(metadata, where, 1)


def _check_object(metadata: Any, where: str, depth: int) -> None:
    if not isinstance(metadata, Mapping):
        raise InvalidInput(f"{where}: metadata must be a dict, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidInput(f"{where}: metadata keys must be non-empty strings, got {key!r}")
        check_text(key, f"{where}: metadata key {key!r}")
        _check_json_value(value, f"{where}: metadata[{key!r}]", depth)


def _check_json_value(value: Any, where: str, depth: int) -> None:
    if depth > MAX_METADATA_DEPTH:
        raise InvalidInput(
            f"{where} is nested more than {MAX_METADATA_DEPTH} levels deep (vecbridge's limit): flatten it"
        )
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        check_text(value, where)
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise InvalidInput(
                f"{where} is {value}, beyond ±(2**53 - 1), the integers every store keeps and compares "
                "exactly: store it as a string"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{where} is {value}, which JSON cannot carry; use None or a finite number")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json_value(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, Mapping):
        _check_object(value, where, depth + 1)
        return
    hint = " (pass dates as ISO-8601 strings: value.isoformat())" if hasattr(value, "isoformat") else ""
    raise InvalidInput(
        f"{where} has type {type(value).__name__}; metadata values must be str, int, float, bool, "
        f"None, lists or dicts{hint}"
    )


def _matrix(records: list[Record], dimension: int, metric: Metric | None) -> np.ndarray:
    """All vectors of a batch checked at once (one numpy conversion instead of one per record:
    validation would otherwise cost more than the write). Falls back to record-by-record checks
    to name the offending record."""
    try:
        # The natural dtype first, so strings or booleans are never silently read as numbers; then
        # float32, what the stores keep. A value beyond float32's range becomes inf and is refused
        # below like any non-finite value.
        raw = np.asarray([r.vector for r in records])
        with np.errstate(over="ignore"):
            mat = raw.astype(np.float32, copy=False) if raw.dtype.kind in "fiu" else None
    except (TypeError, ValueError, OverflowError):  # ragged or non-numeric: find which record
        mat = None
    if mat is None or mat.ndim != 2 or mat.shape[1] != dimension:
        for rec in records:
            as_vector(rec.vector, dimension, what=f"vector of record {rec.id!r}", metric=metric)
        raise InvalidInput("vectors could not be read as a matrix")  # pragma: no cover - found above
    finite = np.isfinite(mat).all(axis=1)
    nonzero = mat.any(axis=1) if metric is Metric.COSINE else np.ones(len(records), dtype=bool)
    with np.errstate(over="ignore"):
        finite &= np.einsum("ij,ij->i", mat, mat) <= MAX_VECTOR_NORM**2  # float32: overflows to inf
    if not (finite.all() and nonzero.all()):
        bad = int(np.flatnonzero(~(finite & nonzero))[0])
        as_vector(records[bad].vector, dimension, what=f"vector of record {records[bad].id!r}", metric=metric)
        raise InvalidInput(
            f"vector of record {records[bad].id!r} has values beyond float32's range (about 3.4e38), "
            "which no store can keep: rescale it"
        )  # pragma: no cover - as_vector names the problem first
    return np.ascontiguousarray(mat)


def check_record_fields(rec: Any, position: int, seen: dict[str, int]) -> Record:
    """Everything of one record but its vector: type, id, text, metadata, duplicates in a unit."""
    if not isinstance(rec, Record):
        raise InvalidInput(f"item {position} is a {type(rec).__name__}, not a vecbridge Record")
    if not isinstance(rec.id, str) or not rec.id:
        raise InvalidInput(f"record {position}: id must be a non-empty string, got {rec.id!r} (use str(id))")
    if len(rec.id) > MAX_ID_LENGTH:
        raise InvalidInput(f"record {rec.id[:40]!r}...: id longer than {MAX_ID_LENGTH} characters")
    if not _clean_text(rec.id):  # the messages are formatted only on failure: this runs per record
        check_text(rec.id, f"record {position}: id")
    if rec.id in seen:
        raise InvalidInput(
            f"duplicate id {rec.id!r} at positions {seen[rec.id]} and {position} of one batch: "
            "which one should win is ambiguous, so deduplicate before upserting"
        )
    seen[rec.id] = position
    if rec.text is not None:
        if not isinstance(rec.text, str) or not rec.text or rec.text.isspace():  # no stripped copy
            raise InvalidInput(f"record {rec.id!r}: text must be a non-empty string or None")
        if not _clean_text(rec.text):
            check_text(rec.text, f"record {rec.id!r}: text")
    metadata = rec.metadata if rec.metadata is not None else {}
    if not (type(metadata) is dict and _plainly_valid(metadata)):
        _check_object(metadata, f"record {rec.id!r}", 1)
    return rec


def validate_batch(records: Iterable[Record], dimension: int, metric: Metric | None = None) -> Batch:
    """Check a unit of records: ids, vectors, text and metadata. Raises before anything is written."""
    checked: list[Record] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(records):
        checked.append(check_record_fields(rec, i, seen))
    if not checked:
        return Batch.empty(dimension)
    return Batch(
        ids=tuple(r.id for r in checked),
        vectors=_matrix(checked, dimension, metric),
        texts=tuple(r.text for r in checked),
        metadata=tuple(dict(r.metadata or {}) for r in checked),
    )


def validate_records(records: Iterable[Record], dimension: int, metric: Metric | None = None) -> list[Record]:
    """As :func:`validate_batch`, as records whose vectors are float32 numpy rows."""
    return list(validate_batch(records, dimension, metric).records())


def as_float_list(vector: Any) -> list[float]:
    """A vector as a list of Python floats, whatever it came as (list, tuple, numpy row)."""
    if isinstance(vector, np.ndarray):
        out: list[float] = vector.tolist()
        return out
    return [float(x) for x in vector]


def check_ids(ids: Sequence[str]) -> list[str]:
    """Ids passed to get/delete: a list of non-empty strings."""
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise InvalidInput("ids must be a list of strings: wrap a single id as [id]")
    out = list(ids)
    for i in out:
        if not isinstance(i, str) or not i:
            raise InvalidInput(f"ids must be non-empty strings, got {i!r}")
        if len(i) > MAX_ID_LENGTH:
            raise InvalidInput(f"id {i[:40]!r}... is longer than {MAX_ID_LENGTH} characters")
        check_text(i, "an id")
    return out


_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def check_tenant(tenant: Any) -> str:
    """A tenant name: letters, digits, '_' and '-', starting with a letter or digit (portable as a
    Weaviate tenant, a Pinecone namespace and a Qdrant or PostgreSQL key)."""
    if not isinstance(tenant, str) or not _TENANT_RE.fullmatch(tenant) or len(tenant) > MAX_TENANT_LENGTH:
        raise InvalidInput(
            f"invalid tenant {tenant!r}: use 1-{MAX_TENANT_LENGTH} letters, digits, '_' or '-', "
            "starting with a letter or digit (e.g. 'acme' or 'customer-42')"
        )
    return tenant
