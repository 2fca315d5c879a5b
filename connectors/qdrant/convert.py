"""Record <-> Qdrant point, shared by the server, local-mode and Edge drivers.

Payload layout (LangChain's Qdrant store uses the same first two keys, so its collections read
back as records)::

    page_content           the text, or null
    metadata               the user's metadata, as given (filters address it)
    vecbridge_id           the user's id
    vecbridge_key:<field>  the key (numbers.py: an integer) of a top-level boolean, or of a float
                           Qdrant may not read back exactly; for a top-level list holding floats or
                           booleans, one key per element (null for the others)
    vecbridge_json:<field> exact JSON of a top-level object, or list of lists or objects, holding a
                           float
    vecbridge_dates        {field: instant(s)} of top-level ISO-8601 date strings (core.dates)
    vecbridge_date_keys    {field: key(s)} of those instants
    vecbridge_tenant       the tenant, in multi-tenant collections

Qdrant may read a float back a few ulps off (numbers.py), so a read takes each float from its key
or its exact JSON where it has one. Keys sit at the top level, one per field, because Qdrant reads
(and parses) a point's whole payload to filter it, and a nested object costs more than its bytes;
metadata without booleans or hard floats costs nothing more. User metadata lives under
``metadata``, so no metadata key can clash with (or filter on) the others.

Point ids are ``point_uuid(id)``, or ``point_uuid(tenant + "/" + id)`` in multi-tenant collections
(a tenant name has no "/", so every (tenant, id) pair gets its own point).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vecbridge.core.dates import date_shadow
from vecbridge.core.ids import point_uuid
from vecbridge.core.keywords import SparseVector, document_vector
from vecbridge.core.models import CollectionSpec, Hit, Metric, Record

from .numbers import float_of, has_float, kept_exactly, stored_key

__all__ = [
    "DATES_KEY",
    "DATE_KEYS_KEY",
    "HIDDEN_KEYS",
    "ID_KEY",
    "JSON_PREFIX",
    "KEY_PREFIX",
    "KEYWORDS_VECTOR",
    "METADATA_KEY",
    "SPEC_KEY",
    "TENANT_KEY",
    "TEXT_KEY",
    "dense_vector",
    "field_path",
    "key_path",
    "hits_of",
    "keyword_vector",
    "parse_cursor",
    "payload_of",
    "point_id_of",
    "record_from_point",
    "records_of",
    "spec_from_stored",
    "spec_to_stored",
]

TEXT_KEY = "page_content"
METADATA_KEY = "metadata"
ID_KEY = "vecbridge_id"
JSON_PREFIX = "vecbridge_json:"
KEY_PREFIX = "vecbridge_key:"
DATES_KEY = "vecbridge_dates"
DATE_KEYS_KEY = "vecbridge_date_keys"
TENANT_KEY = "vecbridge_tenant"
#: Payload keys only filters read: the client drivers leave them out of reads (Qdrant's payload
#: exclusion, which saves their bytes on the wire); reads never look at them.
HIDDEN_KEYS = (DATES_KEY, DATE_KEYS_KEY, TENANT_KEY)
#: Name of the sparse vector that holds a hybrid collection's keyword index.
KEYWORDS_VECTOR = "keywords"
#: Key of the collection spec in Qdrant's collection metadata (server, local mode) and in an
#: Edge collection's sidecar.
SPEC_KEY = "vecbridge"


def point_id_of(record_id: str, tenant: str | None = None) -> str:
    return point_uuid(record_id if tenant is None else f"{tenant}/{record_id}")


def field_path(top: str, field: str) -> str:
    """Qdrant's path of ``top."field"``: quoted, so keys with spaces, dots or non-ASCII letters
    work (a key holding a double quote cannot be addressed; the filter compiler refuses it)."""
    return f'{top}."{field}"'


def key_path(field: str) -> str:
    """Qdrant's path of a field's keys (a quoted top-level key)."""
    return f'"{KEY_PREFIX}{field}"'


def _keys(value: Any) -> int | list[int | None] | None:
    kind = type(value)
    if kind is bool or (kind is float and not kept_exactly(value)):
        return stored_key(value)
    if kind is list and any(type(v) in (bool, float) for v in value):
        return [stored_key(v) if type(v) in (bool, float) else None for v in value]
    return None


def payload_of(record_id: str, text: str | None, metadata: Mapping[str, Any], tenant: str | None) -> dict[str, Any]:
    """The payload of one record (see the module docstring)."""
    payload: dict[str, Any] = {TEXT_KEY: text, METADATA_KEY: metadata, ID_KEY: record_id}
    maybe_dates = False
    for field, value in metadata.items():
        kind = type(value)
        if kind is str:
            # A cheap superset of core.dates' ISO-8601 pattern ("dddd-dd-dd..."), checked first.
            maybe_dates = maybe_dates or (len(value) >= 10 and value[4] == "-" and value[7] == "-")
            continue
        if kind is int or value is None:
            continue
        if kind is list:
            maybe_dates = True
        found = _keys(value)
        if found is not None:
            payload[KEY_PREFIX + field] = found
        if (kind is dict or (kind is list and any(type(v) in (dict, list) for v in value))) and has_float(value):
            payload[JSON_PREFIX + field] = json.dumps(value, ensure_ascii=False, allow_nan=False)
    dates = date_shadow(metadata) if maybe_dates else None
    if dates:
        payload[DATES_KEY] = dates
        payload[DATE_KEYS_KEY] = {
            k: [stored_key(t) for t in v] if isinstance(v, list) else stored_key(v) for k, v in dates.items()
        }
    if tenant is not None:
        payload[TENANT_KEY] = tenant
    return payload


def keyword_vector(text: str | None) -> SparseVector:
    """A document's keyword vector (core's BM25 term weights; Qdrant multiplies in the IDF)."""
    return document_vector(text or "")


def dense_vector(vector: Any, name: str = "") -> list[float] | None:
    """The dense vector of a point as read back (``vector`` is a list, or named vectors of which
    ``name`` is the one read: the unnamed one is ours), as Python floats."""
    if vector is None:
        return None
    if isinstance(vector, dict):
        vector = vector.get(name)
        if vector is None:
            return None
    return list(map(float, vector))


def _exact(field: str, value: Any, payload: Mapping[str, Any]) -> Any:
    """A top-level metadata value with its floats as written: from their keys or exact JSON."""
    kind = type(value)
    if kind is float:
        key = payload.get(KEY_PREFIX + field)
        return float_of(key) if type(key) is int else value
    if kind is list:
        exact = payload.get(JSON_PREFIX + field)
        if type(exact) is str:
            return json.loads(exact)
        keys = payload.get(KEY_PREFIX + field)
        if type(keys) is list and len(keys) == len(value):
            return [float_of(k) if type(v) is float else v for v, k in zip(value, keys, strict=True)]
    elif kind is dict:
        exact = payload.get(JSON_PREFIX + field)
        if type(exact) is str:
            return json.loads(exact)
    return value


def _metadata(payload: Mapping[str, Any]) -> dict[str, Any]:
    metadata = payload.get(METADATA_KEY)
    if not isinstance(metadata, dict):
        return {}
    if len(payload) <= 3:  # text, metadata and id only: no keys, nothing to restore
        return dict(metadata)
    return {field: _exact(field, value, payload) for field, value in metadata.items()}


def _user_id(point_id: Any, payload: Mapping[str, Any]) -> str:
    """The user's id; points written by other tools keep their own point id."""
    original = payload.get(ID_KEY)
    return str(original) if original is not None else str(point_id)


