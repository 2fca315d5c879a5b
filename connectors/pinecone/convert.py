"""Records and hits <-> Pinecone vectors: ids, the metadata rules, reserved keys, scores.

Pinecone metadata is flat: every value is a string, a number (stored as a 64-bit float), a
boolean or a list of strings; at most 40 KB of JSON per record. :func:`to_vector` enforces that
before anything is sent and raises ``InvalidInput`` naming the record and the field:

* nested objects and lists holding anything but strings are refused (convert or flatten them);
* integers beyond +-2**53 are refused (a 64-bit float cannot hold them exactly);
* keys starting with '$' (Pinecone's operator marker) or with ``_vb_`` (reserved below) are refused.

Nothing is lost silently. Pinecone has no null and vecbridge treats null, missing and an empty
list alike in filters, so ``None`` values and empty lists are not stored as such: their keys are
listed in reserved keys and restored on read. Every value comes back as it went in (numbers
keep int/float).

Reserved metadata keys (removed from what users get back):

``_vb_text``   the record's text.
``_vb_id``     the user's id, when the Pinecone id differs from it (see :func:`pinecone_id`).
``_vb_num``    ``["$", <keys holding numbers>...]``: lets a ``$not`` over a range stay exact
               (Pinecone cannot test a field's type); always present on records vecbridge wrote.
``_vb_null``   keys whose value was ``None``.
``_vb_empty``  keys whose value was ``[]``.
``_vb_float``  keys holding a float with an integral value (``2.0``), so it reads back as float.

Ids: Pinecone ids are 1-512 ASCII characters, and fetch (an HTTP GET) refuses spaces. An id of
printable ASCII without spaces or '%' is used unchanged; any other id is percent-encoded
(UTF-8, '%' itself included, so the mapping is one-to-one), or, if that would pass 512
characters, replaced by ``%~`` + its SHA-256. The user's id is then kept in ``_vb_id``.

Scores: cosine and dot product come back as Pinecone computes them; for ``euclidean`` Pinecone
returns the *squared* L2 distance (lower is closer), which becomes ``-sqrt(d2)``, the core's
negated L2 distance.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import Hit, Metric, Record
from vecbridge.core.validation import as_float_list

__all__ = [
    "MAX_METADATA_BYTES",
    "NUMERIC_KEY",
    "NUMERIC_SENTINEL",
    "RESERVED_PREFIX",
    "from_pinecone_metric",
    "hit_from_match",
    "pinecone_id",
    "pinecone_metric",
    "record_from_vector",
    "similarity",
    "to_vector",
    "wire_size",
]

TEXT_KEY = "_vb_text"
ID_KEY = "_vb_id"
NUMERIC_KEY = "_vb_num"
NULL_KEY = "_vb_null"
EMPTY_KEY = "_vb_empty"
FLOAT_KEY = "_vb_float"
RESERVED_PREFIX = "_vb_"
#: Always first in ``_vb_num``: marks a record written by vecbridge even when it holds no
#: numbers. User keys cannot start with '$', so it never names a field.
NUMERIC_SENTINEL = "$"

MAX_METADATA_BYTES = 40 * 1024
MAX_ID_LENGTH = 512
MAX_EXACT_INT = 2**53

# Printable ASCII except space (fetch refuses it) and '%' (the escape character).
_ID_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")
_ID_SAFE_SET = frozenset(_ID_SAFE)
_HASHED_ID_PREFIX = "%~"  # percent-encoding never yields '%' followed by '~'

_METRICS = {Metric.COSINE: "cosine", Metric.DOT: "dotproduct", Metric.EUCLIDEAN: "euclidean"}


def pinecone_metric(metric: Metric) -> str:
    return _METRICS[metric]


def from_pinecone_metric(name: str) -> Metric | None:
    for metric, pinecone_name in _METRICS.items():
        if pinecone_name == str(name).lower():
            return metric
    return None


def pinecone_id(record_id: str) -> str:
    """The id under which ``record_id`` is stored (see the module docstring)."""
    if len(record_id) <= MAX_ID_LENGTH and all(c in _ID_SAFE_SET for c in record_id):
        return record_id
    encoded = quote(record_id, safe=_ID_SAFE, encoding="utf-8")
    if len(encoded) <= MAX_ID_LENGTH:
        return encoded
    return _HASHED_ID_PREFIX + hashlib.sha256(record_id.encode("utf-8")).hexdigest()


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


def _refuse(record_id: Any, key: Any, problem: str, fix: str) -> InvalidInput:
    return InvalidInput(f"record {record_id!r}: metadata field {key!r} {problem}; {fix}")


def encode_metadata(record_id: str, text: str | None, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Pinecone metadata of a record, or ``InvalidInput`` naming the record and field."""
    out: dict[str, Any] = {}
    numeric = [NUMERIC_SENTINEL]
    nulls: list[str] = []
    empties: list[str] = []
    integral_floats: list[str] = []
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not key:
            raise _refuse(record_id, key, "is not a non-empty string key", "use string keys")
        if key.startswith("$"):
            raise _refuse(record_id, key, "starts with '$', which Pinecone reserves for filter operators", "rename it")
        if key.startswith(RESERVED_PREFIX):
            raise _refuse(
                record_id, key, f"uses the prefix {RESERVED_PREFIX!r}, reserved for vecbridge's own keys", "rename it"
            )
        if value is None:
            nulls.append(key)
        elif isinstance(value, (bool, str)):
            out[key] = value
        elif isinstance(value, int):
            if abs(value) > MAX_EXACT_INT:
                raise _refuse(
                    record_id,
                    key,
                    f"is {value}, beyond +-2**53: Pinecone keeps numbers as 64-bit floats and would change it",
                    "store it as a string",
                )
            out[key] = value
            numeric.append(key)
        elif isinstance(value, float):
            out[key] = value
            numeric.append(key)
            if value.is_integer():
                integral_floats.append(key)
        elif isinstance(value, (list, tuple)):
            if not value:
                empties.append(key)
                continue
            odd = next((item for item in value if not isinstance(item, str)), None)
            if odd is not None or any(item is None for item in value):
                kind = type(odd).__name__ if odd is not None else "NoneType"
                raise _refuse(
                    record_id,
                    key,
                    f"is a list holding {kind} values, but Pinecone stores only lists of strings",
                    "convert the elements to strings or split them into separate fields",
                )
            out[key] = list(value)
        elif isinstance(value, Mapping):
            raise _refuse(
                record_id,
                key,
                "is a nested object, but Pinecone metadata is flat (string, number, boolean, list of strings)",
                f"flatten it into top-level fields (e.g. '{key}_<subkey>') or store it as a JSON string",
            )
        else:
            raise _refuse(
                record_id,
                key,
                f"has type {type(value).__name__}",
                "use a string, number, boolean, list of strings or None",
            )
    if text is not None:
        out[TEXT_KEY] = text
    if pinecone_id(record_id) != record_id:
        out[ID_KEY] = record_id
    out[NUMERIC_KEY] = numeric
    if nulls:
        out[NULL_KEY] = nulls
    if empties:
        out[EMPTY_KEY] = empties
    if integral_floats:
        out[FLOAT_KEY] = integral_floats
    size = _json_bytes(out)
    if size > MAX_METADATA_BYTES:
        largest = max(out, key=lambda k: _json_bytes(out[k]))
        shown = "text" if largest == TEXT_KEY else repr(largest)
        raise InvalidInput(
            f"record {record_id!r}: metadata is {size} bytes of JSON, more than Pinecone's "
            f"{MAX_METADATA_BYTES} per record (the text is stored there too); field {shown} alone takes "
            f"{_json_bytes(out[largest])}: shorten it or keep it outside the vector store"
        )
    return out


