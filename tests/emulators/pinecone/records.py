"""One record as the data plane stores it, and Pinecone's rules for what a request may hold:
ids, namespaces, dense values, sparse values and metadata (db_data 2026-07, "Database limits").

Vectors are kept as float32 and every metadata number as a 64-bit float, as Pinecone does; null
metadata values are stripped on write (the server's ``NullHandling::Strip``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import limits
from .errors import ApiFailure

__all__ = ["DEFAULT_NAMESPACE", "StoredVector", "check_id", "namespace_of", "parse_sparse", "parse_vector", "render"]

DEFAULT_NAMESPACE = "__default__"


@dataclass
class StoredVector:
    id: str
    values: np.ndarray
    metadata: dict[str, Any]
    sparse: dict[int, float] | None = None


def _bad(message: str) -> ApiFailure:
    return ApiFailure(400, message)


def namespace_of(name: Any) -> str:
    if name is None or name == "":
        return DEFAULT_NAMESPACE
    if not isinstance(name, str) or len(name) > limits.MAX_NAMESPACE_LENGTH or not name.isascii() or "\x00" in name:
        raise _bad(f"Invalid namespace {name!r}: namespaces are 1-512 ASCII characters")
    return name


def check_id(vid: Any, where: str) -> str:
    if not isinstance(vid, str) or not vid:
        raise _bad(f"{where}: vector id must be a non-empty string")
    if len(vid) > limits.MAX_ID_LENGTH:
        raise _bad(f"{where}: vector id exceeds the maximum length of {limits.MAX_ID_LENGTH} characters")
    if not vid.isascii() or "\x00" in vid:
        raise _bad(f"{where}: vector id must contain only ASCII characters and no NUL")
    return vid


def _clean_metadata(raw: Any, vid: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad(f"Vector {vid!r}: metadata must be a JSON object")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key.startswith("$"):
            raise _bad(f"Vector {vid!r}: metadata field names may not begin with '$' ({key!r})")
        if value is None:
            continue  # stripped, not refused
        if isinstance(value, (bool, str)):
            out[key] = value
        elif isinstance(value, (int, float)):
            if not math.isfinite(float(value)):
                raise _bad(f"Vector {vid!r}: metadata value for field {key!r} is not a finite number")
            out[key] = float(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            shown = json.dumps(value, separators=(",", ":"))[:16]
            raise _bad(
                f"Metadata value must be a string, number, boolean or list of strings, got '{shown}' for field '{key}'"
            )
    size = len(json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > limits.MAX_METADATA_BYTES:
        raise _bad(
            f"Metadata size is {size} bytes, which exceeds the limit of {limits.MAX_METADATA_BYTES} bytes per vector"
        )
    return out


def parse_sparse(raw: Any, where: str) -> dict[int, float]:
    """``{"indices": [...], "values": [...]}`` -> {index: value}."""
    if not isinstance(raw, dict) or not isinstance(raw.get("indices"), list) or not isinstance(raw.get("values"), list):
        raise _bad(f"{where}: sparse values need 'indices' and 'values' arrays")
    indices, values = raw["indices"], raw["values"]
    if len(indices) != len(values):
        raise _bad(f"{where}: sparse indices and values must have the same length")
    if not 1 <= len(indices) <= limits.MAX_SPARSE_VALUES:
        raise _bad(f"{where}: sparse vectors hold 1 to {limits.MAX_SPARSE_VALUES} values, got {len(indices)}")
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= limits.MAX_SPARSE_INDEX for i in indices):
        raise _bad(f"{where}: sparse indices must be integers from 0 to {limits.MAX_SPARSE_INDEX}")
    if len(set(indices)) != len(indices):
        raise _bad(f"{where}: sparse indices must be unique")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise _bad(f"{where}: sparse values must be finite numbers")
    return {int(i): float(np.float32(v)) for i, v in zip(indices, values, strict=True)}


def parse_vector(item: Any, position: int, dimension: int, sparse_allowed: bool) -> StoredVector:
    if not isinstance(item, dict):
        raise _bad(f"vectors[{position}] must be an object")
    vid = check_id(item.get("id"), f"vectors[{position}]")
    sparse = None
    if item.get("sparseValues") is not None:
        if not sparse_allowed:
            raise _bad(
                f"Vector {vid!r}: this index does not accept sparse values: its schema declares no sparse_vector field"
            )
        sparse = parse_sparse(item["sparseValues"], f"Vector {vid!r}")
    values = item.get("values")
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise _bad(f"Vector {vid!r}: values must be an array of numbers")
    if len(values) != dimension:
        raise _bad(f"Vector dimension {len(values)} does not match the dimension of the index {dimension}")
    array = np.asarray(values, dtype=np.float32)
    if not np.isfinite(array).all():
        raise _bad(f"Vector {vid!r}: values must be finite")
    if not (np.abs(array) >= limits.MIN_DENSE_MAGNITUDE).any():
        raise _bad(f"Dense vectors must contain at least one non-zero value (vector {vid!r})")
    return StoredVector(vid, array, _clean_metadata(item.get("metadata"), vid), sparse)


def render(vector: StoredVector, *, values: bool, metadata: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": vector.id, "values": [float(x) for x in vector.values] if values else []}
    if values and vector.sparse:
        out["sparseValues"] = {"indices": list(vector.sparse), "values": list(vector.sparse.values())}
    if metadata and vector.metadata:
        out["metadata"] = dict(vector.metadata)
    return out
