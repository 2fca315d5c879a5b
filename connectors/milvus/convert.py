"""Records to Milvus rows and Milvus results back to records and hits (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from vecbridge.core.driver import Batch, SearchMode, Target
from vecbridge.core.models import Hit, Metric, Record
from vecbridge.core.validation import as_float_list

from .schema import (
    FILTER_FIELD,
    ID_FIELD,
    MAX_TEXT_BYTES,
    METADATA_FIELD,
    TENANT_FIELD,
    TEXT_FIELD,
    VECTOR_FIELD,
)
from .shadow import filter_index, json_size

__all__ = [
    "MAX_JSON_BYTES",
    "TENANT_SEPARATOR",
    "check_record",
    "hit_from_result",
    "output_fields",
    "primary_key",
    "record_from_row",
    "row_bytes",
    "rows",
]

#: Milvus's limit on one JSON field value, in bytes.
MAX_JSON_BYTES = 65_536
#: Between tenant and id in the primary key of a multi-tenant collection (never in a tenant name).
TENANT_SEPARATOR = "/"


def primary_key(target: Target, record_id: str) -> str:
    return record_id if target.tenant is None else f"{target.tenant}{TENANT_SEPARATOR}{record_id}"


def _record_id(target: Target, key: str) -> str:
    return key if target.tenant is None else key.partition(TENANT_SEPARATOR)[2]


def check_record(record: Record) -> list[str]:
    """Milvus's own limits, checked before anything is sent: text within a VARCHAR, metadata and
    its filter index within a JSON field."""
    problems = []
    text_bytes = len(record.text.encode("utf-8")) if record.text is not None else 0
    if text_bytes > MAX_TEXT_BYTES:
        problems.append(
            f"record {record.id!r}: text is {text_bytes:,} bytes of UTF-8, more than Milvus's VARCHAR limit of "
            f"{MAX_TEXT_BYTES:,}: split it into several records"
        )
    metadata = record.metadata or {}
    metadata_bytes = json_size(metadata)
    if metadata_bytes > MAX_JSON_BYTES:
        problems.append(
            f"record {record.id!r}: metadata is {metadata_bytes:,} bytes as JSON, more than Milvus's JSON field "
            f"limit of {MAX_JSON_BYTES:,}: keep large values elsewhere and store a reference"
        )
    elif json_size(filter_index(metadata)) > MAX_JSON_BYTES:
        problems.append(
            f"record {record.id!r}: its metadata has too many distinct values to index for filters within Milvus's "
            f"JSON field limit of {MAX_JSON_BYTES:,} bytes: shorten long lists"
        )
    return problems


def rows(target: Target, batch: Batch) -> Iterator[dict[str, Any]]:
    """One Milvus row per record; vectors stay float32 numpy rows (pymilvus takes them)."""
    for i, record_id in enumerate(batch.ids):
        metadata = batch.metadata[i]
        row: dict[str, Any] = {
            ID_FIELD: primary_key(target, record_id),
            VECTOR_FIELD: batch.vectors[i],
            TEXT_FIELD: batch.texts[i] or "",
            METADATA_FIELD: metadata,
            FILTER_FIELD: filter_index(metadata),
        }
        if target.tenant is not None:
            row[TENANT_FIELD] = target.tenant
        yield row


def row_bytes(row: Mapping[str, Any]) -> int:
    """About how many bytes a row takes in an insert request (to keep requests under Milvus's limit)."""
    return (
        len(row[ID_FIELD]) * 4
        + int(row[VECTOR_FIELD].nbytes)
        + len(row[TEXT_FIELD]) * 4
        + json_size(row[METADATA_FIELD])
        + json_size(row[FILTER_FIELD])
        + 64
    )


def output_fields(include_vectors: bool) -> list[str]:
    fields = [ID_FIELD, TEXT_FIELD, METADATA_FIELD]
    return [*fields, VECTOR_FIELD] if include_vectors else fields


def _vector(entity: Mapping[str, Any], include_vectors: bool) -> list[float] | None:
    return as_float_list(entity[VECTOR_FIELD]) if include_vectors else None


def record_from_row(target: Target, row: Mapping[str, Any], include_vectors: bool) -> Record:
    return Record(
        _record_id(target, row[ID_FIELD]),
        _vector(row, include_vectors) or [],
        row.get(TEXT_FIELD) or None,
        dict(row.get(METADATA_FIELD) or {}),
    )


def _score(metric: Metric, mode: SearchMode, distance: float) -> float:
    """Milvus's "distance" in vecbridge's convention (higher is more similar)."""
    if mode is SearchMode.KEYWORD:
        # BM25 scores are never negative. Milvus returns them as they are; Milvus Lite 3.2 returns
        # them negated ("smaller is better" inside its engine): the magnitude is the score on both.
        return abs(distance)
    if metric is Metric.EUCLIDEAN:
        return -math.sqrt(max(distance, 0.0))  # Milvus's L2 "distance" is the squared distance
    return distance  # COSINE and IP: the similarity itself


def hit_from_result(target: Target, hit: Mapping[str, Any], mode: SearchMode, include_vectors: bool) -> Hit:
    entity = hit["entity"]
    return Hit(
        _record_id(target, hit["id"]),
        _score(target.spec.metric, mode, float(hit["distance"])),
        entity.get(TEXT_FIELD) or None,
        dict(entity.get(METADATA_FIELD) or {}),
        _vector(entity, include_vectors),
    )