def to_vector(record: Record) -> dict[str, Any]:
    """The Pinecone vector (wire dict) of a validated record."""
    return {
        "id": pinecone_id(record.id),
        "values": as_float_list(record.vector),
        "metadata": encode_metadata(record.id, record.text, record.metadata),
    }


def wire_size(vector: Mapping[str, Any]) -> int:
    """Bytes a vector dict takes in an upsert request body (plus its separating comma)."""
    return _json_bytes(vector) + 1


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def decode_metadata(stored_id: str, stored: Mapping[str, Any] | None) -> tuple[str, str | None, dict[str, Any]]:
    """(user id, text, metadata) of a stored vector; reverses :func:`encode_metadata`."""
    raw = dict(stored or {})
    user_id = raw.get(ID_KEY)
    text = raw.get(TEXT_KEY)
    numeric = set(_names(raw.get(NUMERIC_KEY)))
    keep_float = set(_names(raw.get(FLOAT_KEY)))
    metadata: dict[str, Any] = {}
    for key, value in raw.items():
        if key.startswith(RESERVED_PREFIX):
            continue
        if (
            key in numeric
            and key not in keep_float
            and isinstance(value, float)
            and value.is_integer()
            and abs(value) <= MAX_EXACT_INT
        ):
            value = int(value)  # Pinecone returns every number as a float
        metadata[key] = value
    for key in _names(raw.get(NULL_KEY)):
        metadata[key] = None
    for key in _names(raw.get(EMPTY_KEY)):
        metadata[key] = []
    return (
        user_id if isinstance(user_id, str) else stored_id,
        text if isinstance(text, str) else None,
        metadata,
    )


def record_from_vector(
    stored_id: str, values: Sequence[float] | None, metadata: Mapping[str, Any] | None, include_vectors: bool
) -> Record:
    user_id, text, md = decode_metadata(stored_id, metadata)
    vector = [float(v) for v in values] if include_vectors and values is not None else []
    return Record(user_id, vector, text, md)


def similarity(raw_score: float, metric: Metric) -> float:
    """Pinecone's score -> the core convention (higher is more similar)."""
    if metric is Metric.EUCLIDEAN:
        return -math.sqrt(max(float(raw_score), 0.0))
    return float(raw_score)


def hit_from_match(
    stored_id: str,
    raw_score: float,
    values: Sequence[float] | None,
    metadata: Mapping[str, Any] | None,
    metric: Metric,
    include_vectors: bool,
) -> Hit:
    user_id, text, md = decode_metadata(stored_id, metadata)
    vector = [float(v) for v in values] if include_vectors and values else None
    return Hit(user_id, similarity(raw_score, metric), text, md, vector)
