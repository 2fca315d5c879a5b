"""Record <-> Qdrant point: ids, payload layout and scores, shared by the client and Edge stores.

Payload layout (compatible with LangChain's Qdrant store, which uses the same two keys)::

    {"page_content": <text or null>, "metadata": {...user metadata...}, "vecbridge_id": <user id>}

Keeping user metadata under one key means any metadata key is allowed (no clash with ours), and
collections written by LangChain read back as records. Point ids are ``point_uuid(user_id)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from vecbridge.core.ids import point_uuid
from vecbridge.core.models import CollectionSpec, Hit, Metric, Record, ScanPage

__all__ = [
    "BOOL_KEY",
    "ID_KEY",
    "bool_path",
    "METADATA_KEY",
    "SPEC_KEY",
    "TEXT_KEY",
    "metadata_path",
    "parse_cursor",
    "payload_of",
    "point_id_of",
    "record_from_point",
    "score_of",
    "scroll_pages",
    "spec_from_json",
    "spec_to_json",
]

TEXT_KEY = "page_content"
METADATA_KEY = "metadata"
ID_KEY = "vecbridge_id"
#: Edge only: booleans of top-level metadata fields as "true"/"false" strings. Edge's Python
#: binding turns ``MatchValue(True)`` into the integer 1, which never matches a stored boolean, so
#: boolean equality is matched on this shadow copy instead. Never read back into metadata.
BOOL_KEY = "vecbridge_bools"
#: Key of the collection spec in Qdrant's collection metadata (server) or sidecar (Edge).
SPEC_KEY = "vecbridge"


def point_id_of(record_id: str) -> str:
    return point_uuid(record_id)


def payload_of(record: Record, *, bool_shadow: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {TEXT_KEY: record.text, METADATA_KEY: record.metadata, ID_KEY: record.id}
    if bool_shadow:
        bools = {k: _bool_strings(v) for k, v in record.metadata.items()}
        bools = {k: v for k, v in bools.items() if v is not None}
        if bools:
            payload[BOOL_KEY] = bools
    return payload


def _bool_strings(value: Any) -> str | list[str] | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        found = [("true" if v else "false") for v in value if isinstance(v, bool)]
        return found or None
    return None


def bool_path(field: str) -> str:
    return f'{BOOL_KEY}."{field}"'


def _user_id(point_id: Any, payload: dict[str, Any]) -> str:
    original = payload.get(ID_KEY)
    return str(original) if original is not None else str(point_id)


def _vector_of(vector: Any) -> list[float] | None:
    if vector is None:
        return None
    if isinstance(vector, dict):  # named vectors: ours is the unnamed default ""
        vector = vector.get("", next(iter(vector.values()), None))
    return [float(x) for x in vector] if vector is not None else None


def record_from_point(point_id: Any, payload: dict[str, Any] | None, vector: Any) -> Record:
    payload = payload or {}
    metadata = payload.get(METADATA_KEY)
    return Record(
        id=_user_id(point_id, payload),
        vector=_vector_of(vector) or [],
        text=payload.get(TEXT_KEY),
        metadata=dict(metadata) if isinstance(metadata, dict) else {},
    )


def score_of(metric: Metric, raw: float) -> float:
    """Qdrant returns similarity for cosine and dot, and the L2 distance for euclid."""
    return -float(raw) if metric is Metric.EUCLIDEAN else float(raw)


def hit_from_point(
    metric: Metric, point_id: Any, score: float, payload: dict[str, Any] | None, vector: Any
) -> Hit:
    rec = record_from_point(point_id, payload, vector)
    return Hit(rec.id, score_of(metric, score), rec.text, rec.metadata, _vector_of(vector))


def metadata_path(field: str) -> str:
    """JSON path of a metadata field. Quoted so keys with spaces, dashes or non-ASCII letters
    work; a key containing a double quote cannot be addressed in Qdrant's path syntax."""
    return f'{METADATA_KEY}."{field}"'


def scroll_pages(scroll: Callable[[Any], tuple[list[Any], Any]], cursor: str | None) -> Iterator[ScanPage]:
    """Turn Qdrant's scroll (``scroll(offset) -> (points, next_offset)``, client or Edge) into
    scan pages whose cursor is the next page's first point id, so a scan resumes exactly there."""
    offset: Any = parse_cursor(cursor)
    while True:
        points, nxt = scroll(offset)
        records = [record_from_point(p.id, p.payload, p.vector) for p in points]
        next_cursor = None if nxt is None else str(nxt)
        if records or next_cursor is None:
            yield ScanPage(records, next_cursor)
        if nxt is None:
            return
        offset = nxt


def parse_cursor(cursor: str | None) -> int | str | None:
    """Qdrant point ids are unsigned ints or UUID strings; a scan cursor is one of them as text."""
    if cursor is None:
        return None
    return int(cursor) if cursor.isdigit() else cursor


def spec_to_json(spec: CollectionSpec) -> str:
    return json.dumps(spec.to_dict())


def spec_from_json(text: str | dict[str, Any]) -> CollectionSpec:
    return CollectionSpec.from_dict(json.loads(text) if isinstance(text, str) else text)
