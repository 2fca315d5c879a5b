"""``Record``/``Hit`` <-> Weaviate objects: uuids, properties, typed filter values, scores."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from weaviate.classes.data import DataObject

from vecbridge.core.errors import InvalidInput, StoreError
from vecbridge.core.filters import is_absent
from vecbridge.core.ids import point_uuid
from vecbridge.core.models import Hit, Metric, Record
from vecbridge.core.validation import as_float_list

from .schema import ID_PROP, KEYS_PROP, META_PROP, TEXT_PROP, VECTOR_NAME, filter_property

__all__ = [
    "PreparedObject",
    "distance_to_score",
    "hit_from_object",
    "index_value",
    "prepare",
    "record_from_object",
    "scalar_kind",
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
    """The value as stored in (and compared against) the typed filter property of ``kind``."""
    if kind == "number":
        try:
            return float(value)
        except OverflowError:
            raise InvalidInput(
                f"{where}: the integer {value} is beyond float64, the range Weaviate can filter on; "
                "store it as a string"
            ) from None
    if kind == "text":
        return wrap_text(value)
    return bool(value)


@dataclass
class PreparedObject:
    """One record ready for Weaviate, and the typed filter properties it needs in the schema."""

    record_id: str
    data: DataObject[dict[str, Any], None]
    needs: dict[str, str] = field(default_factory=dict)  # property name -> kind


def prepare(record: Record) -> PreparedObject:
    """A validated record as a Weaviate object (see the package docstring for the layout)."""
    props: dict[str, Any] = {ID_PROP: record.id}
    if record.text is not None:
        props[TEXT_PROP] = record.text
    needs: dict[str, str] = {}
    if record.metadata:
        props[META_PROP] = json.dumps(record.metadata, ensure_ascii=False, separators=(",", ":"))
        present: list[str] = []
        typed: dict[str, list[Any]] = {}
        for key, value in record.metadata.items():
            if is_absent(value):
                continue
            present.append(wrap_text(key))
            elements = value if isinstance(value, (list, tuple)) else [value]
            for element in elements:
                kind = scalar_kind(element)
                if kind is None:  # nested objects/lists: present, but not filterable
                    continue
                name = filter_property(key, kind)
                needs[name] = kind
                typed.setdefault(name, []).append(
                    index_value(kind, element, where=f"record {record.id!r}: metadata[{key!r}]")
                )
        if present:
            props[KEYS_PROP] = present
        props.update(typed)
    vector = as_float_list(record.vector)
    data = DataObject(properties=props, uuid=point_uuid(record.id), vector={VECTOR_NAME: vector})
    return PreparedObject(record.id, data, needs)


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


def hit_from_object(
    uuid: Any,
    properties: Mapping[str, Any],
    vectors: Mapping[str, Any] | None,
    distance: float | None,
    metric: Metric,
    include_vector: bool,
) -> Hit:
    if distance is None:
        raise StoreError(f"Weaviate returned hit {uuid} without a distance: cannot score it")
    rec = record_from_object(uuid, properties, vectors if include_vector else None)
    vector: Sequence[float] | None = rec.vector if include_vector and rec.vector else None
    return Hit(rec.id, distance_to_score(distance, metric), rec.text, rec.metadata, list(vector) if vector else None)
