"""``Record``/``Hit`` <-> rows of a collection table (id, embedding, text, metadata).

The user's id is the primary key as is: SQL needs no id mapping. Rows go to a binary COPY with the
vector as a big-endian float32 (``vector``) or float16 (``halfvec``) array, pgvector's wire format.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.json import Jsonb

from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import Hit, Metric, Record
from vecbridge.core.validation import as_float_list

from .schema import Operators

__all__ = [
    "PackedVector",
    "check_ids_and_texts",
    "copy_types",
    "encode_rows",
    "hit_from_row",
    "pack_vector",
    "record_from_row",
    "register_packed_vectors",
]

#: Largest magnitude a half-precision (float16) component can hold.
HALFVEC_MAX = 65504.0


def _no_nul(value: str, what: str, record_id: str) -> None:
    # PostgreSQL text and jsonb cannot hold U+0000; say so instead of letting the server reject the batch.
    if "\x00" in value:
        raise InvalidInput(
            f"record {record_id!r}: {what} contains a NUL character (\\x00), which PostgreSQL cannot store"
        )


def _same_text(text: str) -> str:
    return text


# JSON's escape of U+0000, not itself escaped (an odd number of backslashes before "u0000").
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _metadata(record: Record) -> Jsonb:
    """The metadata as jsonb, serialised once here (psycopg sends the text as is)."""
    text = json.dumps(record.metadata, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if "\\u0000" in text and _JSON_NUL.search(text):
        raise InvalidInput(
            f"record {record.id!r}: metadata contains a NUL character (\\u0000), which PostgreSQL jsonb cannot store"
        )
    return Jsonb(text, _same_text)


class PackedVector(bytes):
    """A vector already in pgvector's binary wire format: ``>HH`` (dimension, 0), then the values."""


class _PackedVectorDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return bytes(obj)


def register_packed_vectors(conn: psycopg.Connection[Any]) -> None:
    """Let COPY and parameters take ``PackedVector`` for vector/halfvec (after ``register_vector``).

    Packing a list of floats with ``struct`` is several times faster than going through numpy
    per row. COPY ``set_types`` picks dumpers by type oid, so these replace pgvector's binary
    dumpers for COPY on this connection; a ``PackedVector`` parameter is sent as ``vector``.
    """
    # By type, the last registration wins: vector, so a PackedVector parameter is a float32 vector.
    for name in ("halfvec", "vector"):
        info = conn.adapters.types.get(name)
        if info is not None:
            dumper = type(f"Packed{name.title()}Dumper", (_PackedVectorDumper,), {"oid": info.oid})
            conn.adapters.register_dumper(PackedVector, dumper)


def pack_vector(vector: Sequence[float]) -> PackedVector:
    """A query vector as a ``vector`` parameter (float32, pgvector's binary format)."""
    return PackedVector(struct.pack(f">HH{len(vector)}f", len(vector), 0, *vector))


def check_ids_and_texts(records: Sequence[Record]) -> None:
    """Refuse NUL characters in ids and texts before any SQL is sent (metadata is checked as it is
    serialised, inside the batch's transaction)."""
    for rec in records:
        _no_nul(rec.id, "the id", rec.id)
        if rec.text is not None:
            _no_nul(rec.text, "the text", rec.id)


def copy_types(storage: str) -> list[str]:
    """Column types of the rows ``encode_rows`` yields, for ``Copy.set_types``."""
    return ["text", storage, "text", "jsonb"]


def encode_rows(records: Sequence[Record], *, storage: str, metric: Metric) -> Iterator[tuple[Any, ...]]:
    """Rows ``(id, embedding, text, metadata)`` for a binary COPY, made one by one as COPY sends
    them, so that encoding here overlaps with the server's work.

    Records are already validated by the base class (dimension, finite values, ids) and by
    ``check_ids_and_texts``; what is left is what only PostgreSQL refuses in metadata (NUL) and
    values halfvec cannot hold. Such a record raises ``InvalidInput`` inside the batch's
    transaction, which then writes nothing.
    """
    if not records:
        return
    dimension = len(records[0].vector)
    header = struct.pack(">HH", dimension, 0)
    # Big-endian float32 for vector, IEEE half precision for halfvec: pgvector's wire formats.
    values = struct.Struct(f">{dimension}{'e' if storage == 'halfvec' else 'f'}")
    half = storage == "halfvec"
    for rec in records:
        if isinstance(rec.vector, np.ndarray):  # one buffer conversion; no per-float Python objects
            packed = _pack_array(rec.id, rec.vector, half, metric)
        else:
            packed = _pack_half(rec.id, values, rec.vector, metric) if half else values.pack(*rec.vector)
        yield rec.id, PackedVector(header + packed), rec.text, _metadata(rec)


def _pack_array(record_id: str, vector: np.ndarray, half: bool, metric: Metric) -> bytes:
    if not half:
        return vector.astype(">f4", copy=False).tobytes()
    with np.errstate(over="ignore"):
        halved = vector.astype(">f2")
    if not np.isfinite(halved).all():
        raise InvalidInput(_too_big(record_id))
    if metric is Metric.COSINE and not halved.any():
        raise InvalidInput(_rounds_to_zero(record_id))
    return halved.tobytes()


def _too_big(record_id: str) -> str:
    return (
        f"record {record_id!r}: a component exceeds +-{HALFVEC_MAX:g}, the range of halfvec (half precision) "
        "storage: normalise the vector, or use a collection stored as 'vector'"
    )


def _rounds_to_zero(record_id: str) -> str:
    return (
        f"record {record_id!r}: the vector rounds to all zeros in halfvec (half precision) storage, "
        "which has no direction for cosine similarity: normalise it first"
    )


def _pack_half(record_id: str, values: struct.Struct, vector: Sequence[float], metric: Metric) -> bytes:
    """halfvec keeps float16: values past +-65504 overflow, and tiny vectors can round to zero."""
    try:
        packed = values.pack(*vector)
    except OverflowError:
        raise InvalidInput(_too_big(record_id)) from None
    if metric is Metric.COSINE and not np.frombuffer(packed, dtype=">f2").any():
        raise InvalidInput(_rounds_to_zero(record_id))
    return packed


def _vector(value: Any) -> list[float]:
    """A vector column as floats: pgvector-python < 0.4 loads numpy arrays, >= 0.4 its own
    ``Vector``/``HalfVector`` objects."""
    return as_float_list(value.to_numpy() if hasattr(value, "to_numpy") else value)


def record_from_row(row: Sequence[Any], include_vector: bool) -> Record:
    """Row ``(id, text, metadata[, embedding])`` -> Record (vector [] when not asked for)."""
    vector = _vector(row[3]) if include_vector else []
    return Record(row[0], vector, row[1], dict(row[2] or {}))


def hit_from_row(row: Sequence[Any], ops: Operators, include_vector: bool) -> Hit:
    """Row ``(id, text, metadata, distance[, embedding])`` -> Hit with the core score convention."""
    vector = _vector(row[4]) if include_vector else None
    return Hit(row[0], ops.score(float(row[3])), row[1], dict(row[2] or {}), vector)
