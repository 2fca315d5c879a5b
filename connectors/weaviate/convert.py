"""Batches and Weaviate objects: properties, typed filter values, date shadows, records, scores."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from weaviate.classes.data import DataObject

from vecbridge.core.dates import date_shadow
from vecbridge.core.driver import Batch
from vecbridge.core.errors import InvalidInput, StoreError
from vecbridge.core.filters import is_absent
from vecbridge.core.ids import point_uuid
from vecbridge.core.models import Metric, Record

from .schema import ID_PROP, KEYS_PROP, META_PROP, TEXT_PROP, VECTOR_NAME, filter_property

__all__ = [
    "PreparedBatch",
    "distance_to_score",
    "index_value",
    "prepare_batch",
    "record_from_object",
    "scalar_kind",
    "vector_argument",
    "wrap_text",
]


def wrap_text(value: str) -> str:
    """How a string is indexed: ``field`` tokenization trims whitespace, the wrapping keeps it."""
    return f"|{value}|"


def scalar_kind(value: Any) -> str | None:
    """``number``, ``text`` or ``bool`` for filterable scalars; None for null, lists, objects."""
    if isinstance(value, bool):  # before int: bool is an int in Python, never in the filter language
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    return None


def index_value(kind: str, value: Any, *, where: str = "filter") -> Any:
    """The value as stored in (and compared against) the typed filter property of ``kind``.

    Numbers are float64. -0.0 becomes 0.0: the two are equal in the filter language, and Weaviate
    before 1.38.0 encoded a stored -0.0 apart from 0.0 in its inverted index, so ``x == 0`` missed
    it and ``x < 0`` found it. 1.38.0 normalises it the same way on the server, so every version
    then answers alike.
    """
    if kind in ("number", "date"):
        try:
            number = float(value)
        except OverflowError:
            raise InvalidInput(
                f"{where}: the integer {value} is beyond float64, the range Weaviate can filter on; "
                "store it as a string"
            ) from None
        return 0.0 if number == 0 else number
    if kind == "text":
        return wrap_text(value)
    return bool(value)


@dataclass
class PreparedBatch:
    """A batch as Weaviate objects, and the typed filter properties they need in the schema."""

    objects: list[DataObject[dict[str, Any], None]]
    needs: dict[str, str] = field(default_factory=dict)  # property name -> kind


def vector_argument(row: np.ndarray) -> Any:
    """A float32 row as the client takes it. The client packs numpy rows itself
    (``squeeze().tolist()``), which turns a row of one value into a bare float: only that case
    goes as a list."""
    return row if row.shape[0] > 1 else row.tolist()


def _properties(record_id: str, text: str | None, metadata: Mapping[str, Any], needs: dict[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {ID_PROP: record_id}
    if text is not None:
        props[TEXT_PROP] = text
    if not metadata:
        return props
    props[META_PROP] = json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))
    present: list[str] = []
    typed: dict[str, list[Any]] = {}
    for key, value in metadata.items():
        if is_absent(value):
            continue
        present.append(wrap_text(key))
        for element in value if isinstance(value, (list, tuple)) else [value]:
            kind = scalar_kind(element)
            if kind is None:  # nested objects/lists: present, but not filterable
                continue
            name = filter_property(key, kind)
            needs[name] = kind
            typed.setdefault(name, []).append(
                index_value(kind, element, where=f"record {record_id!r}: metadata[{key!r}]")
            )
    for key, instants in date_shadow(metadata).items():
        name = filter_property(key, "date")
        needs[name] = "date"
        typed[name] = [index_value("date", t) for t in (instants if isinstance(instants, list) else [instants])]
    if present:
        props[KEYS_PROP] = present
    props.update(typed)
    return props


def prepare_batch(batch: Batch) -> PreparedBatch:
    """A validated batch as Weaviate objects (see the package docstring for the layout)."""
    needs: dict[str, str] = {}
    objects = [
        DataObject(
            properties=_properties(rid, batch.texts[i], batch.metadata[i], needs),
            uuid=point_uuid(rid),
            vector={VECTOR_NAME: vector_argument(batch.vectors[i])},
        )
        for i, rid in enumerate(batch.ids)
    ]
    return PreparedBatch(objects, needs)


def _vector_of(vectors: Mapping[str, Any] | None) -> list[float] | None:
    if not vectors:
        return None
    vec = vectors.get(VECTOR_NAME)
    if vec is None and len(vectors) == 1:  # a collection made outside vecbridge, one unnamed vector
        vec = next(iter(vectors.values()))
    return [float(x) for x in vec] if vec is not None else None


def record_from_object(uuid: Any, properties: Mapping[str, Any], vectors: Mapping[str, Any] | None) -> Record:
    """Rebuild the user's record. Objects written by other tools get their uuid as id."""
    raw_meta = properties.get(META_PROP)
    try:
        metadata = json.loads(raw_meta) if raw_meta else {}
    except ValueError as exc:
        raise StoreError(f"object {uuid}: its {META_PROP} property is not the JSON vecbridge writes ({exc})") from None
    record_id = properties.get(ID_PROP) or str(uuid)
    text = properties.get(TEXT_PROP)
    return Record(str(record_id), _vector_of(vectors) or [], text if text else None, metadata)


def distance_to_score(distance: float, metric: Metric) -> float:
    """Weaviate's distance -> the core's similarity (higher is more similar).

    cosine: distance = 1 - cos; dot: distance = -dot; l2-squared: distance = |a - b|^2, and the
    core reports the negated L2 distance, hence the square root.
    """
    if metric is Metric.COSINE:
        return max(-1.0, min(1.0, 1.0 - distance))
    if metric is Metric.DOT:
        return -distance
    return -math.sqrt(max(distance, 0.0))
