"""Classes made by other tools (``Store.adopt``): their layout, read from the class's schema, and
their objects as records.

A foreign class keeps one record per object: the id is the object's uuid (as a lower-case string),
the text is one text property (``Adoption.text``; ``text`` for the ``langchain`` preset, which is
where langchain-weaviate keeps it) and the metadata is a set of properties, each under its own
name (``Adoption.metadata_fields``; by default every other property of a type vecbridge can read
back and filter: text, int, number, boolean, date, uuid and their arrays). The vector is the
class's own (unnamed) vector, or one named vector (``Adoption.vector``).

Values come back as Weaviate returns them, in JSON types: dates as RFC 3339 strings in UTC with a
``Z`` (what Weaviate stores is the instant, not the text it was given), uuids as lower-case
strings, nulls and empty arrays left out (Weaviate does not tell them apart from a missing
property).
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vecbridge.core.driver import Adoption
from vecbridge.core.errors import InvalidInput, UnsupportedFeature
from vecbridge.core.filters import is_absent
from vecbridge.core.models import CollectionSpec, Record

from .schema import class_name, metric_of

__all__ = [
    "LEGACY_VECTOR",
    "SCALAR_TYPES",
    "ForeignClass",
    "ForeignProperty",
    "canonical_date",
    "canonical_uuid",
    "foreign_class",
    "foreign_record",
    "native_class",
    "spec_of",
]

#: The property types read back as JSON scalars (or lists of them) and filtered exactly.
SCALAR_TYPES = frozenset({"text", "int", "number", "boolean", "date", "uuid"})
#: Text properties of the ``langchain`` preset (langchain-weaviate's ``text_key``).
_PRESET_TEXT = {"langchain": "text"}
#: The key under which weaviate-client returns a class's unnamed vector.
LEGACY_VECTOR = "default"


@dataclass(frozen=True)
class ForeignProperty:
    """One metadata property: its name, base type (``int``, ``text`` ...), whether it is an array,
    its tokenization (text) and which filters its inverted index answers."""

    name: str
    base: str
    array: bool
    tokenization: str | None
    filterable: bool
    rangeable: bool


@dataclass(frozen=True)
class ForeignClass:
    """How one adopted class is read. ``vector``: the named vector, or None for the class's own."""

    cls: str
    text: str | None
    metadata: Mapping[str, ForeignProperty]
    vector: str | None
    null_state: bool

    @property
    def return_properties(self) -> list[str]:
        return ([self.text] if self.text else []) + list(self.metadata)


def _property(prop: Any) -> ForeignProperty:
    data_type = str(getattr(prop.data_type, "value", prop.data_type))
    tokenization = getattr(prop, "tokenization", None)
    return ForeignProperty(
        name=str(prop.name),
        base=data_type.removesuffix("[]"),
        array=data_type.endswith("[]"),
        tokenization=str(getattr(tokenization, "value", tokenization)) if tokenization is not None else None,
        filterable=bool(prop.index_filterable),
        rangeable=bool(getattr(prop, "index_range_filters", False)),
    )


def _check_fields(adoption: Adoption) -> None:
    for field in ("id", "metadata"):
        if getattr(adoption, field) is not None:
            raise InvalidInput(
                f"Adoption.{field} does not apply to Weaviate: an adopted object's id is its uuid and its "
                "metadata are its properties (name them with metadata_fields)"
            )
    if adoption.preset is not None and adoption.preset not in _PRESET_TEXT:
        raise UnsupportedFeature(
            f"the Weaviate connector has no {adoption.preset!r} preset: use preset='langchain' "
            "(langchain-weaviate) or name the layout with text=, metadata_fields= and vector="
        )


def _vector_of(config: Any, cls: str, wanted: str | None) -> tuple[str | None, Any]:
    """(named vector or None for the class's own, its vector index config)."""
    named = dict(getattr(config, "vector_config", None) or {})
    if named:
        if wanted is None and len(named) == 1:
            wanted = next(iter(named))
        if wanted is None or wanted not in named:
            raise InvalidInput(
                f"Weaviate class {cls!r} has the named vectors {sorted(named)}: "
                + ("choose one with vector=" if wanted is None else f"it has no vector {wanted!r}")
            )
        return wanted, named[wanted].vector_index_config
    if wanted is not None and wanted != LEGACY_VECTOR:
        raise InvalidInput(f"Weaviate class {cls!r} has one unnamed vector and no vector {wanted!r}: drop vector=")
    return None, getattr(config, "vector_index_config", None)


