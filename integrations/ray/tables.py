"""Records as Arrow tables: the rows a Ray dataset of a collection carries.

Columns, the same as vecbridge's Parquet export (``core/parquet.py``): ``id`` (string), ``vector``
(``fixed_size_list<float32>[dimension]``; stores keep float32, so the values are exact), ``text``
(string, nullable) and ``metadata`` (a string holding a JSON object: metadata differs from record to
record, which one typed struct column cannot hold without inventing nulls for missing keys).

Reading a table back accepts what users build with Ray Data too: a ``vector`` column of fixed-size
or variable lists, or of Ray's tensor type (numpy arrays from ``map_batches``). Every value is
handed to core's validation unchanged, so bad rows fail with the same typed errors as
``Store.upsert``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from vecbridge.core.errors import InvalidInput, StoreError
from vecbridge.core.models import Record

__all__ = ["COLUMNS", "metadata_json", "records_table", "table_records", "vector_array", "vector_rows"]

COLUMNS = ("id", "vector", "text", "metadata")


def metadata_json(metadata: dict[str, Any], record_id: str) -> str:
    """One record's metadata as JSON text (exact for every JSON value, ``-0.0`` and big integers
    included)."""
    try:
        return json.dumps(metadata, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"metadata of record {record_id!r} read from the store is not JSON ({exc})") from None


def vector_array(matrix: np.ndarray) -> pa.FixedSizeListArray:
    """A ``(n, d)`` float32 matrix as a fixed-size-list column (no per-row Python objects)."""
    flat = pa.array(np.ascontiguousarray(matrix, dtype=np.float32).reshape(-1), type=pa.float32())
    return pa.FixedSizeListArray.from_arrays(flat, int(matrix.shape[1]))


def records_table(records: Sequence[Record], dimension: int, *, include_vectors: bool = True) -> pa.Table:
    """Records read from a store as a table (vectors as float32, metadata as JSON)."""
    columns: dict[str, pa.Array] = {"id": pa.array([r.id for r in records], pa.string())}
    if include_vectors:
        try:
            matrix = np.asarray([r.vector for r in records], dtype=np.float32).reshape(len(records), dimension)
        except ValueError as exc:
            raise StoreError(f"the store returned vectors that are not all {dimension}-d ({exc})") from None
        columns["vector"] = vector_array(matrix)
    columns["text"] = pa.array([r.text for r in records], pa.string())
    columns["metadata"] = pa.array([metadata_json(r.metadata, r.id) for r in records], pa.string())
    return pa.table(columns)


def vector_rows(column: pa.ChunkedArray | pa.Array) -> np.ndarray | list[Any]:
    """The ``vector`` column as a float32 matrix when every row has the same length, else as
    Python lists for core's validation to name the odd row (``DimensionMismatch``)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count:
        raise InvalidInput(f"{array.null_count} record(s) have no vector (a null in the 'vector' column)")
    kind = array.type
    if isinstance(kind, pa.FixedSizeListType):
        values = np.asarray(array.flatten().to_numpy(zero_copy_only=False))
        return values.reshape(len(array), kind.list_size)
    if isinstance(kind, pa.ExtensionType) and hasattr(array, "to_numpy"):  # Ray's tensor columns
        return list(array.to_numpy())
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return [np.asarray(v) for v in array.to_numpy(zero_copy_only=False)]
    raise InvalidInput(f"the 'vector' column holds {kind}, not lists of numbers: give each row a list of floats")


def _metadata(column: pa.ChunkedArray | None, n: int, ids: list[Any]) -> list[dict[str, Any]]:
    if column is None:
        return [{} for _ in range(n)]
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise InvalidInput(
            f"the 'metadata' column holds {column.type}; it must hold each record's metadata as a JSON object "
            "string (json.dumps(metadata)), so that records with different keys keep exactly their own"
        )
    out: list[dict[str, Any]] = []
    for rid, text in zip(ids, column.to_pylist(), strict=True):
        if text is None:
            out.append({})
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"record {rid!r}: its 'metadata' is not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise InvalidInput(f"record {rid!r}: its 'metadata' is JSON {type(value).__name__}, not an object")
        out.append(value)
    return out


def table_records(table: pa.Table) -> list[Record]:
    """The rows of ``table`` as records (values unchanged: core validates them before writing)."""
    names = set(table.column_names)
    missing = [c for c in ("id", "vector") if c not in names]
    if missing:
        raise InvalidInput(
            f"the dataset has no {' and no '.join(repr(c) for c in missing)} column: a collection's rows need "
            f"'id' and 'vector' (and optionally 'text' and 'metadata'); it has {sorted(names)}"
        )
    ids = table.column("id").to_pylist()
    vectors = vector_rows(table.column("vector"))
    texts = table.column("text").to_pylist() if "text" in names else [None] * len(ids)
    metadata = _metadata(table.column("metadata") if "metadata" in names else None, len(ids), ids)
    return [Record(i, v, t, m) for i, v, t, m in zip(ids, vectors, texts, metadata, strict=True)]