def record_from_point(point_id: Any, payload: Mapping[str, Any] | None, vector: Any) -> Record:
    """A point read back as a record."""
    payload = payload or {}
    return Record(_user_id(point_id, payload), dense_vector(vector) or [], payload.get(TEXT_KEY), _metadata(payload))


def hits_of(points: Any, metric: Metric | None, include_vectors: bool) -> list[Hit]:
    """Scored points as hits, best first. ``metric`` None: a keyword search, whose scores are kept
    as they are and whose points without a shared word (score 0) are left out."""
    negate = metric is Metric.EUCLIDEAN  # Qdrant returns the L2 distance; vecbridge its negation
    hits = []
    for p in points:
        score = p.score
        if metric is None and score <= 0:
            continue
        payload = p.payload or {}
        original = payload.get(ID_KEY)
        hits.append(
            Hit(
                str(original) if original is not None else str(p.id),
                -score if negate else score,
                payload.get(TEXT_KEY),
                _metadata(payload),
                dense_vector(p.vector) if include_vectors else None,
            )
        )
    return hits


def records_of(points: Any) -> list[Record]:
    return [record_from_point(p.id, p.payload, p.vector) for p in points]


def parse_cursor(cursor: str | None) -> int | str | None:
    """A scan cursor is a point id as text: unsigned int or UUID."""
    if cursor is None:
        return None
    return int(cursor) if cursor.isdigit() else cursor


def spec_to_stored(spec: CollectionSpec) -> dict[str, Any]:
    """The spec as kept with the collection (name left out: a renamed copy keeps its spec)."""
    stored = spec.to_dict()
    stored.pop("name", None)
    return stored


def spec_from_stored(name: str, stored: Mapping[str, Any]) -> CollectionSpec:
    return CollectionSpec.from_dict({**stored, "name": name})
