"""Where collections live: one index per collection (the default, ``per_index``), or one
namespace per collection inside a shared index (``?index=NAME``, ``shared_index``). Both answer
the same questions, as plans; :class:`Place` says where one collection's (and tenant's) records
are, computed from the spec alone, so data calls need no look-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from vecbridge.core.driver import Target
from vecbridge.core.errors import StoreError
from vecbridge.core.models import CollectionSpec, Metric

from .plan import Plan
from .sdk import vector_shape
from .storage import from_pinecone_metric, storage_metric, unit_vectors

__all__ = ["Adopted", "Layout", "Place", "place_of", "shape_of"]


@dataclass(frozen=True)
class Adopted:
    """Records another tool wrote (``foreign``): the metadata key holding the text (None: no
    text), and the keys read as metadata (None: every other key)."""

    text_key: str | None
    metadata_keys: tuple[str, ...] | None


@dataclass(frozen=True)
class Place:
    """The records of one collection (and tenant): their index and namespace ("" = default),
    the index metric (for scores), whether vectors are kept as unit vectors and whether records
    carry keyword (sparse) vectors. ``adopted``: the layout of an index made by another tool
    (None: records vecbridge wrote)."""

    index: str
    namespace: str
    metric: str
    unit: bool
    sparse: bool
    adopted: Adopted | None = None


def place_of(target: Target, index: str, namespace: str) -> Place:
    spec = target.spec
    return Place(index, namespace, storage_metric(spec), unit_vectors(spec), spec.hybrid)


def shape_of(model: Any, index: str, *, unit: bool = False) -> tuple[int, Metric]:
    """(dimension, collection metric) of a vectors-API index, or ``StoreError`` for any other."""
    shape = vector_shape(model)
    metric = from_pinecone_metric(shape[1], unit=unit) if shape else None
    if shape is None or metric is None:
        raise StoreError(
            f"index {index!r} is not a dense vectors-API index with a cosine, dotproduct or euclidean metric "
            "(sparse, integrated-embedding and document indexes are not supported): use another name"
        )
    return shape[0], metric


class Layout(Protocol):
    def list_names(self) -> Plan[list[str]]: ...
    def describe(self, name: str) -> Plan[CollectionSpec | None]: ...
    def create(self, spec: CollectionSpec) -> Plan[None]: ...
    def drop(self, name: str) -> Plan[bool]: ...
    def place(self, target: Target) -> Place: ...
