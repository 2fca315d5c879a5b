"""Batches -> COPY rows, and rows -> ``Record`` / ``Hit``.

The user's id is the primary key as is: SQL needs no id mapping. Vectors go to a binary COPY in
pgvector's wire format (``>HH`` dimension and 0, then big-endian float32 for ``vector`` or IEEE
half precision for ``halfvec``), packed for the whole batch at once from its float32 matrix.
Metadata is serialised once, compactly, and stored as ``json`` (exactly as written); its date
shadow (``core.dates.date_shadow``) goes beside it.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.json import Json, Jsonb

from vecbridge.core.dates import date_shadow
from vecbridge.core.driver import Batch, Failure
from vecbridge.core.models import Hit, Metric, Record
from vecbridge.core.validation import as_float_list

from .schema import Operators

__all__ = [
    "HALFVEC_MAX",
    "PackedVector",
    "copy_rows",
    "copy_types",
    "hit_from_row",
    "keyword_hit_from_row",
    "pack_matrix",
    "pack_vector",
    "record_from_row",
    "register_packed_vectors",
]

#: Largest magnitude a half-precision (float16) component can hold.
HALFVEC_MAX = 65504.0


def _same_text(text: str) -> str:
    return text


def _json_text(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class PackedVector(bytes):
    """A vector already in pgvector's binary wire format: ``>HH`` (dimension, 0), then the values."""


class _PackedVectorDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return bytes(obj)


def register_packed_vectors(adapters: Any, types: Any) -> None:
    """Let COPY and parameters take ``PackedVector`` for vector/halfvec on a connection whose
    ``adapters`` know those types (after pgvector's ``register_vector``). COPY ``set_types`` picks
    dumpers by type oid; a ``PackedVector`` parameter is sent as ``vector`` (registered last)."""
    for name in ("halfvec", "vector"):
        info = types.get(name)
        if info is not None:
            dumper = type(f"Packed{name.title()}Dumper", (_PackedVectorDumper,), {"oid": info.oid})
            adapters.register_dumper(PackedVector, dumper)


def pack_vector(vector: np.ndarray) -> PackedVector:
    """A query vector as a ``vector`` parameter (float32, pgvector's binary format)."""
    return PackedVector(struct.pack(">HH", len(vector), 0) + np.asarray(vector, dtype=">f4").tobytes())


def pack_matrix(batch: Batch, storage: str, metric: Metric) -> tuple[list[PackedVector | None], dict[str, Failure]]:
    """Every vector of ``batch`` in pgvector's binary format, converted in one numpy call.

    ``halfvec`` keeps float16: a component beyond +-65504 cannot be stored, and a tiny vector can
    round to all zeros (no direction for cosine). Such records get ``None`` and a permanent
    ``Failure`` naming the way out; the others are written.
    """
    n, dimension = batch.vectors.shape
    header = struct.pack(">HH", dimension, 0)
    failures: dict[str, Failure] = {}
    if storage == "halfvec":
        with np.errstate(over="ignore"):
            values = batch.vectors.astype(">f2")
        finite = np.isfinite(values).all(axis=1)
        nonzero = values.any(axis=1) if metric is Metric.COSINE else np.ones(n, dtype=bool)
        for i in np.flatnonzero(~(finite & nonzero)):
            failures[batch.ids[i]] = Failure(_too_big(batch.ids[i]) if not finite[i] else _rounds_to_zero(batch.ids[i]))
    else:
        values = batch.vectors.astype(">f4")
    raw = values.tobytes()
    width = len(raw) // n if n else 0
    packed: list[PackedVector | None] = [
        None if batch.ids[i] in failures else PackedVector(header + raw[i * width : (i + 1) * width]) for i in range(n)
    ]
    return packed, failures


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


def copy_types(storage: str, tenant: bool) -> list[str]:
    """Column types of the rows ``copy_rows`` yields, for ``Copy.set_types``."""
    return [*(["text"] if tenant else []), "text", storage, "text", "json", "jsonb"]


def copy_rows(
    batch: Batch, vectors: Sequence[PackedVector | None], tenant: str | None, with_tenant: bool
) -> Iterator[tuple[Any, ...]]:
    """Rows ``([tenant,] id, embedding, text, metadata, dates)`` for a binary COPY, made one by
    one as COPY sends them (records whose vector is None are left out: they failed packing)."""
    lead = (tenant,) if with_tenant else ()
    for i, vector in enumerate(vectors):
        if vector is None:
            continue
        metadata = batch.metadata[i]
        shadow = date_shadow(metadata) if metadata else None
        yield (
            *lead,
            batch.ids[i],
            vector,
            batch.texts[i],
            Json(_json_text(metadata), _same_text),
            Jsonb(_json_text(shadow), _same_text) if shadow else None,
        )


def _vector(value: Any) -> list[float]:
    """A vector column as floats: pgvector-python < 0.4 loads numpy arrays, >= 0.4 its own
    ``Vector``/``HalfVector`` objects."""
    return as_float_list(value.to_numpy() if hasattr(value, "to_numpy") else value)


def record_from_row(row: Sequence[Any], include_vector: bool) -> Record:
    """Row ``(id, text, metadata[, embedding])`` -> Record (vector [] when not asked for)."""
    vector = _vector(row[3]) if include_vector else []
    return Record(row[0], vector, row[1], row[2])


def hit_from_row(row: Sequence[Any], ops: Operators, include_vector: bool) -> Hit:
    """Row ``(id, text, metadata, distance[, embedding])`` -> Hit with the core score convention."""
    vector = _vector(row[4]) if include_vector else None
    return Hit(row[0], ops.score(float(row[3])), row[1], row[2], vector)


def keyword_hit_from_row(row: Sequence[Any], include_vector: bool) -> Hit:
    """Row ``(id, text, metadata, rank[, embedding])`` of a keyword search -> Hit (score: the rank)."""
    vector = _vector(row[4]) if include_vector else None
    return Hit(row[0], float(row[3]), row[1], row[2], vector)