def foreign_class(config: Any, adoption: Adoption) -> tuple[ForeignClass, str]:
    """The layout of the class ``config`` describes, as ``adoption`` names it, and the distance of
    its vector index (raises ``InvalidInput`` naming what does not fit)."""
    _check_fields(adoption)
    cls = str(config.name)
    properties = {str(p.name): _property(p) for p in config.properties}
    text = adoption.text or _PRESET_TEXT.get(adoption.preset or "")
    if text is not None and (text not in properties or properties[text].base != "text" or properties[text].array):
        raise InvalidInput(
            f"Weaviate class {cls!r} has no text property {text!r} (its properties: {sorted(properties)}): "
            "name its text property with text="
        )
    if adoption.metadata_fields:
        unknown = [f for f in adoption.metadata_fields if f not in properties or f == text]
        if unknown:
            raise InvalidInput(
                f"metadata_fields {unknown} are not properties of Weaviate class {cls!r} besides its text "
                f"(its properties: {sorted(properties)})"
            )
        odd = [f for f in adoption.metadata_fields if properties[f].base not in SCALAR_TYPES]
        if odd:
            raise InvalidInput(
                f"metadata_fields {odd} of Weaviate class {cls!r} are not of a type vecbridge reads as metadata "
                f"({', '.join(sorted(SCALAR_TYPES))} and their arrays)"
            )
        chosen = list(adoption.metadata_fields)
    else:
        chosen = [p for p, found in properties.items() if p != text and found.base in SCALAR_TYPES]
    vector, index = _vector_of(config, cls, adoption.vector)
    inverted = getattr(config, "inverted_index_config", None)
    layout = ForeignClass(
        cls=cls,
        text=text,
        metadata={p: properties[p] for p in chosen},
        vector=vector,
        null_state=bool(getattr(inverted, "index_null_state", False)),
    )
    distance = getattr(index, "distance_metric", None)
    return layout, str(getattr(distance, "value", distance))


def spec_of(name: str, config: Any, distance: str, dimension: int) -> CollectionSpec:
    metric = metric_of(distance)
    if metric is None:
        raise UnsupportedFeature(
            f"Weaviate class {config.name!r} uses distance {distance!r}: vecbridge reads cosine, dot and "
            "l2-squared indexes only"
        )
    tenancy = getattr(config, "multi_tenancy_config", None)
    return CollectionSpec(name, dimension, metric, multi_tenant=bool(getattr(tenancy, "enabled", False)))


def native_class(name: str, adoption: Adoption) -> str:
    """The class to adopt: ``native`` as given, else the class the vecbridge name maps to."""
    return adoption.native if adoption.native else class_name(name)


def canonical_date(value: dt.datetime) -> str:
    """A Weaviate date as an RFC 3339 string in UTC: ``2024-01-02T03:04:05Z`` (microseconds when set)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def canonical_uuid(value: str) -> str | None:
    """``value`` if it is a uuid in the lower-case form reads return, else None."""
    try:
        return value if str(uuid_module.UUID(value)) == value else None
    except (ValueError, TypeError, AttributeError):
        return None


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return canonical_date(value)
    if isinstance(value, uuid_module.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def _vector(layout: ForeignClass, vectors: Mapping[str, Any] | None) -> list[float]:
    if not vectors:
        return []
    found = vectors.get(layout.vector or LEGACY_VECTOR)
    return [float(x) for x in found] if found is not None else []


def foreign_record(layout: ForeignClass, uuid: Any, properties: Mapping[str, Any], vectors: Any) -> Record:
    """An object of an adopted class as a record (see the module docstring)."""
    text = properties.get(layout.text) if layout.text else None
    metadata = {
        p: _json_value(properties[p]) for p in layout.metadata if p in properties and not is_absent(properties[p])
    }
    return Record(str(uuid), _vector(layout, vectors), text if isinstance(text, str) else None, metadata)
